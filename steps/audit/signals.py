"""Sign-ins and sign-outs, local and single sign-on alike (Django's auth signals). Failed
sign-ins are counted by django-axes (Axes → Access attempts), not here."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from .events import record

# the backend a session was signed in with -> how the trail names it
METHODS = {"steps.access.oidc.OIDCBackend": "single sign-on"}


@receiver(user_logged_in, dispatch_uid="audit_sign_in")
def _signed_in(sender, request, user, **kwargs):
    method = METHODS.get(getattr(user, "backend", ""), "password")
    record(user, "user.sign_in", user, after={"method": method})


@receiver(user_logged_out, dispatch_uid="audit_sign_out")
def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        record(user, "user.sign_out", user)
