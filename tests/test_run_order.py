"""Steps of a run in their real order, against a server that (like a real 0.16.8) records no
metrics step_start_ns, so every step of a run only has the run's time."""

import pytest
from django.urls import reverse

from steps.models import Step
from steps.simulator import World, start_simulator
from steps.sync import run_sync
from steps.sync.upstream import LettaClient
from tests.conftest import SIM_BASE_TIME

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["patched", "unpatched"])
def real_like_simulator(request):
    world = World(
        seed=7,
        clock=lambda: SIM_BASE_TIME,
        initial_runs=25,
        list_mode=request.param,
        metrics_start_missing_rate=1.0,
    )
    with start_simulator(world) as server:
        yield server


def sync(simulator):
    with LettaClient(simulator.base_url) as client:
        return run_sync(client)


def run_whose_ids_are_not_in_step_order(world):
    """A run where ordering by (time, id) gets the steps wrong: the case a real server shows."""
    for run in world.runs.values():
        if len(run.step_ids) >= 3 and sorted(run.step_ids) != run.step_ids:
            return run
    raise AssertionError("no run with steps out of id order")


def test_run_page_list_and_navigation_follow_the_runs_own_sequence(real_like_simulator, user_client):
    sync(real_like_simulator)
    run = run_whose_ids_are_not_in_step_order(real_like_simulator.world)
    in_order = run.step_ids
    steps = Step.objects.filter(run_id=run.id)
    assert {s.step_time_source for s in steps} == {Step.TimeSource.RUN}  # no metrics start time
    assert sorted(steps.values_list("run_position", flat=True)) == list(range(len(in_order)))

    page = user_client.get(reverse("run_detail", args=[run.id]))
    assert [s.pk for s, _ in page.context["rows"]] == in_order

    newest_first = user_client.get(reverse("step_list") + f"?run={run.id}")
    assert [s.pk for s, _ in newest_first.context["rows"]] == in_order[::-1]

    for index, step_id in enumerate(in_order):
        context = user_client.get(reverse("step_detail", args=[step_id])).context
        prev, nxt = context["prev_in_run"], context["next_in_run"]
        assert (prev.pk if prev else None) == (in_order[index - 1] if index else None)
        assert (nxt.pk if nxt else None) == (in_order[index + 1] if index + 1 < len(in_order) else None)


def test_steps_mirrored_before_positions_existed_get_them_from_their_run(real_like_simulator):
    sync(real_like_simulator)
    run = run_whose_ids_are_not_in_step_order(real_like_simulator.world)
    # rows of an older dashboard: no position, every step at the run's time
    Step.objects.update(run_position=None)
    for step in Step.objects.filter(step_time_source=Step.TimeSource.RUN):
        Step.objects.filter(pk=step.pk).update(step_time=step.run.created_at)

    sync(real_like_simulator)  # a bounded number of runs per sync (SEQUENCE_RUNS_PER_RUN)
    sync(real_like_simulator)

    by_time = Step.objects.filter(run_id=run.id).order_by("step_time", "id").values_list("id", flat=True)
    assert list(by_time) == run.step_ids
    assert not Step.objects.filter(run_position=None, run__isnull=False).exists()


def test_a_step_arriving_later_goes_after_its_runs_earlier_steps(real_like_simulator):
    sync(real_like_simulator)
    added = real_like_simulator.world.add_run(pending=True, steps=4, outcome="success")
    for _ in range(3):  # the run moves on one step at a time, a sync in between
        real_like_simulator.world.tick()
        sync(real_like_simulator)
    known = list(
        Step.objects.filter(run_id=added.run_id).order_by("run_position").values_list("id", flat=True)
    )
    assert known == added.step_ids[: len(known)] and len(known) >= 2


def test_steps_seen_before_their_run_take_its_time_in_their_order():
    from steps.sync.mirror import upsert_runs, upsert_steps
    from tests.simulator_helpers import load_sample

    step = load_sample("step")["body"]
    run = load_sample("list_runs_asc")["body"][0]
    # Letta's order of the run's steps, which is not their id order
    in_order = [f"step-{c}0000000-0000-4000-8000-000000000000" for c in "cab"]
    upsert_steps([{**step, "id": i, "run_id": run["id"]} for i in in_order], in_order=True)
    assert set(Step.objects.values_list("step_time_source", flat=True)) == {Step.TimeSource.FIRST_SEEN}

    upsert_runs([run])

    steps = Step.objects.order_by("step_time", "id")
    assert [s.id for s in steps] == in_order
    assert {s.step_time_source for s in steps} == {Step.TimeSource.RUN}
    assert steps[0].step_time == steps[0].run.created_at  # the first step has the run's own time
