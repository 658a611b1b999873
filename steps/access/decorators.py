"""Role checks for page views. Reads (GET, HEAD, OPTIONS) stay open to every signed-in role, so one
decorator covers a view that both shows a widget and changes it (the vote)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from .roles import MANAGER_REFUSED, VIEWER_REFUSED, RoleRequired, can_manage, can_review

READ_METHODS = ("GET", "HEAD", "OPTIONS")


def _writes_need(check: Callable, message: str):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method not in READ_METHODS and not check(request.user):
                raise RoleRequired(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


reviewer_required = _writes_need(can_review, VIEWER_REFUSED)
manager_required = _writes_need(can_manage, MANAGER_REFUSED)
