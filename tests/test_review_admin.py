"""The admin of team review: every changelist renders; a used rubric's questions cannot be edited;
a corrected review still answers its rubric; deleting a review recounts its item."""

import pytest
from django.urls import reverse

from steps.review import reserve, submit
from steps.review.models import QueueItem, Review
from tests.factories import StepFactory, UserFactory
from tests.review_helpers import FULL, make_queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True, role="manager"))
    return client


@pytest.fixture
def reviewed():
    queue = make_queue([StepFactory(), StepFactory()], items=FULL, k=2)
    ann = UserFactory(username="ann")
    item = reserve.next_item(queue, ann)
    submit.submit_review(
        item, ann, {"verdict": "positive", "accuracy": 4, "topic": "bug", "comment": "<b>x</b>"}
    )
    submit.skip(reserve.next_item(queue, ann), ann)
    return queue


@pytest.mark.parametrize("model", ["rubric", "queue", "queueitem", "review", "skip"])
def test_changelists_and_change_pages_render(admin_client, reviewed, model):
    assert admin_client.get(reverse(f"admin:review_{model}_changelist")).status_code == 200
    obj = {"rubric": reviewed.rubric, "queue": reviewed, "queueitem": reviewed.items.first()}.get(model)
    obj = obj or (Review.objects.first() if model == "review" else None)
    if obj is not None:
        response = admin_client.get(reverse(f"admin:review_{model}_change", args=[obj.pk]))
        assert response.status_code == 200
        assert b"<b>x</b>" not in response.content


def test_a_used_rubrics_items_are_shown_not_edited(admin_client, reviewed):
    html = admin_client.get(reverse("admin:review_rubric_change", args=[reviewed.rubric.pk])).content.decode()
    assert "accuracy" in html and 'name="items-0-name"' not in html


def test_a_corrected_review_is_checked_against_its_rubric(admin_client, reviewed):
    review = Review.objects.get()
    url = reverse("admin:review_review_change", args=[review.pk])
    bad = admin_client.post(url, {"scores": '{"verdict": "great"}', "note": ""})
    assert bad.status_code == 200 and "Pick positive or negative" in bad.content.decode()
    good = admin_client.post(
        url, {"scores": '{"verdict": "negative", "accuracy": 2, "topic": "other"}', "note": "fixed"}
    )
    assert good.status_code == 302
    review.refresh_from_db()
    assert (
        review.scores == {"verdict": "negative", "accuracy": 2, "topic": "other"} and review.note == "fixed"
    )


def test_deleting_a_review_recounts_its_item(admin_client, reviewed):
    review = Review.objects.get()
    admin_client.post(reverse("admin:review_review_delete", args=[review.pk]), {"post": "yes"})
    assert not Review.objects.exists()
    assert QueueItem.objects.get(pk=review.item_id).reviews_count == 0
