"""What single sign-on keeps about a user: which identity at which provider they are, and
whether a manager pinned their role so the provider no longer changes it."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SignOnIdentity(models.Model):
    """A provider's user (issuer + subject, the OpenID Connect identity: stable, never reused),
    bound to one local user. Sign-ins find the user by this, never by email or username: a
    provider account whose email matches a local account does not take it over."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sign_on_identities"
    )
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "single sign-on identity"
        verbose_name_plural = "single sign-on identities"
        constraints = [
            # the sign-in's lookup, and one local user per provider identity
            models.UniqueConstraint(fields=["issuer", "subject"], name="access_identity_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


class RolePin(models.Model):
    """The user's role stays as set here: single sign-on no longer changes it from the claims."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="role_pin"
    )
    pinned_by = models.CharField(max_length=150, blank=True)
    pinned_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"role of user {self.user_id} pinned by {self.pinned_by}"
