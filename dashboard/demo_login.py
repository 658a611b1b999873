"""The sign-in page of a fresh `make run` says whom to sign in as and where the password is.

`manage.py serve` creates the first user, `admin`, with a random password that it prints once in
its terminal, and records a digest of that password's hash under VAR_DIR. The sign-in page shows
the hint while `admin` is the only user and still has that password; never once the password was
changed or another user exists, nor on a server that `serve` did not set up (no record). The hint
names the user only: the password stays in the terminal.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

RECORD = "generated_admin_password"
USERNAME = "admin"


def _digest(password_hash: str) -> str:
    # a digest, not the hash: a copy of the hash on disk would be one more to keep safe
    return hashlib.sha256(password_hash.encode()).hexdigest()


def remember_generated_admin(user) -> None:
    (settings.VAR_DIR / RECORD).write_text(_digest(user.password))


def generated_admin_unchanged() -> bool:
    try:
        recorded = (settings.VAR_DIR / RECORD).read_text().strip()
    except OSError:
        return False
    users = list(get_user_model().objects.only("username", "password")[:2])
    return (
        len(users) == 1
        and users[0].get_username() == USERNAME
        and hmac.compare_digest(_digest(users[0].password), recorded)
    )


def login_context(request) -> dict:
    """What every rendering of the sign-in page needs besides the form: the single sign-on
    button (README, "Single sign-on"), whether passwords are accepted, the demo hint."""
    next_url = request.POST.get("next") or request.GET.get("next", "")
    sso = None
    if settings.OIDC_ISSUER:
        url = reverse("oidc_login") + (f"?{urlencode({'next': next_url})}" if next_url else "")
        sso = {"name": settings.OIDC_PROVIDER_NAME, "url": url}
    return {
        "sso": sso,
        "local_login": settings.LOCAL_LOGIN,
        "next": next_url,
        "demo_admin": settings.LOCAL_LOGIN and generated_admin_unchanged(),
    }


class LoginView(auth_views.LoginView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        return {**context, **login_context(self.request), "next": context.get("next", "")}

    def post(self, request, *args, **kwargs) -> HttpResponse:
        if not settings.LOCAL_LOGIN:
            # refused before any password is checked (nor counted as a failure by axes)
            context = {**login_context(request), "sso_error": "Password sign-in is turned off here."}
            return render(request, "registration/login.html", context, status=403)
        return super().post(request, *args, **kwargs)


@login_not_required
def admin_login(request):
    """With passwords turned off, the admin's sign-in form would only ever fail: send people to
    ours, with its single sign-on button."""
    if not settings.LOCAL_LOGIN:
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"))
    return admin.site.login(request)
