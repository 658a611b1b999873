"""From a provider's claims to a role and a profile (pure), and the ID token checks the library
leaves out: issuer, audience, expiry and issue time."""

import time

import jwt
import pytest
from django.core.exceptions import SuspiciousOperation

from steps.access.claims import profile, role_from_claims, username_base
from steps.access.oidc import OIDCBackend
from tests.oidc_fixtures import CLIENT_ID

MAP = {"qa-team": "reviewer", "cn=leads,ou=groups,dc=acme": "manager"}


@pytest.mark.parametrize(
    ("claims", "role"),
    [
        ({"groups": "viewer"}, "viewer"),  # a role's own name, as a string
        ({"groups": ["staff", "qa-team"]}, "reviewer"),  # through the map, in a list
        ({"groups": ["qa-team", "cn=leads,ou=groups,dc=acme", "viewer"]}, "manager"),  # the highest wins
        ({"groups": ["staff"]}, "viewer"),  # nothing matches: the default
        ({}, "viewer"),
        ({"groups": [None, 3, {"x": 1}, "reviewer"]}, "reviewer"),  # junk values are skipped
        ({"groups": {"manager": True}}, "viewer"),  # neither a string nor a list
        ({"groups": "Manager"}, "viewer"),  # exact names only
    ],
)
def test_the_highest_matching_role_wins(claims, role):
    assert role_from_claims(claims, "groups", MAP, "viewer") == role


def test_a_dotted_claim_reads_nested_claims_and_a_namespaced_one_as_it_is():
    keycloak = {"realm_access": {"roles": ["offline_access", "manager"]}}
    assert role_from_claims(keycloak, "realm_access.roles", {}, "viewer") == "manager"
    auth0 = {"https://acme.com/roles": ["reviewer"]}
    assert role_from_claims(auth0, "https://acme.com/roles", {}, "viewer") == "reviewer"


def test_profile_and_username_come_from_the_standard_claims():
    assert profile({"name": "Ada King Lovelace", "email": "ada@example.com"}) == {
        "first_name": "Ada",
        "last_name": "King Lovelace",
        "email": "ada@example.com",
    }
    assert profile({"given_name": "Ada", "family_name": "L", "name": "ignored"})["last_name"] == "L"
    assert username_base({"preferred_username": "ada", "email": "x@y"}) == "ada"
    assert username_base({"email": "ada.l@example.com"}) == "ada.l"
    assert username_base({"sub": "248289761001"}) == "248289761001"


# --- the ID token (HS256 with the client secret, so the test can sign its own tokens) -------------


@pytest.fixture
def backend(sso, settings):
    settings.OIDC_RP_SIGN_ALGO = "HS256"
    return OIDCBackend()


def token(issuer, **override):
    now = int(time.time())
    claims = {"iss": issuer, "aud": CLIENT_ID, "sub": "rex", "iat": now, "exp": now + 300, "nonce": "n"}
    claims.update(override)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, "s" * 32, algorithm="HS256")


def test_a_well_formed_id_token_is_accepted(backend, sso):
    assert backend._verify_jws(token(sso), "s" * 32)["sub"] == "rex"


@pytest.mark.parametrize(
    "override",
    [
        {"iss": "https://evil.example.com"},
        {"aud": "another-client"},
        {"exp": int(time.time()) - 3600},
        {"exp": None},
        {"iat": None},
        {"sub": None},
    ],
    ids=["issuer", "audience", "expired", "no-expiry", "no-issue-time", "no-subject"],
)
def test_an_id_token_for_someone_else_or_out_of_date_is_refused(backend, sso, override):
    with pytest.raises(SuspiciousOperation):
        backend._verify_jws(token(sso, **override), "s" * 32)


def test_an_id_token_signed_with_another_algorithm_is_refused(backend, sso, settings):
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    with pytest.raises(SuspiciousOperation, match="HS256"):
        backend._verify_jws(token(sso), "s" * 32)
