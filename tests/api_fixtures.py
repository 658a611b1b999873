"""Fixtures for the API tests: a token-holding client, as a script would be."""

import pytest
from django.test import Client

from steps.models import ApiToken
from tests.factories import UserFactory


@pytest.fixture
def token_user():
    return UserFactory(username="scripter")


@pytest.fixture
def api_key(token_user):
    _, key = ApiToken.create_for(token_user, "test script")
    return key


@pytest.fixture
def api(api_key):
    """A client holding only a token: no session, CSRF checks on as for any client."""
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {api_key}"})
