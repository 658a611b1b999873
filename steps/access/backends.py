"""Loads the signed-in user with their role in the same query (roles.with_role, as prebuilt SQL
for the one user a request loads: roles.user_with_role): every page
shows the role and most check it, and none of them pays a query for it. A backend that loads
users itself (a sign-on one) can inherit from this one, or role_of asks the database once."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from .roles import user_with_role, with_role


class RoleBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        # LOCAL_LOGIN=0: passwords sign in nobody, on our login page and the admin's alike
        if not settings.LOCAL_LOGIN:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id):
        user = user_with_role(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    async def aget_user(self, user_id):
        user = await with_role(get_user_model()._default_manager.filter(pk=user_id)).afirst()
        return user if user is not None and self.user_can_authenticate(user) else None
