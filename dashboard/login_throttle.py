"""Login throttling (django-axes): what a locked-out person sees, and whose address counts.

Axes counts failed logins per username and per client address (settings.AXES_*); once either
reaches LOGIN_FAILURE_LIMIT within LOGIN_LOCKOUT_MINUTES, every login form (ours and the
admin's) answers this page instead of checking the password.
"""

from __future__ import annotations

import ipaddress
import math

from axes.helpers import get_client_ip_address, get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


def minutes_left(request: HttpRequest, credentials: dict | None) -> int:
    """Whole minutes until the newest counted failure for this username or address expires."""
    username = get_client_username(request, credentials)
    address = get_client_ip_address(request)
    cool_off = get_cool_off(request)
    newest = AccessAttempt.objects.filter(Q(username=username) | Q(ip_address=address)).aggregate(
        newest=Max("attempt_time")
    )["newest"]
    if newest is None or cool_off is None:
        return math.ceil(settings.LOGIN_LOCKOUT_MINUTES)
    seconds = (newest + cool_off - timezone.now()).total_seconds()
    return max(1, math.ceil(seconds / 60))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The sign-in page with the reason, for /login/ and /admin/login/ alike (HTTP 429)."""
    minutes = minutes_left(request, credentials)
    form = AuthenticationForm(request, initial={"username": get_client_username(request, credentials)})
    from .demo_login import login_context

    context = {
        **login_context(request),
        "form": form,
        "lockout_message": (
            f"Too many failed attempts; try again in {minutes} minute{'s' if minutes != 1 else ''}."
        ),
    }
    return render(request, "registration/login.html", context, status=429)


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or behind PROXY_COUNT reverse proxies the address the outermost one saw.

    Only the entries our own proxies appended to X-Forwarded-For are trusted: a client can
    send any X-Forwarded-For it likes, but it cannot control what comes after it.
    """
    count = settings.PROXY_COUNT
    if count:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= count and _is_ip(forwarded[-count]):
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
