"""Single sign-on's pages: start (to the provider), callback (back from it), and signing out,
which also ends the provider's session where it has an end-session endpoint."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from . import discovery

log = logging.getLogger(__name__)
ID_TOKEN = "oidc_id_token"  # where the library keeps it (OIDC_STORE_ID_TOKEN)


def _refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """The sign-in page with the reason; nobody is signed in."""
    from dashboard.demo_login import login_context  # the login page's own context

    return render(
        request, "registration/login.html", {**login_context(request), "sso_error": message}, status=status
    )


@method_decorator([login_not_required, never_cache], name="dispatch")
class StartView(OIDCAuthenticationRequestView):
    def __init__(self, **kwargs):
        View.__init__(self, **kwargs)  # the library's reads the endpoint from settings; ours below

    def get(self, request):
        if not discovery.enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = discovery.provider().authorization_endpoint
        except discovery.ProviderUnavailable:
            return _refused(
                request,
                f"{settings.OIDC_PROVIDER_NAME} cannot be reached right now; try again in a minute.",
                503,
            )
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


@method_decorator([login_not_required, never_cache], name="dispatch")
class CallbackView(OIDCAuthenticationCallbackView):
    def get(self, request):
        if not discovery.enabled():
            raise Http404("Single sign-on is not configured.")
        if request.GET.get("error"):
            super().get(request)  # drops the state, signs out whoever was signed in
            return _refused(request, f"{settings.OIDC_PROVIDER_NAME} did not sign you in.", 400)
        try:
            return super().get(request)
        except SuspiciousOperation as exc:  # unknown state, a wrong nonce, a bad ID token
            log.warning("single sign-on callback refused: %s", exc)
        except requests.RequestException as exc:  # the code spent, expired or forged; provider down
            log.warning("single sign-on callback failed: %s", _why(exc))
        except discovery.ProviderUnavailable:
            pass  # logged by discovery
        except IntegrityError:  # two first sign-ins of one person at once: the other one won
            log.warning("single sign-on callback raced another first sign-in of the same identity")
        return self.login_failure()

    def login_failure(self):
        return _refused(
            self.request, f"Signing in with {settings.OIDC_PROVIDER_NAME} did not complete. Try again.", 400
        )

    def login_success(self):
        response = super().login_success()
        # a provider session is not re-checked: ours ends after OIDC_SESSION_HOURS
        self.request.session.set_expiry(int(settings.OIDC_SESSION_HOURS * 3600))
        return response


def _why(exc: requests.RequestException) -> str:
    """The provider's OAuth error code (e.g. invalid_grant), never its whole answer."""
    response = exc.response
    if response is None:
        return type(exc).__name__
    try:
        error = response.json().get("error", "")
    except ValueError:
        error = ""
    return f"the provider answered {response.status_code} {str(error)[:60]}".strip()


@require_POST
@login_not_required
def logout(request: HttpRequest) -> HttpResponse:
    """Sign out here, then at the provider when this session came from it and it can."""
    target = _end_session_url(request) if request.session.get(ID_TOKEN) else ""
    auth.logout(request)
    return redirect(target or resolve_url(settings.LOGOUT_REDIRECT_URL))


def _end_session_url(request: HttpRequest) -> str:
    try:
        endpoint = discovery.provider().end_session_endpoint if discovery.enabled() else ""
    except discovery.ProviderUnavailable:
        return ""  # signed out here; the provider's session stays (logged by discovery)
    if not endpoint:
        return ""
    query = urlencode(
        {
            "id_token_hint": request.session[ID_TOKEN],
            "client_id": settings.OIDC_RP_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL)),
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
