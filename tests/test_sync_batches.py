"""The sync's batches: prefetched list pages, concurrent detail fetches, batched writes, the
pipeline and the per-batch hooks."""

import json

import httpx
import pytest

from steps.models import Message, ProviderTrace, Step, StepMetrics, SyncCursor, SyncRun
from steps.sync import run_sync
from steps.sync.upstream import LettaClient, UpstreamValidationError

pytestmark = pytest.mark.django_db


def upstream(simulator, path, **params):
    return httpx.get(f"{simulator.base_url}/v1/steps/{path}", params=params).json()


def canonical(rows) -> list[str]:
    return sorted(json.dumps(row, sort_keys=True) for row in rows)


def test_concurrent_fetches_in_pipelined_batches_store_every_field_of_every_step(simulator, letta, settings):
    settings.SYNC_PAGE_SIZE = 7  # many batches, each written while the next one is fetched
    settings.SYNC_FETCH_CONCURRENCY = 8

    sync_run = run_sync(letta, reverify_batch=0)

    assert sync_run.status == SyncRun.Status.SUCCESS, sync_run.error_message
    terminal = Step.objects.exclude(status="pending")
    assert terminal.count() == len(simulator.world.steps) > 7 * 3
    assert sync_run.steps_refreshed == terminal.count()
    for step in terminal:
        assert step.details_synced_at is not None and step.claimed_by_id is None, step.id
        stored = [m.payload for m in Message.objects.filter(step=step)]
        assert canonical(stored) == canonical(upstream(simulator, f"{step.id}/messages", limit=1000)), step.id
        metrics = httpx.get(f"{simulator.base_url}/v1/steps/{step.id}/metrics")
        if metrics.status_code == 200:
            assert StepMetrics.objects.get(step=step).payload == metrics.json()
            assert step.duration_ns == metrics.json()["step_ns"]
        trace = upstream(simulator, f"{step.id}/trace")
        traces = [t.upstream_payload for t in ProviderTrace.objects.filter(step=step)]
        assert traces == ([trace] if trace else [])
        assert step.trace_state == (Step.TraceState.FOUND if trace else Step.TraceState.RETRYING)


def test_a_failing_detail_fetch_of_one_step_loses_none_of_its_batch_mates(simulator, settings):
    settings.SYNC_PAGE_SIZE = 10
    unlucky = simulator.world.step_ids()[3]

    class OneTraceFails(LettaClient):
        def get_trace(self, step_id):
            if step_id == unlucky:
                raise UpstreamValidationError("Letta rejected the request (422: bad)", status=422)
            return super().get_trace(step_id)

    with OneTraceFails(simulator.base_url) as client:
        sync_run = run_sync(client, reverify_batch=0)

    assert sync_run.status == SyncRun.Status.SUCCESS and sync_run.errors == 1
    failed = Step.objects.get(pk=unlucky)
    assert "422" in failed.last_sync_error and failed.refresh_due_at is not None
    assert failed.details_synced_at is None and not failed.messages.exists()  # nothing half-stored
    others = Step.objects.exclude(pk=unlucky).exclude(status="pending")
    assert others.count() == len(simulator.world.steps) - 1
    assert not others.filter(details_synced_at=None).exists()
    assert not others.exclude(last_sync_error="").exists()
    assert Step.objects.filter(claimed_by__isnull=False).count() == 0


class KilledMidRefresh(BaseException):
    """The process being killed: not an Exception, so nothing catches it."""


@pytest.mark.django_db(transaction=True)
def test_a_sync_killed_mid_refresh_hands_back_its_claims_and_the_next_one_finishes(
    simulator, settings, monkeypatch
):
    settings.SYNC_PAGE_SIZE = 5
    # A missing trace is asked for again after 5 s: on a busy machine the two syncs can take longer,
    # and the second would rightly re-read those steps too. Here only the unfinished ones count.
    monkeypatch.setattr("steps.sync.refresh.TRACE_BACKOFF", (3600.0, 3600.0, 6))
    calls = {"n": 0}

    class DyingClient(LettaClient):
        def get_metrics(self, step_id):
            calls["n"] += 1
            if calls["n"] == 12:  # a few batches written, one being written, one in flight
                raise KilledMidRefresh
            return super().get_metrics(step_id)

    with DyingClient(simulator.base_url) as client, pytest.raises(KilledMidRefresh):
        run_sync(client, reverify_batch=0)
    done = set(Step.objects.exclude(details_synced_at=None).values_list("id", flat=True))
    assert done and not Step.objects.filter(claimed_by__isnull=False).exists()

    simulator.clear_requests()
    with LettaClient(simulator.base_url) as client:
        again = run_sync(client, reverify_batch=0)

    assert again.status == SyncRun.Status.SUCCESS, again.error_message
    assert not Step.objects.exclude(status="pending").filter(details_synced_at=None).exists()
    assert again.steps_refreshed == len(simulator.world.steps) - len(done)
    assert again.steps_skipped == 0  # nothing left claimed by the killed run
    refetched = {r.path.split("/")[3] for r in simulator.requests if r.path.endswith("/metrics")}
    assert not refetched & done  # what the killed run stored is not fetched again


def test_a_saved_cursor_letta_no_longer_knows_restarts_the_listing_from_the_start(simulator, letta, settings):
    settings.SYNC_PAGE_SIZE = 10
    gone = "step-00000000-0000-4000-8000-000000000000"  # well formed, never served
    SyncCursor.objects.create(name="steps_after", value=gone)

    sync_run = run_sync(letta, reverify_batch=0)

    assert sync_run.status == SyncRun.Status.SUCCESS, sync_run.error_message
    assert set(Step.objects.values_list("id", flat=True)) == set(simulator.world.step_ids())
    assert SyncCursor.objects.get(name="steps_after").value not in ("", gone)


@pytest.fixture
def new_steps_heard():
    """Receivers on the sync's new-steps hook for one test: what a good one heard, and one that fails."""
    from steps.sync import hooks

    heard: list[list[str]] = []

    def listen(step_ids):
        heard.append(step_ids)
        SyncCursor.objects.create(name=f"heard-{len(heard)}", value="")  # a write, kept

    def fail(step_ids):
        SyncCursor.objects.create(name="failed-receiver", value="")  # undone with its savepoint
        raise RuntimeError("a broken rule")

    before = list(hooks._receivers)
    hooks.on_new_steps(fail)
    hooks.on_new_steps(listen)
    yield heard
    hooks._receivers[:] = before


def test_each_newly_detailed_step_is_announced_once_per_batch_and_a_failing_receiver_costs_nothing(
    simulator, letta, settings, new_steps_heard
):
    settings.SYNC_PAGE_SIZE = 7

    first = run_sync(letta, reverify_batch=0)
    again = run_sync(letta, reverify_batch=0)

    assert first.status == again.status == SyncRun.Status.SUCCESS
    announced = [step_id for batch in new_steps_heard for step_id in batch]
    detailed = set(Step.objects.filter(details_synced_at__isnull=False).values_list("id", flat=True))
    assert len(announced) == len(set(announced)) and set(announced) == detailed
    assert len(new_steps_heard) > 1 and all(len(batch) <= 7 for batch in new_steps_heard)
    assert SyncCursor.objects.filter(name__startswith="heard-").count() == len(new_steps_heard)
    assert not SyncCursor.objects.filter(name="failed-receiver").exists()
