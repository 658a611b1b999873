"""Page reads from a read replica, when DATABASE_REPLICA_URL names one (docs/scaling.md).

Only what cannot go wrong on a replica seconds behind goes there: the mirror's rows (the `steps`
and `review` apps) read by a GET or HEAD request, outside any transaction. Everything else reads
the primary: writes and whatever a transaction reads before it writes (the sync, votes), Celery
tasks (no request), sessions, users and sign-in throttling (a fresh sign-in is not on the replica
yet), and every request for a few seconds after the user's own write, so a reviewer who voted
sees the vote on the page that follows.
"""

from __future__ import annotations

import time
from contextvars import ContextVar

from django.conf import settings
from django.db import connections

REPLICA = "replica"
# apps whose rows pages may read from the replica: mirrored steps and their review state
REPLICA_APPS = frozenset({"steps", "review"})
# a cookie, not the session: a session flag would cost a database write on every vote
WROTE_COOKIE = "primary_until"

_page_read: ContextVar[bool] = ContextVar("replica_page_read", default=False)


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str | None:
        if (
            _page_read.get()
            and model._meta.app_label in REPLICA_APPS
            and not connections["default"].in_atomic_block
        ):
            return REPLICA
        return None  # the primary

    def db_for_write(self, model, **hints) -> str | None:
        return None

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        return True  # the replica is a copy of the primary: the same rows

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool | None:
        return db != REPLICA


def replica_reads(get_response):
    """Marks a request whose mirror reads may use the replica (GET or HEAD, and no write by
    this browser in the last REPLICA_STICKY_SECONDS); after a write, sets the cookie that keeps
    the next requests on the primary."""

    def middleware(request):
        until = request.COOKIES.get(WROTE_COOKIE, "")
        wrote_lately = until.isdigit() and int(until) > time.time()
        token = _page_read.set(request.method in ("GET", "HEAD") and not wrote_lately)
        try:
            response = get_response(request)
        finally:
            _page_read.reset(token)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            sticky = settings.REPLICA_STICKY_SECONDS
            response.set_cookie(
                WROTE_COOKIE,
                str(int(time.time() + sticky)),
                max_age=sticky,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response

    return middleware
