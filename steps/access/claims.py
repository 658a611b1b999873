"""From an identity provider's claims to this product's role and profile. Pure: no Django."""

from __future__ import annotations

from collections.abc import Mapping

ROLES = ("viewer", "reviewer", "manager")  # lowest first, as in roles.py


def claim(claims: Mapping, name: str):
    """The claim `name`; a dotted name reads a nested one (Keycloak's "realm_access.roles") when
    no claim has the name as it is (Auth0's namespaced "https://example.com/roles")."""
    if name in claims:
        return claims[name]
    value = claims
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def role_from_claims(claims: Mapping, claim_name: str, role_map: Mapping[str, str], default: str) -> str:
    """The highest role any value of the claim maps to: through `role_map`, or a value that is a
    role's own name; `default` when none does. The claim may be a string or a list."""
    value = claim(claims, claim_name)
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    ranks = []
    for item in values:
        if not isinstance(item, str):
            continue
        role = role_map.get(item, item if item in ROLES else None)
        if role in ROLES:
            ranks.append(ROLES.index(role))
    return ROLES[max(ranks)] if ranks else default


def profile(claims: Mapping) -> dict[str, str]:
    """Name and email as the user model holds them (cut to its column sizes)."""
    given, family = _text(claims.get("given_name")), _text(claims.get("family_name"))
    if not (given or family) and (name := _text(claims.get("name"))):
        given, _, family = name.partition(" ")
    return {"first_name": given[:150], "last_name": family[:150], "email": _text(claims.get("email"))[:254]}


def username_base(claims: Mapping) -> str:
    """A readable username to start from: preferred_username, the email's local part, else sub."""
    for candidate in (claims.get("preferred_username"), _text(claims.get("email")).partition("@")[0]):
        text = _text(candidate)
        if text:
            return text[:120]
    return _text(claims.get("sub"))[:120] or "user"


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""
