"""Start-up checks (`manage.py check`, run by every management command and the server): a sign-on
configuration that cannot work is an error before anyone tries to sign in. No network here: the
provider is read when first needed (discovery.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security)
def sign_on_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    problems: list[checks.CheckMessage] = []
    issuer = settings.OIDC_ISSUER
    if not issuer and not settings.LOCAL_LOGIN:
        problems.append(
            checks.Error(
                "LOCAL_LOGIN is off and OIDC_ISSUER is unset: nobody could sign in.",
                hint="Set OIDC_ISSUER (README, Single sign-on), or LOCAL_LOGIN=1.",
                id="access.E001",
            )
        )
    if not issuer:
        return problems
    parts = urlsplit(issuer)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        problems.append(checks.Error(f"OIDC_ISSUER {issuer!r} is not an issuer URL.", id="access.E002"))
    elif parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        problems.append(
            checks.Warning(
                f"OIDC_ISSUER {issuer!r} is plain HTTP: tokens and the client secret would cross the network unencrypted.",
                hint="Use the provider's https:// issuer URL.",
                id="access.W001",
            )
        )
    if not settings.OIDC_RP_CLIENT_ID or not settings.OIDC_RP_CLIENT_SECRET:
        problems.append(
            checks.Error(
                "OIDC_ISSUER is set but OIDC_CLIENT_ID or OIDC_CLIENT_SECRET is empty.",
                hint="Register a confidential client at the provider (README, Single sign-on).",
                id="access.E003",
            )
        )
    return problems
