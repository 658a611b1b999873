"""The sync end to end against the simulator over real HTTP."""

import httpx
import pytest

from steps.models import Message, ProviderTrace, Run, Step, SyncCursor, SyncRun
from steps.sync import run_sync
from steps.sync.upstream import LettaClient

pytestmark = pytest.mark.django_db


def upstream_step(simulator, step_id):
    return httpx.get(f"{simulator.base_url}/v1/steps/{step_id}").json()


def test_sync_mirrors_every_step_with_every_field_equal(simulator, letta):
    sync_run = run_sync(letta)

    assert sync_run.status == SyncRun.Status.SUCCESS, sync_run.error_message
    assert sync_run.mode == SyncRun.Mode.STEP_LIST
    upstream_ids = set(simulator.world.step_ids())
    assert set(Step.objects.values_list("id", flat=True)) == upstream_ids
    assert sync_run.steps_created == len(upstream_ids)
    for step in Step.objects.all():
        assert step.payload == upstream_step(simulator, step.id)
    # every terminal step got its messages, in Letta's count
    for step in Step.objects.exclude(status="pending"):
        upstream_items = httpx.get(
            f"{simulator.base_url}/v1/steps/{step.id}/messages", params={"limit": 1000}
        ).json()
        assert step.messages.count() == len(upstream_items), step.id
    assert Run.objects.count() == len(simulator.world.runs)


def test_second_sync_changes_nothing(simulator, letta):
    run_sync(letta)
    snapshot = {s.id: (s.payload, s.step_time, s.status) for s in Step.objects.all()}
    counts = (Message.objects.count(), ProviderTrace.objects.count())

    again = run_sync(letta, reverify_batch=0)

    assert (again.steps_created, again.steps_updated) == (0, 0)
    assert {s.id: (s.payload, s.step_time, s.status) for s in Step.objects.all()} == snapshot
    assert (Message.objects.count(), ProviderTrace.objects.count()) == counts


def test_unpatched_server_is_synced_through_runs(unpatched_simulator):
    with LettaClient(unpatched_simulator.base_url, sleep=lambda s: None) as client:
        sync_run = run_sync(client)

    assert sync_run.status == SyncRun.Status.SUCCESS, sync_run.error_message
    assert sync_run.mode == SyncRun.Mode.RUNS
    assert set(Step.objects.values_list("id", flat=True)) == set(unpatched_simulator.world.step_ids())
    # run-less time source: in runs mode every step's run is known
    assert not Step.objects.filter(step_time_source=Step.TimeSource.FIRST_SEEN).exists()


def test_pending_step_is_followed_until_it_succeeds(simulator, letta):
    run_sync(letta)
    new_step_ids = simulator.world.add_run(pending=True).step_ids
    run_sync(letta)
    step = Step.objects.get(pk=new_step_ids[0])
    assert step.status == "pending" and step.total_tokens == 0
    assert step.refresh_due_at is not None and not step.messages.exists()

    simulator.world.finish_pending()
    Step.objects.filter(pk=step.pk).update(refresh_due_at=step.first_seen_at)  # time passes
    run_sync(letta)

    step.refresh_from_db()
    assert step.payload == upstream_step(simulator, step.id)
    assert step.status in ("success", "failed") and step.details_synced_at is not None


def test_feedback_changed_upstream_by_someone_else_is_noticed(simulator, letta):
    run_sync(letta)
    step_id = simulator.world.step_ids()[0]
    simulator.world.set_feedback(step_id, "negative", ["wrong-tool"])
    run_sync(letta)
    assert Step.objects.get(pk=step_id).feedback == "negative"

    simulator.world.set_feedback(step_id, None, None)  # a cleared vote is invisible to has_feedback=true
    run_sync(letta)
    step = Step.objects.get(pk=step_id)
    assert step.feedback == "" and step.tags == ["wrong-tool"]


class KilledMidSync(BaseException):
    """Stands for the process being killed: not an Exception, so nothing catches it."""


def test_a_sync_killed_mid_way_resumes_without_loss_or_duplicates(simulator, settings):
    settings.SYNC_PAGE_SIZE = 10
    calls = {"n": 0}

    class DyingClient(LettaClient):
        def list_steps(self, **kwargs):
            calls["n"] += 1
            if calls["n"] == 3:
                raise KilledMidSync
            return super().list_steps(**kwargs)

    with DyingClient(simulator.base_url) as client, pytest.raises(KilledMidSync):
        run_sync(client)
    cursor = SyncCursor.objects.get(name="steps_after").value
    assert cursor and Step.objects.count() == 20  # two pages landed, and the cursor says so

    simulator.clear_requests()
    with LettaClient(simulator.base_url) as client:
        run_sync(client)

    assert set(Step.objects.values_list("id", flat=True)) == set(simulator.world.step_ids())
    first_list = next(r for r in simulator.requests if r.path == "/v1/steps/")
    assert first_list.params.get("after") == [cursor]  # resumed, not restarted


def test_upstream_outage_is_recorded_readably_and_stores_nothing(simulator, letta):
    simulator.faults.error_rate = 1.0
    sync_run = run_sync(letta)

    assert sync_run.status == SyncRun.Status.FAILED
    assert "Letta kept failing on /v1/runs/" in sync_run.error_message
    assert Step.objects.count() == 0


