"""Single sign-on: mozilla-django-oidc's backend, told where the provider is by discovery, finding
users by their provider identity and setting their role from the provider's claims.

What the library does: the authorization code flow with PKCE, state and nonce (views), the token
request, the ID token's signature against the provider's JWKS, the nonce. What this adds: the ID
token's issuer, audience, expiry and issue time are required and checked too (the library checks
none of them but the expiry), the userinfo answer must be about the same subject, and the user is
found by (issuer, subject), never by email: a provider account carrying a local account's email
address does not take it over.
"""

from __future__ import annotations

import logging
import re

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.utils import timezone
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from . import claims as claim_rules
from . import discovery
from .backends import RoleBackend
from .models import RolePin, SignOnIdentity
from .roles import set_role

log = logging.getLogger(__name__)
CLOCK_SKEW_SECONDS = 60


class OIDCBackend(OIDCAuthenticationBackend):
    def __init__(self, *args, **kwargs):
        # Django makes a backend for every request of a signed-in user (get_user): nothing here
        # may reach the provider. The endpoints are read when a sign-in needs them (below).
        self.UserModel = get_user_model()

    # The library reads these as attributes; they come from settings and discovery.
    OIDC_RP_CLIENT_ID = property(lambda self: settings.OIDC_RP_CLIENT_ID)
    OIDC_RP_CLIENT_SECRET = property(lambda self: settings.OIDC_RP_CLIENT_SECRET)
    OIDC_RP_SIGN_ALGO = property(lambda self: settings.OIDC_RP_SIGN_ALGO)
    OIDC_RP_IDP_SIGN_KEY = None
    OIDC_OP_TOKEN_ENDPOINT = property(lambda self: discovery.provider().token_endpoint)
    OIDC_OP_USER_ENDPOINT = property(lambda self: discovery.provider().userinfo_endpoint)
    OIDC_OP_JWKS_ENDPOINT = property(lambda self: discovery.provider().jwks_uri)

    def authenticate(self, request, **kwargs):
        # Only the callback view passes nonce and code_verifier: a password form posted to a URL
        # carrying ?code=&state= must not start a token exchange.
        if not discovery.enabled() or request is None or "nonce" not in kwargs:
            return None
        return super().authenticate(request, **kwargs)

    def get_user(self, user_id):
        # With single sign-on turned off, its sessions end at their next request.
        return RoleBackend.get_user(self, user_id) if discovery.enabled() else None

    async def aget_user(self, user_id):
        return await RoleBackend.aget_user(self, user_id) if discovery.enabled() else None

    # --- the ID token ---------------------------------------------------------------------

    def _verify_jws(self, payload, key):
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation(
                f"The ID token is signed with {header.get('alg')!r}, not {self.OIDC_RP_SIGN_ALGO}."
            )
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=settings.OIDC_RP_CLIENT_ID,
                issuer=discovery.provider().issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except jwt.InvalidTokenError as exc:
            raise SuspiciousOperation(f"The ID token was refused: {exc}.") from None

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims with the userinfo endpoint's on top (groups are often only in one
        of the two); the userinfo answer must be about the ID token's subject (OpenID Connect Core, section 5.3.2)."""
        merged = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            info = super().get_userinfo(access_token, id_token, payload)
            if not isinstance(info, dict) or info.get("sub") != payload.get("sub"):
                raise SuspiciousOperation("The userinfo answer is about another subject than the ID token.")
            merged.update(info)
        return merged

    # --- the local user -------------------------------------------------------------------

    def verify_claims(self, claims):
        return isinstance(claims.get("sub"), str) and bool(claims["sub"])

    def filter_users_by_claims(self, claims):
        return self.UserModel.objects.filter(
            sign_on_identities__issuer=discovery.provider().issuer,
            sign_on_identities__subject=claims["sub"],
        )

    @transaction.atomic
    def create_user(self, claims):
        user = self.UserModel(username=_free_username(self.UserModel, claim_rules.username_base(claims)))
        user.set_unusable_password()  # signs in through the provider only
        user.save()
        SignOnIdentity.objects.create(user=user, issuer=discovery.provider().issuer, subject=claims["sub"])
        return self.update_user(user, claims)

    @transaction.atomic
    def update_user(self, user, claims):
        """Name, email and (unless a manager pinned it) role follow the provider at each sign-in."""
        fields = claim_rules.profile(claims)
        changed = [name for name, value in fields.items() if value and getattr(user, name) != value]
        for name in changed:
            setattr(user, name, fields[name])
        if changed:
            user.save(update_fields=changed)
        SignOnIdentity.objects.filter(
            user=user, issuer=discovery.provider().issuer, subject=claims["sub"]
        ).update(last_sign_in_at=timezone.now())
        if not RolePin.objects.filter(user=user).exists():
            role = claim_rules.role_from_claims(
                claims, settings.OIDC_ROLE_CLAIM, settings.OIDC_ROLE_MAP, settings.OIDC_DEFAULT_ROLE
            )
            set_role(user, role, by_name=f"{settings.OIDC_PROVIDER_NAME} (at sign-in)")
        return user


def _free_username(model, base: str) -> str:
    """`base` made a valid username no one has yet: alice, then alice-2, alice-3 ..."""
    base = re.sub(r"[^\w.@+-]", "-", base).strip("-") or "user"
    taken = set(model.objects.filter(username__startswith=base).values_list("username", flat=True)[:1000])
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
