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

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views

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


class LoginView(auth_views.LoginView):
    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "demo_admin": generated_admin_unchanged()}
