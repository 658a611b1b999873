"""Parallel test workers each get their own Redis database, numbered from the one make test passes."""

import pytest

from tests.parallel_workers import worker_redis_url


def test_each_worker_gets_the_next_database_on_the_same_server():
    url = "redis://:secret@127.0.0.1:6379/6"
    assert worker_redis_url(url, "gw0") == url
    assert worker_redis_url(url, "gw3") == "redis://:secret@127.0.0.1:6379/9"
    assert worker_redis_url("redis://127.0.0.1:6379", "gw1") == "redis://127.0.0.1:6379/1"


def test_a_worker_past_the_sixteenth_redis_database_is_refused_with_the_fix():
    with pytest.raises(pytest.UsageError, match="lower database number, or run fewer workers"):
        worker_redis_url("redis://127.0.0.1:6379/14", "gw2")
