"""Fixtures for the UI tests, imported explicitly (conftest.py belongs to the sync tests)."""

import pytest
from django.core.cache import cache

from tests.factories import UserFactory


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture
def user_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _clear_facets():
    # the list's facet counts are cached; each test starts from its own data
    cache.clear()
    yield
    cache.clear()
