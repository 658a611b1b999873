"""Each pytest-xdist worker gets its own Redis database, as pytest-django gives it its own PostgreSQL
database (test_<name>_gw0, _gw1...): worker gwN uses the database N after CELERY_BROKER_URL's, so one
worker's `celery purge`, queued tasks and throttle counters never reach another's. Without xdist
nothing changes."""

import os
from urllib.parse import urlsplit, urlunsplit

import pytest

REDIS_DATABASES = 16  # Redis's default `databases`


def worker_redis_url(url: str, worker: str) -> str:
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or 0) + int(worker.removeprefix("gw"))
    if number >= REDIS_DATABASES:
        raise pytest.UsageError(
            f"xdist worker {worker} would use Redis database {number} (from {url}), Redis has "
            f"{REDIS_DATABASES}: give TEST_BROKER_URL a lower database number, or run fewer workers."
        )
    return urlunsplit(parts._replace(path=f"/{number}"))


def use_worker_redis(settings) -> None:
    """Points the broker and the API throttle's cache at this worker's database. Settings took them
    from the environment at import, before any conftest runs; Celery and the cache handler read them
    on first use, so this must run before that (pytest_configure does)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not settings.CELERY_BROKER_URL.startswith("redis"):
        return
    from django.core.cache import caches

    from dashboard import celery_app

    if celery_app.configured or "settings" in caches.__dict__:
        raise pytest.UsageError("Celery or the caches were set up before the worker's Redis database was set")
    broker = worker_redis_url(settings.CELERY_BROKER_URL, worker)
    settings.CELERY_BROKER_URL = os.environ["CELERY_BROKER_URL"] = broker  # and the processes tests start
    throttle = settings.CACHES["api-throttle"]
    if throttle["BACKEND"].endswith("RedisCache"):
        location = worker_redis_url(throttle["LOCATION"], worker)
        if "API_THROTTLE_CACHE_URL" in os.environ:
            os.environ["API_THROTTLE_CACHE_URL"] = location
        settings.CACHES = settings.CACHES | {"api-throttle": throttle | {"LOCATION": location}}
