"""Sync claims held by a heartbeat: a killed sync's work is picked up within seconds, a live
sync's work is left to it and said, and the sync history stays bounded."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from steps.models import Run, Step, SyncCursor, SyncRun
from steps.sync import prune_history, run_sync
from steps.sync.upstream import LettaClient

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
HEARTBEAT = 0.5  # seconds: claims of a killed sync are free after 1.5 s


def wait_for(condition, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def spawn_sync_command(simulator, log_path) -> subprocess.Popen:
    """`manage.py sync_steps` as its own process, on this test's database."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "LETTA_BASE_URL": simulator.base_url,
        "SYNC_HEARTBEAT_SECONDS": str(HEARTBEAT),
        "SYNC_PAGE_SIZE": "10",
        "SYNC_FETCH_CONCURRENCY": "1",
        "PYTHONUNBUFFERED": "1",
    }
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "manage.py", "sync_steps"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def mirror_is_complete(world) -> bool:
    upstream = set(world.step_ids())
    return (
        set(Step.objects.values_list("id", flat=True)) == upstream
        and Run.objects.count() == len(world.runs)
        and not Step.objects.exclude(status="pending").filter(details_synced_at=None).exists()
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("phase", ["discovery", "details"])
def test_a_killed_sync_is_taken_over_within_seconds_and_marked_abandoned(
    simulator, settings, tmp_path, phase
):
    settings.SYNC_HEARTBEAT_SECONDS = HEARTBEAT
    simulator.faults.latency_ms = 60  # a slow Letta: the killed sync is mid-way for seconds
    process = spawn_sync_command(simulator, tmp_path / "sync.log")
    try:
        if phase == "discovery":
            # some steps stored, the discovery lease held, details not started
            wait_for(
                lambda: (
                    Step.objects.exists() and SyncCursor.objects.filter(lease_holder__isnull=False).exists()
                ),
                what="discovery under way",
            )
        else:
            wait_for(lambda: Step.objects.filter(claimed_by__isnull=False).exists(), what="steps claimed")
        killed = SyncRun.objects.get(status=SyncRun.Status.RUNNING)

        # While it lives, its work is its own, and a concurrent sync says it left that work to it.
        if phase == "details":
            with LettaClient(simulator.base_url) as client:
                for _ in range(3):  # it claims in batches: between two, it briefly holds nothing
                    concurrent = run_sync(client, refresh_limit=0, reverify_batch=0)
                    if concurrent.steps_skipped:
                        break
            assert concurrent.steps_skipped > 0
            assert f"held by sync #{killed.pk} (alive" in concurrent.notes
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    killed_at = time.monotonic()
    simulator.faults.latency_ms = 0
    assert not mirror_is_complete(simulator.world)  # the kill left work undone

    time.sleep(3 * HEARTBEAT + 0.2)  # its heartbeat is now stale
    with LettaClient(simulator.base_url) as client:
        after = run_sync(client, reverify_batch=0)

    assert time.monotonic() - killed_at < 30
    assert after.status == SyncRun.Status.SUCCESS, after.error_message
    assert mirror_is_complete(simulator.world)
    assert not after.skipped_work
    if phase == "discovery":
        assert f"Discovery taken over from sync #{killed.pk} (abandoned" in after.notes
    else:
        assert after.steps_reclaimed > 0
        assert f"taken over from sync #{killed.pk} (abandoned" in after.notes
    killed.refresh_from_db()
    assert killed.status == SyncRun.Status.ABANDONED
    assert killed.finished_at == killed.heartbeat_at


def test_work_held_by_a_live_sync_is_reported_not_done_silently(simulator, settings, user_client):
    settings.LETTA_BASE_URL = simulator.base_url
    settings.SYNC_HEARTBEAT_SECONDS = 30  # the stand-in holder below stays alive for the whole test
    with LettaClient(simulator.base_url) as client:
        run_sync(client, refresh_limit=0)  # discovery only: every step is due for details
    other = SyncRun.objects.create(trigger="schedule")  # running, heartbeat now: a live sync
    held = list(Step.objects.filter(refresh_due_at__isnull=False).values_list("id", flat=True)[:12])
    Step.objects.filter(pk__in=held).update(claimed_by=other)
    SyncCursor.objects.filter(name="discovery").update(lease_holder=other)

    out = StringIO()
    call_command("sync_steps", stdout=out)

    text = out.getvalue()
    assert "Done:" not in text
    assert f"12 step(s) skipped: held by sync #{other.pk} (alive" in text
    assert f"Discovery skipped: sync #{other.pk} (alive" in text
    assert "Done, except 12 step(s) and discovery left to another sync" in text
    mine = SyncRun.objects.exclude(pk=other.pk).latest("started_at")
    assert (mine.status, mine.steps_skipped, mine.discovery_skipped) == ("success", 12, True)
    assert not Step.objects.filter(pk__in=held, details_synced_at__isnull=False).exists()

    page = user_client.get(reverse("step_list")).content.decode()
    assert "12 steps + discovery held by a live sync" in page


def test_a_sync_whose_heartbeat_stopped_is_marked_abandoned(simulator, letta, settings):
    settings.SYNC_HEARTBEAT_SECONDS = 2
    lost = SyncRun.objects.create(heartbeat_at=timezone.now() - timedelta(seconds=7))
    beating = SyncRun.objects.create(heartbeat_at=timezone.now() - timedelta(seconds=1))

    result = run_sync(letta)

    assert "1 earlier sync run(s) marked abandoned" in result.notes
    lost.refresh_from_db()
    beating.refresh_from_db()
    assert lost.status == SyncRun.Status.ABANDONED and lost.finished_at == lost.heartbeat_at
    assert beating.status == SyncRun.Status.RUNNING


def test_sync_history_stays_bounded_and_keeps_failures_longer(settings):
    settings.SYNC_HISTORY_KEEP = 5
    settings.SYNC_HISTORY_FAILURES_KEEP = 3
    settings.SYNC_HISTORY_FAILURE_DAYS = 1
    now = timezone.now()

    def make(status, seconds_ago):
        at = now - timedelta(seconds=seconds_ago)
        return SyncRun.objects.create(status=status, started_at=at, heartbeat_at=at)

    old_failures = [make("failed", 100 + i) for i in range(4)]  # within a day: up to 3 kept
    ancient_failure = make("abandoned", 2 * 86400)
    successes = [make("success", 50 + i) for i in range(20)]
    running = make("running", 10_000)  # never deleted while running

    prune_history(now)

    kept = set(SyncRun.objects.values_list("pk", flat=True))
    assert {s.pk for s in successes[:5]} <= kept
    assert not {s.pk for s in successes[5:]} & kept
    assert {f.pk for f in old_failures[:3]} <= kept and old_failures[3].pk not in kept
    assert ancient_failure.pk not in kept
    assert running.pk in kept
    assert len(kept) == 9


def test_an_admin_resync_is_a_sync_run_of_its_own_and_leaves_a_live_syncs_steps_alone(
    simulator, letta, settings
):
    from steps.sync import refresh_steps

    settings.SYNC_HEARTBEAT_SECONDS = 30
    run_sync(letta)
    ids = list(Step.objects.exclude(status="pending").order_by("id").values_list("id", flat=True)[:5])
    other = SyncRun.objects.create()  # alive
    Step.objects.filter(pk=ids[0]).update(claimed_by=other)
    simulator.clear_requests()

    result = refresh_steps(letta, ids)

    assert (result.trigger, result.status) == ("admin", SyncRun.Status.SUCCESS)
    assert (result.steps_refreshed, result.steps_skipped) == (4, 1)
    assert f"1 step(s) skipped: held by sync #{other.pk} (alive" in result.notes
    fetched = {r.path.split("/")[3] for r in simulator.requests if r.path.startswith("/v1/steps/")}
    assert fetched == set(ids[1:])
    assert not Step.objects.filter(claimed_by=result).exists()  # every claim released


def test_a_sync_marked_abandoned_while_working_does_not_report_success(simulator, letta, settings):
    """Its heartbeat lagged (a database blip) and another sync marked it abandoned: its claims
    may have been taken, so it must not end as a plain success."""
    settings.SYNC_HEARTBEAT_SECONDS = 30
    run_sync(letta, refresh_limit=0)  # discovery only: every step is due for details

    def marked_abandoned(progress):
        if progress.phase == "details":
            SyncRun.objects.filter(status=SyncRun.Status.RUNNING).update(status=SyncRun.Status.ABANDONED)

    result = run_sync(letta, on_progress=marked_abandoned)

    result.refresh_from_db()
    assert result.status == SyncRun.Status.ABANDONED
    assert "Marked abandoned while still working" in result.notes


def test_a_refresh_whose_claim_was_taken_over_leaves_the_new_claim_alone(simulator, letta):
    from steps.sync.refresh import Refresher

    run_sync(letta, refresh_limit=0)
    ids = list(Step.objects.values_list("id", flat=True)[:4])
    lagging, other = SyncRun.objects.create(), SyncRun.objects.create()
    refresher = Refresher(letta, lagging, fresh_since=timezone.now(), on_refreshed=lambda ok: None)
    claimed = refresher.claim(ids, only_if_due=False)
    assert claimed
    Step.objects.filter(pk__in=claimed).update(claimed_by=other)  # taken over while we fetched

    refresher.refresh(claimed)

    assert Step.objects.filter(pk__in=claimed, claimed_by=other).count() == len(claimed)


def test_an_admin_resync_that_hits_a_bug_is_recorded_as_failed(simulator, letta, monkeypatch):
    from steps.sync import refresh_steps
    from steps.sync.refresh import Refresher

    run_sync(letta, refresh_limit=0)
    ids = list(Step.objects.values_list("id", flat=True)[:3])

    def broken(self, step_ids, **kwargs):
        raise RuntimeError("a bug in the refresh")

    monkeypatch.setattr(Refresher, "refresh", broken)
    with pytest.raises(RuntimeError):
        refresh_steps(letta, ids)
    recorded = SyncRun.objects.filter(trigger="admin").get()
    assert recorded.status == SyncRun.Status.FAILED
    assert "Internal error: RuntimeError: a bug in the refresh" in recorded.error_message


def test_a_sync_that_dies_mid_run_is_abandoned_as_its_steps_are_taken_over(simulator, letta, settings):
    """It was alive when the next sync started (so not marked then) and died meanwhile: it is
    marked abandoned by the claim that takes its steps, not left "running" until a later sync."""
    settings.SYNC_HEARTBEAT_SECONDS = 2
    run_sync(letta, refresh_limit=0)  # discovery only: every step is due for details
    stopped = SyncRun.objects.create()  # alive as the next sync starts
    held = list(Step.objects.filter(refresh_due_at__isnull=False).values_list("id", flat=True)[:5])
    Step.objects.filter(pk__in=held).update(claimed_by=stopped)

    def dies_before_the_details(progress):
        if progress.phase == "details":  # its last beat, 10 s ago
            SyncRun.objects.filter(pk=stopped.pk, status="running").update(
                heartbeat_at=timezone.now() - timedelta(seconds=10)
            )

    result = run_sync(letta, on_progress=dies_before_the_details)

    stopped.refresh_from_db()
    assert stopped.status == SyncRun.Status.ABANDONED and stopped.finished_at == stopped.heartbeat_at
    assert f"sync #{result.pk} took over its work" in stopped.error_message
    assert result.steps_reclaimed == 5
    assert f"5 step(s) taken over from sync #{stopped.pk} (abandoned" in result.notes
    assert "earlier sync run(s) marked abandoned" not in result.notes  # not found dead at the start


def test_the_discovery_lease_taken_from_a_dead_holder_marks_it_abandoned(settings):
    from steps.sync.claims import Lease

    settings.SYNC_HEARTBEAT_SECONDS = 2
    alive = SyncRun.objects.create()
    SyncCursor.objects.create(name="discovery", lease_holder=alive)
    me = SyncRun.objects.create()
    assert not Lease("discovery", me).acquire()  # a live holder keeps it, and keeps running
    alive.refresh_from_db()
    assert alive.status == SyncRun.Status.RUNNING

    SyncRun.objects.filter(pk=alive.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=10))
    lease = Lease("discovery", me)

    assert lease.acquire()
    dead = SyncRun.objects.get(pk=alive.pk)
    assert dead.status == SyncRun.Status.ABANDONED
    assert dead.error_message == f"Abandoned: its heartbeat stopped (sync #{me.pk} took over its work)."
    assert lease.taken_from.status == SyncRun.Status.ABANDONED
