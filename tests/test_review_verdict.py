"""The verdict: the queue's policy resolves one per step, a tie goes to a manager, and it reaches
the simulator's Letta through the outbox once, without writing over someone else's value."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from steps import feedback
from steps.access import RoleRequired
from steps.models import FeedbackPush, Step, StepVote
from steps.review import reserve, submit, verdict
from steps.review.models import Queue, QueueItem, RubricItem
from steps.sync import run_sync
from steps.sync.upstream import LettaClient
from steps.tasks import deliver_due_feedback
from tests.factories import UserFactory
from tests.review_helpers import FULL, make_queue

pytestmark = pytest.mark.django_db


def items(*specs):
    return [RubricItem(name=n, kind=k, choices=c) for n, k, c in specs]


def test_the_policy_majority_median_and_ties():
    rubric = items(
        ("v", "thumbs", []),
        ("acc", "scale", [1, 2, 3, 4, 5]),
        ("topic", "categorical", ["a", "b"]),
        ("c", "text", []),
    )
    scores = [
        {"v": "positive", "acc": 2, "topic": "a", "c": "x"},
        {"v": "positive", "acc": 5, "topic": "b"},
        {"v": "negative", "acc": 4},
    ]
    assert verdict.combine(rubric, scores, pairwise=False) == (
        {"v": "positive", "acc": 4, "topic": None},
        False,
    )
    # the labels tie needs a manager only when that label becomes a Letta tag
    assert verdict.combine(rubric, scores, pairwise=False, tag_items=["topic"])[1] is True
    tie = [{"v": "positive", "acc": 2}, {"v": "negative", "acc": 5}]
    assert verdict.combine(rubric, tie, pairwise=False) == ({"v": None, "acc": 3.5, "topic": None}, True)
    pairs = [{"v": "a"}, {"v": "b"}, {"v": "tie"}]
    assert verdict.combine(rubric[:1], pairs, pairwise=True) == ({"v": "tie"}, False)


@pytest.fixture
def mirrored(simulator, letta, settings):
    settings.LETTA_BASE_URL = simulator.base_url
    settings.LETTA_MAX_RETRIES = 0
    run_sync(letta)
    return list(Step.objects.filter(status="success", feedback="").order_by("pk")[:6])


def upstream(simulator, step):
    payload = simulator.world.step_payload(step.pk)
    return payload["feedback"], payload["tags"]


def patches(simulator, step):
    return [r for r in simulator.requests if r.method == "PATCH" and step.pk in r.path]


def review_all(queue, users, values):
    """Each user works the queue to its end, scoring every item with values[user]."""
    for user in users:
        while (item := reserve.next_item(queue, user)) is not None:
            submit.submit_review(item, user, values[user])


def test_k2_reviews_resolve_and_the_verdict_lands_in_letta_once(mirrored, simulator):
    ann, bob = UserFactory(), UserFactory()
    queue = make_queue(mirrored[:3], k=2)
    review_all(queue, [ann, bob], {ann: {"verdict": "negative"}, bob: {"verdict": "negative"}})
    queue.refresh_from_db()
    assert (queue.items_total, queue.items_done, queue.items_adjudicate) == (3, 3, 0)

    simulator.clear_requests()
    assert deliver_due_feedback() == 3  # the worker's sweep (on-commit tasks never ran here)
    assert deliver_due_feedback() == 0  # a second sweep, or a duplicate task: nothing more
    for step in mirrored[:3]:
        item = QueueItem.objects.get(step=step)
        assert item.verdict == {"verdict": "negative"} and item.push.source == "queue"
        assert upstream(simulator, step)[0] == "negative"
        assert len(patches(simulator, step)) == 1
        assert FeedbackPush.objects.get(step=step).status == "done"
        with LettaClient(simulator.base_url) as client:  # its task delivered again by a retry
            feedback.deliver(client, step.pk)
        assert len(patches(simulator, step)) == 1


def test_a_worker_killed_mid_push_hands_the_verdict_to_the_sweep(mirrored, simulator):
    ann = UserFactory()
    queue = make_queue(mirrored[:1], k=1)
    review_all(queue, [ann], {ann: {"verdict": "positive"}})
    push = QueueItem.objects.get().push
    # a worker claimed it and died (its claim ran out)
    FeedbackPush.objects.filter(pk=push.pk).update(status="in_flight", claimed_until=push.created_at)
    simulator.clear_requests()
    assert deliver_due_feedback() == 1
    push.refresh_from_db()
    assert push.status == "done" and upstream(simulator, mirrored[0])[0] == "positive"
    assert len(patches(simulator, mirrored[0])) == 1


def test_a_tie_waits_for_a_manager_whose_decision_goes_to_letta(mirrored, simulator):
    ann, bob, boss = UserFactory(), UserFactory(), UserFactory(role="manager")
    queue = make_queue(mirrored[:1], k=2)
    review_all(queue, [ann, bob], {ann: {"verdict": "positive"}, bob: {"verdict": "negative"}})
    item = QueueItem.objects.get()
    assert item.state == "adjudicate" and item.verdict == {"verdict": None} and item.push is None
    assert Queue.objects.get(pk=queue.pk).items_adjudicate == 1
    with pytest.raises(RoleRequired):
        verdict.adjudicate(item, ann, {"verdict": "positive"})
    with pytest.raises(ValidationError):
        verdict.adjudicate(item, boss, {})  # the tied value must be decided
    verdict.adjudicate(item, boss, {"verdict": "negative"})
    item.refresh_from_db()
    assert (item.state, item.verdict, item.adjudicated_by) == ("done", {"verdict": "negative"}, boss)
    queue.refresh_from_db()
    assert (queue.items_done, queue.items_adjudicate) == (1, 0)
    deliver_due_feedback()
    assert upstream(simulator, mirrored[0])[0] == "negative"
    assert StepVote.objects.get(step=mirrored[0]).voted_by == boss


def test_labels_become_letta_tags_beside_the_steps_own(mirrored, simulator):
    step = mirrored[0]
    simulator.world.set_feedback(step.pk, None, ["vip"])
    Step.objects.filter(pk=step.pk).update(tags=["vip"])  # the mirror has seen it
    ann = UserFactory()
    queue = make_queue([step], items=FULL, k=1, tag_items=["topic"])
    review_all(queue, [ann], {ann: {"verdict": "positive", "accuracy": 4, "topic": "billing"}})
    deliver_due_feedback()
    assert upstream(simulator, step) == ("positive", ["vip", "topic:billing"])


def test_a_value_set_in_letta_after_ours_is_not_overwritten(mirrored, simulator):
    step = mirrored[0]
    simulator.world.set_feedback(step.pk, "positive")  # a teammate, in Letta, after our sync
    ann = UserFactory()
    queue = make_queue([step], k=1)
    review_all(queue, [ann], {ann: {"verdict": "negative"}})
    deliver_due_feedback()
    push = QueueItem.objects.get().push
    push.refresh_from_db()
    assert push.status == "conflict" and upstream(simulator, step)[0] == "positive"
    assert StepVote.objects.get(step=step).conflict_feedback == "positive"  # the step page asks a person


def test_a_conflict_already_waiting_holds_the_verdict_back(mirrored):
    step = mirrored[0]
    StepVote.objects.create(
        step=step, feedback="positive", conflict_feedback="negative", conflict_seen_at=step.step_time
    )
    ann = UserFactory()
    make_queue([step], k=1)
    queue = Queue.objects.get()
    review_all(queue, [ann], {ann: {"verdict": "negative"}})
    item = QueueItem.objects.get()
    assert item.state == "done" and item.push is None and "waits for a decision" in item.write_note
    assert not FeedbackPush.objects.filter(step=step).exists()


def test_pairwise_verdicts_stay_here(mirrored):
    ann = UserFactory()
    queue = make_queue([], k=1, kind="pairwise", pairs=[(mirrored[0].pk, mirrored[1].pk)])
    review_all(queue, [ann], {ann: {"verdict": "b"}})
    item = QueueItem.objects.get()
    assert item.verdict == {"verdict": "b"} and item.push is None and "Pairwise" in item.write_note
    assert not FeedbackPush.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_one_verdict_at_once_send_it_once(simulator, letta, settings):
    """A duplicate task, or the sweep beside the task: both call deliver for the verdict's step at
    the same instant, on their own connections, against a slow Letta. One PATCH reaches Letta."""
    settings.LETTA_BASE_URL = simulator.base_url
    run_sync(letta)
    step = Step.objects.filter(status="success", feedback="").order_by("pk").first()
    ann = UserFactory()
    queue = make_queue([step], k=1)
    review_all(queue, [ann], {ann: {"verdict": "negative"}})
    simulator.clear_requests()
    simulator.faults.latency_ms = 150
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait()
            with LettaClient(simulator.base_url, max_retries=0) as client:
                feedback.deliver(client, step.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    simulator.faults.latency_ms = 0
    assert len(patches(simulator, step)) == 1
    assert QueueItem.objects.get().push.status == "done"
    assert upstream(simulator, step)[0] == "negative"
