"""Queue reviews in the audit trail: each submission, undo and adjudication, with its answers."""

import pytest

from steps.access import RoleRequired
from steps.audit.models import AuditEvent
from steps.review import reserve, submit, verdict
from steps.review.models import QueueItem
from tests.factories import StepFactory, UserFactory
from tests.review_helpers import make_queue

pytestmark = pytest.mark.django_db


def trail():
    return list(
        AuditEvent.objects.filter(action__startswith="review.")
        .order_by("pk")
        .values_list("actor_name", "action", "target_type", "target_id", "before", "after")
    )


def test_submissions_undo_and_an_adjudication_are_in_the_trail_in_order_with_their_answers():
    step = StepFactory()
    ann, bob, boss = (
        UserFactory(username="ann"),
        UserFactory(username="bob"),
        UserFactory(username="boss", role="manager"),
    )
    queue = make_queue([step], k=2)
    submit.submit_review(reserve.next_item(queue, ann), ann, {"verdict": "positive"}, note="looks right")
    submit.submit_review(
        reserve.next_item(queue, ann) or QueueItem.objects.get(), ann, {"verdict": "positive"}
    )
    submit.undo_last(queue, ann)
    submit.submit_review(reserve.next_item(queue, ann), ann, {"verdict": "negative"})
    submit.submit_review(reserve.next_item(queue, bob), bob, {"verdict": "positive"})
    verdict.adjudicate(QueueItem.objects.get(), boss, {"verdict": "positive"})

    first = {"queue": queue.pk, "scores": {"verdict": "positive"}, "note": "looks right"}
    assert trail() == [
        ("ann", "review.submit", "step", step.pk, None, first),  # the double submit recorded nothing
        ("ann", "review.undo", "step", step.pk, first, None),
        (
            "ann",
            "review.submit",
            "step",
            step.pk,
            None,
            {**first, "scores": {"verdict": "negative"}, "note": ""},
        ),
        ("bob", "review.submit", "step", step.pk, None, {**first, "note": ""}),
        (
            "boss",
            "review.adjudicate",
            "step",
            step.pk,
            {"queue": queue.pk, "verdict": {"verdict": None}},
            {"queue": queue.pk, "verdict": {"verdict": "positive"}},
        ),
    ]


def test_a_refused_review_records_nothing():
    make_queue([StepFactory()])
    viewer = UserFactory(role="viewer")
    with pytest.raises(RoleRequired):
        submit.submit_review(QueueItem.objects.get(), viewer, {"verdict": "positive"})
    assert trail() == []
