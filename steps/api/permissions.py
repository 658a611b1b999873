"""Who may call what in the API: the same rules as the pages (steps/access/)."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from ..access import MANAGER_REFUSED, VIEWER_REFUSED, can_manage, can_review


class ReviewerWrites(BasePermission):
    """Reads for every role; a write (POST, PUT, PATCH, DELETE) needs the reviewer role. The
    default for every API view, so a new write endpoint is refused to viewers unless it says
    otherwise."""

    message = VIEWER_REFUSED

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or can_review(request.user)


class ManagerWrites(BasePermission):
    """For manager-only writes (queues, rubrics): add to a view's permission_classes."""

    message = MANAGER_REFUSED

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or can_manage(request.user)
