"""The schedule's syncs run one at a time (SYNC_MAX_CONCURRENT): a beat tick while a sync runs
starts nothing and records nothing, and the top bar shows the last finished run steadily."""

import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from steps.models import SyncCursor, SyncRun
from steps.models.syncing import START_LOCK
from steps.tasks import sync_steps
from tests.factories import SyncRunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheduled(simulator, settings):
    """The worker's settings: pointed at the simulator, one sync at a time (the default)."""
    settings.LETTA_BASE_URL = simulator.base_url
    settings.SYNC_MAX_CONCURRENT = 1
    settings.SYNC_HEARTBEAT_SECONDS = 30  # the stand-in runs below stay alive for the whole test
    return simulator


def test_a_tick_while_a_sync_runs_starts_nothing_and_records_nothing(scheduled):
    running = SyncRun.objects.create(trigger="command")  # heartbeat now: alive
    scheduled.clear_requests()

    assert [sync_steps() for _ in range(5)] == [None] * 5

    assert list(SyncRun.objects.all()) == [running]
    assert scheduled.requests == []  # not a single request to Letta


def test_the_next_tick_after_the_sync_finished_runs(scheduled):
    SyncRunFactory(finished_at=timezone.now())

    sync_run = SyncRun.objects.get(pk=sync_steps())

    assert (sync_run.trigger, sync_run.status) == ("schedule", SyncRun.Status.SUCCESS)
    assert sync_run.steps_created > 0


def test_a_dead_sync_does_not_hold_the_schedule(scheduled, settings):
    settings.SYNC_HEARTBEAT_SECONDS = 2
    dead = SyncRun.objects.create(heartbeat_at=timezone.now() - timedelta(seconds=7))

    sync_run = SyncRun.objects.get(pk=sync_steps())

    assert sync_run.status == SyncRun.Status.SUCCESS
    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.ABANDONED


def test_a_higher_limit_lets_that_many_syncs_share_the_work(scheduled, settings):
    settings.SYNC_MAX_CONCURRENT = 2
    other = SyncRun.objects.create()

    assert sync_steps() is not None

    settings.SYNC_MAX_CONCURRENT = 1
    assert sync_steps() is None  # `other` still runs
    assert SyncRun.objects.exclude(pk=other.pk).count() == 1


def test_the_sync_command_runs_whatever_the_schedule_is_doing(scheduled):
    SyncRun.objects.create(trigger="schedule")  # a live scheduled sync

    call_command("sync_steps", stdout=StringIO())

    assert SyncRun.objects.filter(trigger="command", status=SyncRun.Status.SUCCESS).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_the_same_moment_start_one_sync(settings):
    """The second tick waits for the first one's check-and-insert, then sees its run: it cannot
    count the live runs while the first one's insert is still uncommitted."""
    settings.SYNC_HEARTBEAT_SECONDS = 30
    SyncCursor.objects.create(name=START_LOCK)  # as after the first tick ever
    first_inserted, let_first_commit = threading.Event(), threading.Event()
    results = {}

    def tick(name, hold):
        try:
            with transaction.atomic():
                results[name] = SyncRun.objects.start_unless_busy(1, trigger="schedule")
                if hold:
                    first_inserted.set()
                    let_first_commit.wait(30)
        finally:
            connection.close()

    first = threading.Thread(target=tick, args=("first", True))
    first.start()
    assert first_inserted.wait(30)
    second = threading.Thread(target=tick, args=("second", False))
    second.start()
    try:
        # the second tick is now blocked on the first one's lock, not past its count
        wait_for_a_lock_wait()
    finally:
        let_first_commit.set()
        first.join(30)
        second.join(30)

    assert results["first"] is not None and results["second"] is None
    assert list(SyncRun.objects.values_list("pk", flat=True)) == [results["first"].pk]


def wait_for_a_lock_wait(timeout=30.0):
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the second tick never waited for the first one's lock")


# --- the top bar ------------------------------------------------------------------------------


def chrome(client) -> str:
    html = client.get(reverse("step_list")).content.decode()
    start = html.index('id="sync-status"')
    return html[start : html.index("</div>", start)]


def test_the_top_bar_shows_the_last_finished_run_and_says_syncing_while_one_runs(user_client):
    SyncRunFactory(mode=SyncRun.Mode.RUNS)
    idle = chrome(user_client)
    SyncRun.objects.create()  # started: no mode, no counts yet

    busy = chrome(user_client)

    assert "syncing…" not in idle and "syncing…" in busy
    for bar in (idle, busy):
        assert "synced <time" in bar and "dot-ok" in bar
        assert ">through runs</span>" in bar  # what the last finished run found, while the next runs


def test_a_run_that_failed_before_discovery_keeps_the_mode_the_one_before_found(user_client):
    SyncRunFactory(mode=SyncRun.Mode.RUNS, started_at=timezone.now() - timedelta(seconds=30))
    SyncRunFactory(status="failed", mode="", error_message="Letta answered 503")

    bar = chrome(user_client)

    assert "sync failed" in bar and "Letta answered 503" in bar
    assert ">through runs</span>" in bar


def test_the_first_sync_says_syncing_and_nothing_else(user_client):
    SyncRun.objects.create()

    bar = chrome(user_client)

    assert "syncing…" in bar and "dot-busy" in bar
    assert "never synced" not in bar and "synced <time" not in bar and "chip" not in bar