def test_a_step_whose_details_fail_half_way_keeps_no_partial_details(simulator):
    class TraceFails(LettaClient):
        def get_trace(self, step_id):
            raise httpx_error()

    from steps.sync.upstream import UpstreamValidationError

    def httpx_error():
        return UpstreamValidationError("Letta rejected the request (422: bad)", status=422)

    with TraceFails(simulator.base_url) as client:
        sync_run = run_sync(client)

    assert sync_run.errors > 0
    assert Message.objects.count() == 0  # messages were fetched, but never half-stored
    failed = Step.objects.exclude(status="pending").first()
    assert "422" in failed.last_sync_error and failed.refresh_due_at is not None

    with LettaClient(simulator.base_url) as client:
        Step.objects.update(refresh_due_at=failed.first_seen_at)  # time passes
        run_sync(client)
    assert Message.objects.count() > 0 and not Step.objects.exclude(last_sync_error="").exists()


def test_a_wrong_api_key_is_reported_without_revealing_it(secured_simulator):
    with LettaClient(secured_simulator.base_url, api_key="not-the-password-123") as client:
        sync_run = run_sync(client)
    assert sync_run.status == SyncRun.Status.FAILED
    assert "check LETTA_API_KEY" in sync_run.error_message
    assert "not-the-password-123" not in sync_run.error_message


@pytest.mark.django_db(transaction=True)
def test_two_syncs_at_once_never_fetch_or_write_a_step_twice(simulator, settings):
    settings.SYNC_PAGE_SIZE = 5  # small claim batches, so the two workers interleave
    from collections import Counter
    from threading import Thread

    from django.db import connection

    with LettaClient(simulator.base_url) as client:
        run_sync(client, refresh_limit=0)  # discovery only: every step is now due
    due = Step.objects.filter(refresh_due_at__isnull=False).count()
    simulator.clear_requests()
    results = []

    def one_worker():
        with LettaClient(simulator.base_url) as client:
            results.append(run_sync(client, reverify_batch=0))
        connection.close()

    workers = [Thread(target=one_worker) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert [r.status for r in results] == [SyncRun.Status.SUCCESS] * 2
    assert sum(r.steps_refreshed for r in results) == due
    assert all(r.steps_refreshed for r in results)  # both really worked, side by side
    trace_fetches = Counter(r.path for r in simulator.requests if r.path.endswith("/trace"))
    assert trace_fetches and set(trace_fetches.values()) == {1}
    assert sum(r.steps_created for r in results) == 0


def refresh_later(letta, step_ids):
    """Let the step's next look come due (time passes), then sync."""
    Step.objects.filter(pk__in=step_ids).update(refresh_due_at=Step.objects.values("first_seen_at")[:1])
    return run_sync(letta, reverify_batch=0)


def test_a_null_trace_is_retried_until_it_appears(simulator, letta):
    simulator.world.late_trace_rate = 1.0  # written fire-and-forget, visible two ticks later
    step_id = simulator.world.add_run(pending=False, steps=1, outcome="success").step_ids[0]
    assert simulator.world.steps[step_id].plan.tracing
    run_sync(letta)
    step = Step.objects.get(pk=step_id)
    assert step.status == "success" and step.trace_state == Step.TraceState.RETRYING
    assert step.refresh_due_at is not None and not step.traces.exists()

    simulator.world.tick()
    simulator.world.tick()
    refresh_later(letta, [step_id])

    step.refresh_from_db()
    assert step.trace_state == Step.TraceState.FOUND
    assert (
        step.traces.get().upstream_payload
        == httpx.get(f"{simulator.base_url}/v1/steps/{step_id}/trace").json()
    )


def test_a_trace_that_stays_null_ends_as_no_trace_recorded(simulator, letta):
    # Postgres-backed Letta answers null for a step with several trace rows (§1.4).
    step_id = next(
        s.id for s in simulator.world.steps.values() if len(s.traces) > 1 and s.payload["status"] == "success"
    )
    run_sync(letta)
    looks = 1
    while Step.objects.get(pk=step_id).refresh_due_at is not None and looks < 20:
        refresh_later(letta, [step_id])
        looks += 1
    step = Step.objects.get(pk=step_id)
    assert step.trace_state == Step.TraceState.ABSENT and step.refresh_due_at is None
    assert not step.traces.exists() and looks == 7  # the first look and six retries, backing off


def test_clickhouse_backed_server_gives_the_latest_trace(simulator, letta):
    simulator.world.trace_backend = "clickhouse"
    sim_step = next(
        s for s in simulator.world.steps.values() if len(s.traces) > 1 and s.payload["status"] == "success"
    )
    run_sync(letta)
    stored = ProviderTrace.objects.get(step_id=sim_step.id)
    assert stored.upstream_id == sim_step.traces[-1].row["id"]


def test_approval_answered_later_is_picked_up(simulator, letta):
    run = simulator.world.add_run(pending=False, outcome="requires_approval")
    step_id = run.step_ids[-1]
    run_sync(letta)
    step = Step.objects.get(pk=step_id)
    assert step.stop_reason == "requires_approval" and step.refresh_due_at is not None
    assert "approval_request_message" in step.messages.values_list("message_type", flat=True)

    simulator.world.resolve_approvals()
    refresh_later(letta, [step_id])

    types = list(step.messages.values_list("message_type", flat=True))
    assert "approval_response_message" in types
