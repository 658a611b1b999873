"""`access` in every template: the user's role and what it allows, worked out when first used."""

from __future__ import annotations

from django.utils.functional import cached_property

from .roles import VIEWER_REFUSED, can_manage, can_review, can_share, role_of


class Access:
    refused = VIEWER_REFUSED

    def __init__(self, user):
        self.user = user

    @cached_property
    def role(self) -> str | None:
        return role_of(self.user)

    @cached_property
    def can_review(self) -> bool:
        return can_review(self.user)

    @cached_property
    def can_manage(self) -> bool:
        return can_manage(self.user)

    @cached_property
    def can_share(self) -> bool:
        return can_share(self.user)


def access(request) -> dict:
    return {"access": Access(getattr(request, "user", None))}
