"""Requests per token (or per signed-in user), counted in a cache every web worker shares.

The default cache is per process (LocMem): with four gunicorn workers a limit there would be four
limits. The `api-throttle` cache (dashboard/settings.py) is Redis when the broker is Redis, else
a file cache under var/, which the processes of one machine share.

The throttle fails open: when that cache cannot be reached (Redis down or silent past the
cache's socket timeouts), the request is allowed and a warning logged, at most once a minute per
process. A limit nobody can count must not take reads and votes down with it.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import caches
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from ..models import ApiToken

log = logging.getLogger(__name__)

WARN_EVERY_SECONDS = 60.0
_warned_at: float | None = None  # per process, as the warning's reader sees it per log stream


def _warn_unreachable(exc: Exception) -> None:
    global _warned_at
    now = time.monotonic()
    if _warned_at is None or now - _warned_at >= WARN_EVERY_SECONDS:
        _warned_at = now
        log.warning("API throttle cache unreachable (%s): requests are not rate-limited meanwhile.", exc)


class PerTokenThrottle(SimpleRateThrottle):
    scope = "api"

    def __init__(self):
        self.cache = caches["api-throttle"]
        super().__init__()

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as exc:  # Redis, or the file cache's directory
            _warn_unreachable(exc)
            return True

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
