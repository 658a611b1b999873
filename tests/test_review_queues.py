"""Making queues: a snapshot from the step list's filter (capped), a live queue that steps join as
the sync brings them in, and pairs of steps."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from steps.models import Step
from steps.retention import prune_steps
from steps.review import queues, rubrics, submit
from steps.review.models import Queue, QueueItem, Rubric
from steps.sync import run_sync
from tests.factories import RunFactory, StepFactory, UserFactory, conversation
from tests.review_helpers import THUMBS

pytestmark = pytest.mark.django_db


def new_queue(**kwargs):
    rubric = rubrics.rubric_from_items(THUMBS, name="thumbs", created_by=None)
    settings = {
        "name": "Failed steps",
        "query": "",
        "mode": "snapshot",
        "rubric": rubric,
        "reviewers_per_item": 1,
        "reservation_minutes": 30,
        "created_by": None,
    }
    return queues.create_queue(**{**settings, **kwargs})


def test_a_snapshot_holds_the_steps_the_filter_matches_in_the_lists_order():
    failed = [StepFactory(failed=True) for _ in range(3)]
    StepFactory()  # a success: not matched
    queue = new_queue(query="status=failed&page=2&sort=")
    items = list(QueueItem.objects.filter(queue=queue).order_by("position"))
    newest_first = sorted(failed, key=lambda s: (s.step_time, s.pk), reverse=True)
    assert [i.step_id for i in items] == [s.pk for s in newest_first]
    assert [i.position for i in items] == [0, 1, 2]
    assert (queue.items_total, queue.next_position, queue.query) == (3, 3, "status=failed&page=2")
    assert Rubric.objects.get().locked_at is not None


def test_a_snapshot_beyond_the_cap_is_refused_and_nothing_is_made(settings):
    settings.REVIEW_SNAPSHOT_MAX = 2
    for _ in range(3):
        StepFactory()
    with pytest.raises(ValidationError) as exc:
        new_queue()
    assert "more than 2 steps" in exc.value.message_dict["query"][0]
    assert not Queue.objects.exists() and not QueueItem.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"query": "status=exploded"}, "query"),
        ({"mode": "sometimes"}, "mode"),
        ({"reviewers_per_item": 0}, "reviewers_per_item"),
        ({"reservation_minutes": 10**6}, "reservation_minutes"),
        ({"name": "  "}, "name"),
        ({"tag_items": ["verdict"]}, "tag_items"),
        ({"access": "assigned"}, "assigned"),
        ({"kind": "pairwise", "mode": "live"}, "mode"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(kwargs, field):
    with pytest.raises(ValidationError) as exc:
        new_queue(**kwargs)
    assert field in exc.value.message_dict
    assert not Queue.objects.exists()


def test_adding_steps_again_adds_each_once_and_keeps_counting():
    a, b, c = StepFactory(), StepFactory(), StepFactory()
    queue = new_queue(step_ids=[a.pk, b.pk])
    assert queues.add_steps(queue, [b.pk, c.pk, c.pk, "step-00000000-0000-4000-8000-00000000dead"]) == 1
    queue.refresh_from_db()
    assert queue.items_total == 3
    assert list(queue.items.order_by("position").values_list("step_id", flat=True)) == [a.pk, b.pk, c.pk]


def test_pairs_from_two_runs_follow_each_runs_order():
    run_a, run_b = RunFactory(), RunFactory()
    a = [StepFactory(run_id=run_a.pk, run_position=i) for i in range(3)]
    b = [StepFactory(run_id=run_b.pk, run_position=i) for i in range(2)]
    pairs = queues.pairs_from_runs(run_a.pk, run_b.pk)
    assert pairs == [(a[0].pk, b[0].pk), (a[1].pk, b[1].pk)]
    queue = new_queue(kind="pairwise", pairs=pairs + [(a[0].pk, a[0].pk)])
    assert [(i.step_id, i.step_b_id) for i in queue.items.order_by("position")] == pairs


def test_pairs_matched_on_the_same_user_message():
    mini = [StepFactory(model="gpt-4o-mini") for _ in range(3)]
    big = [StepFactory(model="gpt-4o") for _ in range(3)]
    for step, text in zip(mini, ["refund please", "Where is my order?", "only here"], strict=True):
        conversation(step, user_text=text, answer="ok")
    for step, text in zip(big, ["where is  my order?", "refund please", "something else"], strict=True):
        conversation(step, user_text=text, answer="ok")
    pairs = queues.pairs_matched_on_user_input("model=gpt-4o-mini", "model=gpt-4o", limit=10)
    assert sorted(pairs) == sorted([(mini[0].pk, big[1].pk), (mini[1].pk, big[0].pk)])


def test_a_live_queue_takes_new_steps_that_match_as_the_sync_brings_them(simulator, letta, settings):
    settings.LETTA_BASE_URL = simulator.base_url
    run_sync(letta)
    before = Step.objects.count()
    queue = new_queue(mode="live", query="status=failed", created_by=UserFactory())
    assert queue.items_total == 0  # nothing read at creation: no scan of what is there

    failed = simulator.world.add_run(pending=False, steps=2, outcome="failed")
    simulator.world.add_run(pending=False, steps=2, outcome="success")
    run_sync(letta)
    run_sync(letta)  # again: nothing joins twice
    assert Step.objects.count() > before
    joined = set(QueueItem.objects.filter(queue=queue).values_list("step_id", flat=True))
    expected = set(Step.objects.filter(pk__in=failed.step_ids, status="failed").values_list("pk", flat=True))
    assert joined == expected and joined
    queue.refresh_from_db()
    assert queue.items_total == len(joined)


def test_pruning_old_steps_takes_their_items_out_of_the_counts():
    old = [StepFactory(step_time=timezone.now() - timedelta(days=100)) for _ in range(2)]
    new = StepFactory()
    queue = new_queue(step_ids=[s.pk for s in [*old, new]])
    submit.submit_review(queue.items.get(step=old[0]), UserFactory(), {"verdict": "positive"})
    prune_steps(30)
    queue.refresh_from_db()
    assert (queue.items_total, queue.items_done) == (1, 0)
    assert list(queue.items.values_list("step_id", flat=True)) == [new.pk]


def test_a_manager_changes_settings_and_a_lower_k_resolves_what_has_enough_reviews():
    steps = [StepFactory(), StepFactory()]
    queue = new_queue(step_ids=[s.pk for s in steps], reviewers_per_item=3)
    ann = UserFactory()
    submit.submit_review(queue.items.get(step=steps[0]), ann, {"verdict": "negative"})
    changed = queues.update_queue(
        queue, reviewers_per_item=1, name=" Renamed ", instructions="Be <b>kind</b>"
    )
    assert (changed.name, changed.instructions, changed.items_done) == ("Renamed", "Be <b>kind</b>", 1)
    assert queue.items.get(step=steps[0]).verdict == {"verdict": "negative"}
    assert queue.items.get(step=steps[1]).state == "waiting"
    archived = queues.update_queue(queue, archived=True)
    assert archived.archived_at is not None
    with pytest.raises(ValidationError) as exc:
        queues.update_queue(queue, rubric=None, reviewers_per_item=0)
    assert set(exc.value.message_dict) == {"rubric"}
    with pytest.raises(ValidationError) as exc:
        queues.update_queue(queue, reviewers_per_item=0)
    assert "reviewers_per_item" in exc.value.message_dict
    with pytest.raises(ValidationError):
        queues.update_queue(queue, access="assigned")  # nobody assigned
    assert Queue.objects.get(pk=queue.pk).reviewers_per_item == 1


def test_the_live_hook_costs_the_same_queries_for_any_batch_size():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from steps.review.live import join_live_queues

    for query in ("status=failed", "model=gpt-4o-mini"):
        new_queue(mode="live", query=query)
    small = [StepFactory(failed=True).pk for _ in range(2)]
    large = [StepFactory(failed=True).pk for _ in range(40)]
    counts = []
    for batch in (small, large):
        with CaptureQueriesContext(connection) as queries:
            join_live_queues(batch)
        counts.append(len(queries))
    # the live queues, the model filter's lookup, then per queue its filter and the insert's few
    assert counts[0] == counts[1] <= 2 + 2 * 8
    assert Queue.objects.get(query="status=failed").items_total == 42
