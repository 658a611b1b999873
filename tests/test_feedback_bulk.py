"""A bulk action is never stuck: one whose message was never queued (the broker was down) or whose
worker died halfway is applied by the feedback sweep, each step once, and reaches Letta."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from steps import feedback
from steps.models import FeedbackBatch, FeedbackPush, Step
from steps.sync import run_sync
from steps.tasks import apply_bulk_feedback, deliver_due_feedback

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer():
    return User.objects.create_user("rita", password="x")


@pytest.fixture
def mirrored(simulator, letta, settings):
    settings.LETTA_BASE_URL = simulator.base_url
    settings.LETTA_MAX_RETRIES = 0
    settings.CELERY_TASK_ALWAYS_EAGER = True  # what the sweep queues runs at once, as a worker would
    run_sync(letta)
    return list(Step.objects.filter(status="success", feedback="").order_by("pk")[:6])


def a_minute_ago(batch):
    FeedbackBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - timedelta(minutes=1))


def in_letta(simulator, steps):
    return [simulator.world.step_payload(step.pk)["feedback"] for step in steps]


def test_a_batch_whose_message_never_left_is_applied_and_delivered_by_the_sweep(
    mirrored, simulator, reviewer
):
    # in the test's transaction the commit hook never runs: the message is never sent
    batch = feedback.start_bulk(
        user=reviewer, action="positive", feedback="positive", step_ids=[s.pk for s in mirrored]
    )
    deliver_due_feedback()  # just made: its own message may still be on its way
    assert FeedbackBatch.objects.get(pk=batch.pk).applied == 0
    a_minute_ago(batch)

    deliver_due_feedback()

    batch.refresh_from_db()
    assert batch.finished_at and batch.applied == batch.total == len(mirrored)
    assert in_letta(simulator, mirrored) == ["positive"] * len(mirrored)
    assert feedback.batch_progress(batch)["done"] == len(mirrored)


def test_a_batch_a_killed_worker_left_halfway_resumes_without_voting_twice(mirrored, simulator, reviewer):
    batch = feedback.start_bulk(
        user=reviewer, action="negative", feedback="negative", step_ids=[s.pk for s in mirrored]
    )
    # what a worker killed after its first chunk leaves: that chunk's votes, its count, its claim run out
    for step in mirrored[:2]:
        feedback.cast_vote(
            step, user=reviewer, feedback="negative", source="bulk", batch=batch, enqueue=False
        )
    FeedbackBatch.objects.filter(pk=batch.pk).update(applied=2, claimed_until=timezone.now())
    a_minute_ago(batch)

    deliver_due_feedback()

    batch.refresh_from_db()
    assert batch.finished_at and batch.applied == len(mirrored)
    pushes = FeedbackPush.objects.filter(batch=batch)
    assert sorted(pushes.values_list("step_id", flat=True)) == sorted(s.pk for s in mirrored)  # once each
    assert in_letta(simulator, mirrored) == ["negative"] * len(mirrored)


def test_a_batch_a_live_worker_holds_is_left_to_it(mirrored, reviewer):
    batch = feedback.start_bulk(user=reviewer, action="positive", feedback="positive", query="")
    FeedbackBatch.objects.filter(pk=batch.pk).update(claimed_until=timezone.now() + timedelta(minutes=1))
    a_minute_ago(batch)

    assert feedback.unfinished_batch_ids() == []
    apply_bulk_feedback(batch.pk)  # a duplicate message

    assert not FeedbackPush.objects.filter(batch=batch).exists()
    assert FeedbackBatch.objects.get(pk=batch.pk).applied == 0


def test_a_finished_batch_applied_again_changes_nothing(mirrored, reviewer):
    batch = feedback.start_bulk(
        user=reviewer, action="positive", feedback="positive", step_ids=[mirrored[0].pk]
    )
    apply_bulk_feedback(batch.pk)
    apply_bulk_feedback(batch.pk)  # a redelivered message

    assert FeedbackPush.objects.filter(batch=batch).count() == 1
    assert FeedbackBatch.objects.get(pk=batch.pk).applied == 1
