"""Reservations: a reviewer holds an item so others skip it; it expires; they resume at it."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from steps.review import reserve, submit
from steps.review.models import QueueItem, Review
from tests.factories import StepFactory, UserFactory
from tests.review_helpers import make_queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def steps():
    return [StepFactory() for _ in range(4)]


def test_two_reviewers_get_different_items_in_queue_order(steps):
    queue = make_queue(steps, k=2)
    ann, bob = UserFactory(), UserFactory()
    first, second = reserve.next_item(queue, ann), reserve.next_item(queue, bob)
    assert (first.step_id, second.step_id) == (steps[0].pk, steps[1].pk)
    assert first.reserved_by == ann and first.reserved_until > timezone.now()


def test_asking_again_resumes_the_held_item_and_renews_it(steps):
    queue = make_queue(steps)
    ann = UserFactory()
    now = timezone.now()
    held = reserve.next_item(queue, ann, now=now)
    again = reserve.next_item(queue, ann, now=now + timedelta(minutes=10))
    assert again.pk == held.pk
    assert QueueItem.objects.get(pk=held.pk).reserved_until == now + timedelta(minutes=40)


def test_a_reservation_left_to_expire_goes_to_the_next_reviewer(steps):
    queue = make_queue(steps[:1], minutes=5)
    ann, bob = UserFactory(), UserFactory()
    now = timezone.now()
    held = reserve.next_item(queue, ann, now=now)
    assert reserve.next_item(queue, bob, now=now + timedelta(minutes=4)) is None  # still ann's
    taken = reserve.next_item(queue, bob, now=now + timedelta(minutes=6))
    assert taken.pk == held.pk and taken.reserved_by == bob


def test_a_released_item_is_free_at_once(steps):
    queue = make_queue(steps[:1])
    ann, bob = UserFactory(), UserFactory()
    item = reserve.next_item(queue, ann)
    assert reserve.release(item, bob) is False  # not bob's to give back
    assert reserve.release(item, ann) is True
    assert reserve.next_item(queue, bob).pk == item.pk


def test_a_reviewer_never_gets_an_item_twice_and_resumes_at_the_first_incomplete(steps):
    queue = make_queue(steps, k=2)
    ann = UserFactory()
    seen = []
    for _ in range(2):
        item = reserve.next_item(queue, ann)
        submit.submit_review(item, ann, {"verdict": "positive"})
        seen.append(item.step_id)
    assert seen == [s.pk for s in steps[:2]]
    assert reserve.next_item(queue, ann).step_id == steps[2].pk  # not one she reviewed


def test_skipped_items_come_back_last(steps):
    queue = make_queue(steps[:3])
    ann = UserFactory()
    first = reserve.next_item(queue, ann)
    submit.skip(first, ann)
    order = []
    while (item := reserve.next_item(queue, ann)) is not None:
        order.append(item.step_id)
        submit.submit_review(item, ann, {"verdict": "negative"})
    assert order == [steps[1].pk, steps[2].pk, steps[0].pk]


def test_only_assigned_reviewers_work_an_assigned_queue(steps):
    ann, bob = UserFactory(), UserFactory()
    queue = make_queue(steps, access="assigned", assigned=[ann])
    assert reserve.can_work(queue, ann) and not reserve.can_work(queue, bob)
    assert not reserve.can_work(make_queue(steps), UserFactory(role="viewer"))


@pytest.mark.django_db(transaction=True)
def test_reviewers_asking_at_the_same_instant_never_share_a_reservation():
    """Eight reviewers, each on its own PostgreSQL connection, ask for their next item at once,
    over and over, submitting each: no item is ever reserved by two, none reviewed twice."""
    assert connection.vendor == "postgresql"
    steps = [StepFactory() for _ in range(40)]
    queue = make_queue(steps, k=1)
    users = [UserFactory() for _ in range(8)]
    barrier = threading.Barrier(len(users))
    got: dict[int, list[int]] = {u.pk: [] for u in users}
    errors = []

    def work(user):
        from django.db import connections

        try:
            barrier.wait()
            while (item := reserve.next_item(queue, user)) is not None:
                got[user.pk].append(item.pk)
                submit.submit_review(item, user, {"verdict": "positive"})
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    handed_out = [pk for items in got.values() for pk in items]
    assert len(handed_out) == len(set(handed_out)) == 40  # every item once, to one reviewer
    assert set(QueueItem.objects.values_list("state", flat=True)) == {"done"}
    assert sum(1 for items in got.values() if items) > 1  # they really worked side by side


@pytest.mark.django_db(transaction=True)
def test_concurrent_next_requests_over_http_never_share_a_step(live_server, settings):
    """Six reviewers' scripts POST .../next/ at the same instant against a live server (a thread
    and a PostgreSQL connection per request), then review what they got, until the queue is empty."""
    import requests

    from steps.models import ApiToken

    settings.API_THROTTLE_RATE = ""
    queue = make_queue([StepFactory() for _ in range(30)], k=1)
    keys = [ApiToken.create_for(UserFactory(), "script")[1] for _ in range(6)]
    barrier = threading.Barrier(len(keys))
    served: list[tuple[int, str]] = []
    errors = []

    def work(key):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        base = f"{live_server.url}/api/v1/queues/{queue.pk}"
        try:
            barrier.wait()
            while (answer := session.post(f"{base}/next/", timeout=30)).status_code == 200:
                step = answer.json()["step"]["id"]
                served.append((answer.json()["item"], key))
                review = session.post(
                    f"{base}/items/{step}/reviews/", json={"scores": {"verdict": "positive"}}
                )
                assert review.status_code == 201, review.text
            assert answer.status_code == 204, answer.text
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    items = [item for item, _ in served]
    assert len(items) == len(set(items)) == 30  # each step served once, to one reviewer
    assert Review.objects.count() == 30 and not QueueItem.objects.exclude(state="done").exists()
