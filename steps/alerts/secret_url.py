"""Destination URLs are secrets (a Slack or Teams webhook URL is the credential itself).

Stored encrypted (Fernet, from the `cryptography` package, with a key derived from SECRET_KEY),
looked up by an HMAC fingerprint (the same URL given twice is one destination, found without
decrypting anything), and shown only masked: the scheme, and the host where the scheme puts a
host there (for `slack://TokenA/...` the "host" is a token, so nothing after the scheme is
shown). Rotating SECRET_KEY makes stored URLs unreadable: delivery then fails with a message
saying to enter the URL again, never silently.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

# Schemes whose part after "://" is a host name (with optional credentials before an "@"),
# safe to show. Any other apprise scheme may carry a token in that place.
HOST_SCHEMES = {
    "http",
    "https",
    "json",
    "jsons",
    "form",
    "forms",
    "xml",
    "xmls",
    "mailto",
    "mailtos",
    "ntfy",
    "ntfys",
    "gotify",
    "gotifys",
    "matrix",
    "matrixs",
    "mmost",
    "mmosts",
    "rocket",
    "rockets",
}


class UnreadableSecret(Exception):
    """The stored URL cannot be decrypted (SECRET_KEY changed since it was saved)."""


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"alerts.destination:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(url: str) -> str:
    return _fernet().encrypt(url.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise UnreadableSecret(
            "The destination URL cannot be read (the dashboard's SECRET_KEY changed): enter it again."
        ) from exc


def fingerprint(url: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), url.encode(), hashlib.sha256).hexdigest()


def scheme_of(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else ""


def mask(url: str) -> str:
    """`https://hooks.example.com/services/T0/B0/secret` -> `https://hooks.example.com/…`."""
    scheme = scheme_of(url)
    if not scheme:
        return "…"
    if scheme in HOST_SCHEMES:
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
            port = f":{parts.port}" if parts.port else ""
        except ValueError:  # a port out of range, brackets that do not close
            host, port = "", ""
        if host:
            return f"{scheme}://{host}{port}/…"
    return f"{scheme}://…"


def scrub(text: str, url: str) -> str:
    """`text` (an error message from a delivery) without any piece of `url` that could be secret:
    the whole URL, its credentials, and every path or query part of six characters or more."""
    pieces = {url}
    rest = url.split("://", 1)[-1]
    for chunk in rest.replace("@", "/").replace("?", "/").replace("&", "/").replace("=", "/").split("/"):
        for piece in chunk.split(":"):
            if len(piece) >= 6:
                pieces.add(piece)
    host = mask(url).split("://", 1)[-1].removesuffix("/…")
    for piece in sorted(pieces, key=len, reverse=True):
        if piece and piece not in host:
            text = text.replace(piece, "…")
    return text
