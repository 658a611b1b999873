"""Personal API tokens sent as `Authorization: Bearer <key>`; a token acts as its user.

The key is looked up by its SHA-256 (a unique index): the database never holds a usable key,
and because the key is 32 random bytes, a timing difference in that lookup tells an attacker
nothing about any key (they would need a SHA-256 preimage). The stored hash is still compared
with hmac.compare_digest, so no code path compares secrets with `==`.
"""

from __future__ import annotations

import hmac

from rest_framework import authentication, exceptions

from ..models import ApiToken
from ..models.api_tokens import hash_key

MAX_KEY_CHARS = 100  # ours are 47; anything longer is not one and never reaches a query


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None  # no bearer token: session authentication may still apply
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send the token as `Authorization: Bearer <token>`.")
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        if len(key) > MAX_KEY_CHARS:
            raise exceptions.AuthenticationFailed("Invalid token.")
        digest = hash_key(key)
        token = ApiToken.objects.active().select_related("user").filter(key_hash=digest).first()
        if token is None or not hmac.compare_digest(token.key_hash, digest):
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        token.touch()
        return token.user, token

    def authenticate_header(self, request) -> str:
        # Listed first in DEFAULT_AUTHENTICATION_CLASSES, so an anonymous request gets a 401 with this
        # challenge (DRF answers 403 when the first class has no challenge).
        return f'{self.keyword} realm="api"'
