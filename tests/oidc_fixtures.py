"""A real OpenID Connect provider for the tests: oidc-provider-mock run as its own process on a free
port (discovery, authorization, token, userinfo, JWKS, end-session), with predefined users whose
`groups` claim names their team. Nothing of mozilla-django-oidc is mocked."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from steps.access import discovery

CLIENT_ID, CLIENT_SECRET = "letta-review", "test-client-secret"
PROVIDER_NAME = "Test IdP"
ROLE_MAP = {"qa-team": "reviewer", "leads": "manager"}
USERS = {
    # a role's own name maps to it without the map; a string or a list both work
    "vera": {
        "groups": ["viewer"],
        "preferred_username": "vera",
        "email": "vera@example.com",
        "name": "Vera Viewer",
    },
    "rex": {
        "groups": ["staff", "qa-team"],
        "preferred_username": "rex",
        "email": "rex@example.com",
        "name": "Rex Reviewer",
    },
    "mona": {
        "groups": "leads",
        "preferred_username": "mona",
        "email": "mona@example.com",
        "name": "Mona Manager",
    },
    "nobody": {"preferred_username": "nobody", "email": "nobody@example.com"},  # no groups: the default role
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def oidc_provider():
    """The provider's issuer URL, e.g. http://127.0.0.1:41234 (the process ends with the session)."""
    port = _free_port()
    args = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), "--require-nonce", "true"]
    for sub, claims in USERS.items():
        args += ["--user-claims", json.dumps({"sub": sub, **claims})]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    issuer = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                pytest.fail("oidc-provider-mock exited at start")
            time.sleep(0.05)
        else:
            pytest.fail("oidc-provider-mock did not answer")
        yield issuer
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def sso(settings, oidc_provider):
    """Single sign-on configured against the provider, as the environment would."""
    settings.OIDC_ISSUER = oidc_provider
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_PROVIDER_NAME = PROVIDER_NAME
    settings.OIDC_ROLE_MAP = ROLE_MAP
    settings.OIDC_ROLE_CLAIM = "groups"
    settings.OIDC_DEFAULT_ROLE = "viewer"
    settings.SECURE_CSP = {
        **settings.SECURE_CSP,
        "form-action": [*settings.SECURE_CSP["form-action"], oidc_provider],
    }
    discovery.forget()
    yield oidc_provider
    discovery.forget()


# --- the flow over HTTP, without a browser (Django's test client on our side) -----------------


def start(client) -> str:
    """Our /oidc/login/: the provider's authorization URL it redirects to."""
    response = client.get("/oidc/login/")
    assert response.status_code == 302, response.content[:300]
    return response["Location"]


def authorize(authorization_url: str, sub: str, **override) -> dict[str, str]:
    """The provider's consent form, answered as `sub`: the callback's query (code, state).
    `override` replaces parameters of the authorization request first (a nonce, say)."""
    parts = urlsplit(authorization_url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(override)
    response = httpx.post(f"{parts.scheme}://{parts.netloc}{parts.path}", params=query, data={"sub": sub})
    assert response.status_code == 302, response.text[:300]
    back = urlsplit(response.headers["Location"])
    return {k: v[0] for k, v in parse_qs(back.query).items()}


def callback(client, params: dict[str, str]):
    return client.get("/oidc/callback/", params)


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")
