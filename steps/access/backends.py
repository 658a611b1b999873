"""Loads the signed-in user with their role in the same query (see roles.with_role): every page
shows the role and most check it, and none of them pays a query for it. A backend that loads
users itself (a sign-on one) can inherit from this one, or role_of asks the database once."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from .roles import with_role


class RoleBackend(ModelBackend):
    def get_user(self, user_id):
        user = with_role(get_user_model()._default_manager.filter(pk=user_id)).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    async def aget_user(self, user_id):
        user = await with_role(get_user_model()._default_manager.filter(pk=user_id)).afirst()
        return user if user is not None and self.user_can_authenticate(user) else None
