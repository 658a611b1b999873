"""The identity provider's endpoints, from its discovery document
(<OIDC_ISSUER>/.well-known/openid-configuration), fetched when first needed and kept for the
process's life. A failed fetch is retried after RETRY_SECONDS, not on every request."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import httpx
from django.conf import settings

log = logging.getLogger(__name__)
RETRY_SECONDS = 30
REQUIRED = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


class ProviderUnavailable(Exception):
    """The provider's discovery document could not be read or is not usable; the message says why."""


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    end_session_endpoint: str  # "" when the provider has none


_lock = threading.Lock()
_cache: dict[str, Provider] = {}
_failed: dict[str, tuple[float, str]] = {}


def enabled() -> bool:
    return bool(getattr(settings, "OIDC_ISSUER", ""))


def provider() -> Provider:
    issuer = settings.OIDC_ISSUER
    if not issuer:
        raise ProviderUnavailable("Single sign-on is not configured (OIDC_ISSUER is unset).")
    with _lock:
        if issuer in _cache:
            return _cache[issuer]
        failed_at, reason = _failed.get(issuer, (0.0, ""))
        if time.monotonic() - failed_at < RETRY_SECONDS:
            raise ProviderUnavailable(reason)
        try:
            found = _fetch(issuer)
        except ProviderUnavailable as exc:
            _failed[issuer] = (time.monotonic(), str(exc))
            log.error("single sign-on unavailable: %s", exc)
            raise
        _cache[issuer] = found
        _failed.pop(issuer, None)
        return found


def forget() -> None:
    """Drop what was fetched (tests; a provider that moved its endpoints)."""
    with _lock:
        _cache.clear()
        _failed.clear()


def _fetch(issuer: str) -> Provider:
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = httpx.get(url, timeout=settings.OIDC_TIMEOUT, follow_redirects=False)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ProviderUnavailable(
            f"The identity provider's discovery document at {url} could not be read ({exc})."
        ) from None
    if not isinstance(document, dict) or any(not isinstance(document.get(key), str) for key in REQUIRED):
        raise ProviderUnavailable(
            f"{url} is not an OpenID Connect discovery document (it lacks {', '.join(REQUIRED)})."
        )
    # OpenID Connect Discovery, section 4.3: the document must name the issuer it was fetched for, or a
    # look-alike could hand out another provider's endpoints.
    if document["issuer"].rstrip("/") != issuer:
        raise ProviderUnavailable(
            f"{url} names the issuer {document['issuer']!r}, not OIDC_ISSUER {issuer!r}."
        )
    return Provider(
        issuer=document["issuer"],
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        userinfo_endpoint=str(document.get("userinfo_endpoint") or ""),
        jwks_uri=document["jwks_uri"],
        end_session_endpoint=str(document.get("end_session_endpoint") or ""),
    )
