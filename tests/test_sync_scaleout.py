"""Syncs sharing a backlog: the discovering one refreshes as it lists, the others refresh what
it finds while it runs, a new step is not read twice, and no rollup mark is lost between a
writer and a flush in another process (tests/bench/bench_sync.py measures the throughput)."""

import re
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from steps.models import DirtyHour, Step, SyncCursor, SyncRun, mark_dirty
from steps.models.rollups import hour_of
from steps.sync import run_sync
from steps.sync.claims import Lease
from steps.sync.mirror import upsert_steps

pytestmark = pytest.mark.django_db


def test_a_discovering_sync_fetches_details_while_it_still_lists(simulator, letta, settings):
    settings.SYNC_PAGE_SIZE = 5  # the world's ~100 steps are 20 pages

    run_sync(letta, reverify_batch=0)

    paths = [(r.path, r.params.get("order")) for r in simulator.requests]
    pages = [i for i, (path, order) in enumerate(paths) if path == "/v1/steps/" and order == ["asc"]]
    first_details = next(i for i, (path, _) in enumerate(paths) if path.endswith("/metrics"))
    assert len(pages) > 10
    assert first_details < pages[-1], "details waited for the whole listing"
    assert not Step.objects.exclude(status="pending").filter(details_synced_at=None).exists()


def test_a_sync_that_cannot_discover_refreshes_what_the_discovering_one_finds(simulator, letta, monkeypatch):
    discovering = SyncRun.objects.create(trigger="schedule")  # alive: its heartbeat is now
    SyncCursor.objects.update_or_create(name="discovery", defaults={"lease_holder": discovering})
    found = letta.list_steps(limit=20, order="asc")
    held_elsewhere = Lease.held_elsewhere

    def discovering_meanwhile(lease):
        # the other sync stores a page while this one has nothing to do
        if not Step.objects.exists():
            upsert_steps(found, in_order=True)
        return held_elsewhere(lease)

    monkeypatch.setattr(Lease, "held_elsewhere", discovering_meanwhile)

    result = run_sync(letta, reverify_batch=0)

    assert result.discovery_skipped
    assert result.steps_refreshed == len(found)
    terminal = Step.objects.exclude(status="pending")
    assert terminal.count() > 0 and not terminal.filter(details_synced_at=None).exists()


def test_a_new_steps_first_detail_read_trusts_the_listing_that_found_it(simulator, letta, settings):
    settings.SYNC_OVERLAP_STEPS = 1
    run_sync(letta, refresh_limit=0, reverify_batch=0)  # discovery only, as another sync would
    simulator.clear_requests()

    run_sync(letta, reverify_batch=0)

    by_id = [r.path for r in simulator.requests if re.fullmatch(r"/v1/steps/[^/]+", r.path)]
    assert by_id == [], "steps listed moments ago were read again by id"
    assert not Step.objects.exclude(status="pending").filter(details_synced_at=None).exists()


@pytest.mark.django_db(transaction=True)
def test_a_mark_a_flush_is_consuming_is_made_again_after_it():
    """A rollup flush in another process has taken this hour's mark and recomputes from a
    snapshot without our writes: the mark must outlive that flush, or the hour stays stale."""
    now = timezone.now()
    DirtyHour.objects.create(hour=hour_of(now))
    flush_holds_it, flush_may_end = threading.Event(), threading.Event()

    def flush_in_another_process():
        try:
            with transaction.atomic():
                list(DirtyHour.objects.select_for_update().filter(hour=hour_of(now)))
                flush_holds_it.set()
                flush_may_end.wait(10)
                DirtyHour.objects.filter(hour=hour_of(now)).delete()
        finally:
            connection.close()

    flush = threading.Thread(target=flush_in_another_process)
    flush.start()
    assert flush_holds_it.wait(10)
    threading.Timer(0.5, flush_may_end.set).start()
    with transaction.atomic():
        mark_dirty([now])  # waits for the flush to end, then marks the hour again
    flush.join(10)

    assert DirtyHour.objects.filter(hour=hour_of(now)).exists()
