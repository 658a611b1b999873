"""Submitting: once per reviewer and item, whatever the clicks or retries; undo; who may."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from steps.access import RoleRequired
from steps.models import FeedbackPush
from steps.review import reserve, submit
from steps.review.models import Queue, QueueItem, Review
from tests.factories import StepFactory, UserFactory
from tests.review_helpers import FULL, make_queue

pytestmark = pytest.mark.django_db


def test_a_double_submit_or_a_retry_saves_one_review():
    queue = make_queue([StepFactory(), StepFactory()], k=2)
    ann = UserFactory()
    item = reserve.next_item(queue, ann)
    review, created = submit.submit_review(item, ann, {"verdict": "positive"}, note="clear answer")
    again, created_again = submit.submit_review(item, ann, {"verdict": "negative"})  # a retry, changed
    assert created and not created_again and again.pk == review.pk
    assert Review.objects.get().scores == {"verdict": "positive"}
    item.refresh_from_db()
    assert item.reviews_count == 1 and item.reserved_by is None  # the reservation is given back
    assert item.state == "waiting"  # one of two reviews


def test_seconds_spent_are_measured_from_the_reservation():
    queue = make_queue([StepFactory()])
    ann = UserFactory()
    item = reserve.next_item(queue, ann)
    review, _ = submit.submit_review(item, ann, {"verdict": "positive"})
    assert review.started_at == item.reserved_at  # shown to them when it was reserved for them
    assert review.seconds == (review.submitted_at - review.started_at).total_seconds()


def test_a_step_held_by_someone_else_or_complete_is_not_reviewable():
    queue = make_queue([StepFactory()], k=1)
    ann, bob, cy = UserFactory(), UserFactory(), UserFactory()
    item = reserve.next_item(queue, ann)
    with pytest.raises(submit.NotReviewable, match="Another reviewer holds"):
        submit.submit_review(item, bob, {"verdict": "positive"})
    submit.submit_review(item, ann, {"verdict": "positive"})
    with pytest.raises(submit.NotReviewable, match="all its reviews"):
        submit.submit_review(item, cy, {"verdict": "positive"})
    assert Review.objects.count() == 1


def test_bad_scores_save_nothing():
    queue = make_queue([StepFactory()], items=FULL)
    ann = UserFactory()
    item = reserve.next_item(queue, ann)
    with pytest.raises(ValidationError):
        submit.submit_review(item, ann, {"verdict": "positive", "accuracy": 9, "topic": "bug"})
    with pytest.raises(ValidationError):
        submit.submit_review(item, ann, {"verdict": "positive", "accuracy": 3, "topic": "bug"}, note="\x00")
    assert not Review.objects.exists()
    assert QueueItem.objects.get().reserved_by == ann  # still hers to finish


def test_viewers_and_unassigned_reviewers_are_refused():
    step = StepFactory()
    ann = UserFactory()
    queue = make_queue([step], access="assigned", assigned=[ann])
    item = QueueItem.objects.get()
    for user in (UserFactory(role="viewer"), UserFactory()):
        with pytest.raises(RoleRequired):
            submit.submit_review(item, user, {"verdict": "positive"})
    assert not Review.objects.exists()
    assert submit.submit_review(item, ann, {"verdict": "positive"})[1]
    assert Queue.objects.get(pk=queue.pk).items_done == 1


def test_undo_reopens_the_last_review_until_the_step_is_decided():
    steps = [StepFactory(), StepFactory()]
    queue = make_queue(steps, k=2)
    ann, bob = UserFactory(), UserFactory()
    assert submit.undo_last(queue, ann) is None  # nothing to undo
    first = reserve.next_item(queue, ann)
    submit.submit_review(first, ann, {"verdict": "positive"})
    moved_on = reserve.next_item(queue, ann)
    assert moved_on.pk != first.pk
    reopened = submit.undo_last(queue, ann)
    assert reopened.pk == first.pk and not Review.objects.exists()
    assert reserve.next_item(queue, ann).pk == first.pk  # her next item is the undone one
    assert QueueItem.objects.get(pk=moved_on.pk).reserved_by is None  # given back to the others

    submit.submit_review(first, ann, {"verdict": "positive"})
    submit.submit_review(first, bob, {"verdict": "positive"})  # the second review: decided
    with pytest.raises(ValidationError, match="decided already"):
        submit.undo_last(queue, bob)
    assert Review.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_last_reviews_at_the_same_instant_resolve_the_step_once():
    """k = 2 and three reviewers submit the same free step at once, each on its own connection:
    two reviews are kept, the third is told the step is complete, one verdict, one push."""
    queue = make_queue([StepFactory()], k=2)
    item = QueueItem.objects.get()
    users = [UserFactory() for _ in range(3)]
    barrier = threading.Barrier(3)
    outcomes = []

    def work(user):
        try:
            barrier.wait()
            outcomes.append(submit.submit_review(item, user, {"verdict": "negative"})[1])
        except submit.NotReviewable as exc:
            outcomes.append(str(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(map(str, outcomes)) == sorted(["True", "True", submit.DONE_ALREADY])
    item.refresh_from_db()
    assert (item.state, item.reviews_count, item.verdict) == ("done", 2, {"verdict": "negative"})
    assert FeedbackPush.objects.filter(step=item.step, source="queue").count() == 1
    assert Queue.objects.get(pk=queue.pk).items_done == 1
