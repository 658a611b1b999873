"""The request an event is recorded in (its client address), without passing the request down
through every function that changes something: a context variable set by the middleware, so
threads and async tasks each see their own, and a Celery task sees none."""

from __future__ import annotations

from contextvars import ContextVar

from axes.helpers import get_client_ip_address

client_ip: ContextVar[str | None] = ContextVar("audit_client_ip", default=None)


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # the address axes uses, so PROXY_COUNT applies the same way (dashboard/login_throttle.py)
        token = client_ip.set(get_client_ip_address(request))
        try:
            return self.get_response(request)
        finally:
            client_ip.reset(token)
