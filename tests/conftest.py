"""Shared fixtures. Tests run on real PostgreSQL (DATABASE_URL, set by `make test`)."""

import os

import pytest
from django.conf import settings

from tests.db_flush import flush_with_delete
from tests.parallel_workers import use_worker_redis

pytest_plugins = ["tests.ui_fixtures", "tests.browser_fixtures", "tests.api_fixtures", "tests.oidc_fixtures"]


def pytest_configure(config):
    if os.environ.get("CI") and settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        raise pytest.UsageError("The test suite runs on PostgreSQL: use `make test` (it sets DATABASE_URL).")
    # Every UserFactory user and every sign-in hashes a password: PBKDF2's 1.5 million rounds take
    # 0.8 s of CPU each here, minutes over the suite. The tests are about who may sign in, not the hash.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    use_worker_redis(settings)
    flush_with_delete()


@pytest.fixture(autouse=True)
def _static_storage(settings):
    # Tests render templates without running collectstatic first.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _nothing_kept_per_process():
    # Each test has its own data, rolled back after it: what a page drew from another test's
    # rollups or votes must not be reused (drawings, the reviewers panel and pending task marks are
    # kept per process: steps/overview/memo.py and Django's default cache).
    from django.core.cache import cache

    from steps.overview import memo

    memo.forget()
    cache.clear()


# --- the Letta simulator over real HTTP ----------------------------------------------------

from datetime import UTC, datetime  # noqa: E402

from steps.simulator import World, start_simulator  # noqa: E402
from steps.sync.upstream import LettaClient  # noqa: E402

SIM_BASE_TIME = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def make_world(**kwargs) -> World:
    kwargs.setdefault("initial_runs", 25)
    return World(seed=7, clock=lambda: SIM_BASE_TIME, **kwargs)


@pytest.fixture
def simulator():
    with start_simulator(make_world()) as server:
        yield server


@pytest.fixture
def unpatched_simulator():
    """Plays an unmodified self-hosted Letta 0.16.8: every GET /v1/steps/ is a 400."""
    with start_simulator(make_world(list_mode="unpatched")) as server:
        yield server


@pytest.fixture
def secured_simulator():
    with start_simulator(make_world(initial_runs=3), api_key="the-server-password") as server:
        yield server


def quick_sleep(seconds: float) -> None:
    # Retries keep their order and count; only the waiting is shortened.
    import time

    time.sleep(min(seconds, 0.01))


@pytest.fixture
def letta(simulator):
    with LettaClient(simulator.base_url, sleep=quick_sleep, max_retries=2) as client:
        yield client
