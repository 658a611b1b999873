"""The agreement page and the list of steps where reviewers disagree."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import UserFactory
from tests.review_data import make_queue, make_rubric

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def team():
    return UserFactory(username="ann"), UserFactory(username="bob"), UserFactory(username="cem")


@pytest.fixture
def queue(team):
    ann, bob, cem = team
    return make_queue(
        [
            {ann: {"verdict": "positive", "accuracy": 5}, bob: {"verdict": "positive", "accuracy": 5}},
            {ann: {"verdict": "negative", "accuracy": 2}, bob: {"verdict": "positive", "accuracy": 4}},
            {ann: {"verdict": "positive", "accuracy": 4}, cem: {"verdict": "positive", "accuracy": 3}},
            {bob: {"verdict": "negative", "accuracy": 1}, cem: {"verdict": "negative", "accuracy": 1}},
        ]
    )


def test_agreement_page_shows_each_items_figures(client, queue):
    client.force_login(UserFactory(role="viewer"))  # viewers read everything
    response = client.get(reverse("review:queue_agreement", args=[queue.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Krippendorff" in page
    assert "75.0%" in page  # verdict: 3 of 4 steps agree
    assert "50.0%" in page  # accuracy: the 5s and the 1s agree, 2 of 4
    assert "comment" in page and "are not compared" in page  # the free-text item, said so
    disagreements = reverse("review:queue_disagreements", args=[queue.pk])
    assert f"{disagreements}?item=verdict" in page
    assert "Steps where reviewers disagree" in page
    # per reviewer: ann reviewed three steps; the reviewer-by-reviewer table names every pair
    assert response.context["report"]["reviewers"][0]["username"] == "ann"
    assert len(response.context["matrix"]) == 3


def test_agreement_page_of_a_queue_without_reviews(client):
    queue = make_queue([], k=1)
    client.force_login(UserFactory())
    page = client.get(reverse("review:queue_agreement", args=[queue.pk])).content.decode()
    assert "No reviews yet" in page and "raise “reviewers per step” to 2" in page


def test_hostile_rubric_and_queue_text_stay_text(client, team):
    ann, bob, _ = team
    rubric = make_rubric([{"name": "v<b>", "kind": "thumbs", "description": HOSTILE}], name=HOSTILE)
    queue = make_queue(
        [{ann: {"v<b>": "positive", "_note": HOSTILE}, bob: {"v<b>": "negative"}}],
        rubric=rubric,
        name=HOSTILE,
    )
    client.force_login(UserFactory())
    for url in (
        reverse("review:queue_agreement", args=[queue.pk]),
        reverse("review:queue_disagreements", args=[queue.pk]) + "?item=v%3Cb%3E",
    ):
        page = client.get(url).content.decode()
        assert "<script>alert" not in page and "<img src=x" not in page and "v<b>" not in page
        assert "&lt;script&gt;" in page


def test_disagreements_list_only_steps_that_differ(client, queue):
    client.force_login(UserFactory())
    url = reverse("review:queue_disagreements", args=[queue.pk])
    items = list(queue.items.order_by("position"))
    response = client.get(url)
    assert [row.item for row in response.context["rows"]] == [items[1], items[2]]
    page = response.content.decode()
    assert "2 steps where reviewers disagree" in page
    assert reverse("step_detail", args=[items[1].step_id]) in page
    assert reverse("step_detail", args=[items[0].step_id]) not in page
    # each reviewer's values side by side, the differing ones marked
    assert "#i-thumb-down" in page and 'class="differs"' in page
    by_item = client.get(url + "?item=verdict")
    assert [row.item for row in by_item.context["rows"]] == [items[1]]


def test_disagreements_bad_input(client, queue):
    client.force_login(UserFactory())
    url = reverse("review:queue_disagreements", args=[queue.pk])
    response = client.get(url + "?item=nope")
    assert response.status_code == 400
    assert "no compared item “nope”" in response.content.decode()
    assert client.get(url + "?item=comment").status_code == 400  # free text is never compared
    assert client.get(url + "?page=banana").status_code == 200
    assert client.get(url + "?page=999999").status_code == 200
    assert client.get(reverse("review:queue_agreement", args=[987654])).status_code == 404


def test_disagreements_pages_and_queries_are_bounded(client, team, django_assert_max_num_queries):
    ann, bob, _ = team
    queue = make_queue([{ann: {"verdict": "positive"}, bob: {"verdict": "negative"}}] * 30)
    client.force_login(UserFactory())
    url = reverse("review:queue_disagreements", args=[queue.pk])
    with django_assert_max_num_queries(12):
        first = client.get(url)
    assert len(first.context["rows"]) == 25 and "Page 1 of 2" in first.content.decode()
    assert len(client.get(url + "?page=2").context["rows"]) == 5


def test_pages_need_sign_in(client, queue):
    response = client.get(reverse("review:queue_agreement", args=[queue.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]
