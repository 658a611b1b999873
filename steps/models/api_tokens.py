"""Personal API tokens: a user's bearer keys for scripts, stored as a hash and shown once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

# "lsd_" (Letta steps dashboard) marks our keys so a leaked one is recognisable in a secret
# scanner; 32 random bytes make it unguessable, so one SHA-256 (no salt, no stretching) is
# enough to keep the database from holding a usable key (unlike a password, nothing to brute-force).
KEY_PREFIX = "lsd_"
SHOWN_PREFIX_CHARS = 12  # "lsd_" + 8 characters: enough to tell a user's keys apart, useless to an attacker
# last_used_at is written at most this often per token: a busy script costs no write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=SHOWN_PREFIX_CHARS, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)  # the lookup: unique index
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        # Django would call it "Api token" in the admin
        verbose_name = "API token"
        verbose_name_plural = "API tokens"
        indexes = [
            # the tokens page: a user's tokens, newest first
            models.Index(fields=["user", "-created_at"], name="steps_apitoken_user"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @classmethod
    @transaction.atomic
    def create_for(cls, user, name: str) -> tuple[ApiToken, str]:
        """A new token and its key; the key exists only in this return value. Audited."""
        from .. import audit

        key = KEY_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, key_prefix=key[:SHOWN_PREFIX_CHARS], key_hash=hash_key(key)
        )
        audit.record(user, "token.create", token.audit_target(), None, token.audit_shown())
        return token, key

    def audit_target(self) -> tuple:
        return ("api_token", self.pk, self.name)

    def audit_shown(self) -> dict:
        # the name and the key's visible prefix, never the key or its hash
        return {"name": self.name, "key_prefix": self.key_prefix, "owner": self.user.get_username()}

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def touch(self, now=None) -> None:
        """Record a use, unless one was recorded less than a minute ago (no write per request)."""
        now = now or timezone.now()
        if self.last_used_at and now - self.last_used_at < LAST_USED_RESOLUTION:
            return
        # conditional: concurrent requests of one token write once
        ApiToken.objects.filter(pk=self.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        self.last_used_at = now

    @transaction.atomic
    def revoke(self, by=None) -> bool:
        """Revoke it (audited as done by `by`: the owner, or staff in the admin); False if it was already."""
        from .. import audit

        revoked = ApiToken.objects.filter(pk=self.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        self.refresh_from_db(fields=["revoked_at"])
        if revoked:
            audit.record(
                by, "token.revoke", self.audit_target(), self.audit_shown(), {"revoked_at": self.revoked_at}
            )
        return bool(revoked)
