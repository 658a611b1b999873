"""Public share links: a random token, carried in the URL signed, so a forged or mangled URL
is turned away before any query and a leaked database dump alone yields no working link."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core import signing
from django.db import transaction
from django.utils import timezone

from .. import audit
from ..models import ShareLink, Step

SALT = "steps.share"
EXPIRY_CHOICES = {
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
EXPIRY_LABELS = {"1h": "1 hour", "1d": "1 day", "7d": "7 days", "30d": "30 days"}
DEFAULT_EXPIRY = "7d"


def create_link(step: Step, user, expiry: str, *, include_traces: bool = False) -> ShareLink:
    """A new link; by default it shows messages and metrics but not the provider traces."""
    lifetime = EXPIRY_CHOICES.get(expiry, EXPIRY_CHOICES[DEFAULT_EXPIRY])
    with transaction.atomic():
        link = ShareLink.objects.create(
            step=step,
            created_by=user,
            token=secrets.token_urlsafe(32),
            expires_at=timezone.now() + lifetime,
            include_traces=include_traces,
        )
        audit.record(user, "share.create", _target(link), None, _shown(link))
    return link


def _target(link: ShareLink) -> tuple:
    return ("share_link", link.pk, f"link #{link.pk} to {link.step_id}")


def _shown(link: ShareLink) -> dict:
    # never the token: it is the link's secret
    return {"step": link.step_id, "expires_at": link.expires_at, "include_traces": link.include_traces}


def signed_token(link: ShareLink) -> str:
    return signing.Signer(salt=SALT).sign(link.token)


def find_link(signed: str) -> tuple[ShareLink | None, str]:
    """(link, "") when it may be shown, else (link or None, the reason it may not)."""
    try:
        token = signing.Signer(salt=SALT).unsign(signed)
    except signing.BadSignature:
        return None, "invalid"
    link = ShareLink.objects.select_related("step").filter(token=token).first()
    if link is None:
        return None, "invalid"
    if link.revoked_at:
        return link, "revoked"
    if link.expires_at <= timezone.now():
        return link, "expired"
    return link, ""


@transaction.atomic
def revoke(link: ShareLink, user) -> None:
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.revoked_by = user
        link.save(update_fields=["revoked_at", "revoked_by"])
        audit.record(user, "share.revoke", _target(link), _shown(link), {"revoked_at": link.revoked_at})
