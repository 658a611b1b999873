"""Requests per token (or per signed-in user), counted in a cache every web worker shares.

The default cache is per process (LocMem): with four gunicorn workers a limit there would be four
limits. The `api-throttle` cache (dashboard/settings.py) is Redis when the broker is Redis, else
a file cache under var/, which the processes of one machine share.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from ..models import ApiToken


class PerTokenThrottle(SimpleRateThrottle):
    scope = "api"

    def __init__(self):
        self.cache = caches["api-throttle"]
        super().__init__()

    def get_rate(self) -> str | None:
        # Read per request (not frozen at import) so an operator's setting and a test's override apply.
        return settings.API_THROTTLE_RATE or None

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"anon:{self.get_ident(request)}"
        return f"api-throttle:{ident}"
