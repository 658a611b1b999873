"""Shared fixtures. Tests run on real PostgreSQL (DATABASE_URL, set by `make test`)."""

import os

import pytest
from django.conf import settings


def pytest_configure(config):
    if os.environ.get("CI") and settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        raise pytest.UsageError("The test suite runs on PostgreSQL: use `make test` (it sets DATABASE_URL).")


@pytest.fixture(autouse=True)
def _static_storage(settings):
    # Tests render templates without running collectstatic first.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
