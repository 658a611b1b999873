"""A queue's progress: overall and per reviewer, as the queue page and the API show it."""

import pytest

from steps.review import progress, reserve, submit
from tests.factories import StepFactory, UserFactory
from tests.review_helpers import make_queue

pytestmark = pytest.mark.django_db


def test_progress_counts_done_adjudicate_in_review_and_waiting(django_assert_max_num_queries):
    steps = [StepFactory() for _ in range(5)]
    queue = make_queue(steps, k=2)
    ann, bob, cy = UserFactory(username="ann"), UserFactory(username="bob"), UserFactory(username="cy")
    for user, value in ((ann, "positive"), (bob, "positive")):  # step 1 done
        submit.submit_review(queue.items.get(step=steps[0]), user, {"verdict": value})
    for user, value in ((ann, "positive"), (bob, "negative")):  # step 2 tied
        submit.submit_review(queue.items.get(step=steps[1]), user, {"verdict": value})
    submit.submit_review(queue.items.get(step=steps[2]), ann, {"verdict": "negative"})  # one of two
    reserve.next_item(queue, cy)  # cy holds one

    with django_assert_max_num_queries(4):
        figures = progress.queue_progress(queue)
    assert {k: figures[k] for k in ("total", "done", "adjudicate", "in_review", "waiting", "reviews")} == {
        "total": 5,
        "done": 1,
        "adjudicate": 1,
        "in_review": 1,
        "waiting": 2,
        "reviews": 5,
    }
    assert [(r["username"], r["done"], r["holding"]) for r in figures["reviewers"]] == [
        ("ann", 3, 0),
        ("bob", 2, 0),
        ("cy", 0, 1),
    ]
