"""A queue's agreement report and disagreements (steps/review/figures.py), from Reviews in PostgreSQL."""

from __future__ import annotations

import pytest

from steps.review.figures import agreement_report, disagreement_ids, disagreements
from tests.factories import UserFactory
from tests.review_data import make_queue, make_rubric
from tests.test_review_agreement import alpha_by_hand

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return UserFactory(username="ann"), UserFactory(username="bob"), UserFactory(username="cem")


def test_report_per_rubric_item(team):
    ann, bob, cem = team
    queue = make_queue(
        [
            {
                ann: {"verdict": "positive", "accuracy": 5, "topic": "bug"},
                bob: {"verdict": "positive", "accuracy": 4, "topic": "bug"},
            },
            {
                ann: {"verdict": "negative", "accuracy": 2, "topic": "billing"},
                bob: {"verdict": "negative", "accuracy": 1, "topic": "billing"},
            },
            {
                ann: {"verdict": "positive", "accuracy": 4, "topic": "bug"},
                bob: {"verdict": "negative", "accuracy": 2, "topic": "other"},
            },
            {
                ann: {"verdict": "positive", "accuracy": 5, "topic": "other"},
                cem: {"verdict": "positive", "accuracy": 5, "topic": "other"},
            },
            {cem: {"verdict": "negative", "accuracy": 1, "topic": "bug", "comment": "only one review"}},
        ]
    )
    report = agreement_report(queue)
    verdict = report["items"]["verdict"]
    assert verdict["n"] == 4 and verdict["percent"] == 75.0 and verdict["level"] == "nominal"
    thumbs = {
        1: {"a": "positive", "b": "positive"},
        2: {"a": "negative", "b": "negative"},
        3: {"a": "positive", "b": "negative"},
        4: {"a": "positive", "c": "positive"},
    }
    assert verdict["alpha"] == pytest.approx(alpha_by_hand(thumbs, "nominal"))
    accuracy = report["items"]["accuracy"]
    assert accuracy["level"] == "ordinal" and accuracy["n"] == 4 and accuracy["percent"] == 25.0
    scale = {1: {"a": 5, "b": 4}, 2: {"a": 2, "b": 1}, 3: {"a": 4, "b": 2}, 4: {"a": 5, "c": 5}}
    assert accuracy["alpha"] == pytest.approx(alpha_by_hand(scale, "ordinal"))
    assert report["items"]["topic"]["disagreements"] == 1
    assert "comment" not in report["items"]  # free text is not compared
    assert report["reviews"] == 9 and report["items_reviewed"] == 5


def test_reviewer_table_and_figures(team):
    ann, bob, cem = team
    queue = make_queue(
        [
            {ann: {"verdict": "positive"}, bob: {"verdict": "positive"}},
            {ann: {"verdict": "negative"}, bob: {"verdict": "positive"}},
            {ann: {"verdict": "negative"}, cem: {"verdict": "negative"}},
        ],
        rubric=make_rubric([{"name": "verdict", "kind": "thumbs"}]),
    )
    report = agreement_report(queue)
    pairs = {(p["a_username"], p["b_username"]): (p["percent"], p["n"]) for p in report["pairs"]}
    assert pairs == {("ann", "bob"): (50.0, 2), ("ann", "cem"): (100.0, 1)}
    reviewers = {r["username"]: r for r in report["reviewers"]}
    assert reviewers["ann"]["done"] == 3
    assert reviewers["ann"]["median_seconds"] == 10.0  # first to review each step: 10 s (make_queue)
    assert reviewers["bob"]["median_seconds"] == 20.0
    assert reviewers["ann"]["agree_percent"] == pytest.approx(200 / 3)
    assert report["reviewers"][0]["username"] == "ann"  # most done first


def test_empty_queue_has_no_figures():
    queue = make_queue([])
    report = agreement_report(queue)
    assert report["items"]["verdict"] == {
        "alpha": None,
        "percent": None,
        "n": 0,
        "kind": "thumbs",
        "level": "nominal",
        "disagreements": 0,
    }
    assert report["reviewers"] == [] and report["pairs"] == [] and report["reviews"] == 0


def test_disagreements_in_queue_order(team):
    ann, bob, _ = team
    queue = make_queue(
        [
            {ann: {"verdict": "positive", "accuracy": 3}, bob: {"verdict": "negative", "accuracy": 3}},
            {ann: {"verdict": "positive", "accuracy": 3}, bob: {"verdict": "positive", "accuracy": 3}},
            {ann: {"verdict": "positive", "accuracy": 3}, bob: {"verdict": "positive", "accuracy": 4}},
            {ann: {"verdict": "negative", "accuracy": 1}, bob: {"verdict": "positive", "accuracy": 1}},
        ]
    )
    items = list(queue.items.order_by("position"))
    assert disagreement_ids(queue, "verdict") == [items[0].pk, items[3].pk]
    assert list(disagreements(queue, "accuracy")) == [items[2]]
    assert disagreement_ids(queue) == [items[0].pk, items[2].pk, items[3].pk]  # any item
    assert disagreement_ids(queue, "no such item") == []
    assert disagreement_ids(queue, "comment") == []  # free text is never "a disagreement"


def test_pairwise_choices_are_nominal(team):
    ann, bob, _ = team
    queue = make_queue(
        [
            {ann: {"accuracy": "a"}, bob: {"accuracy": "a"}},
            {ann: {"accuracy": "b"}, bob: {"accuracy": "tie"}},
        ],
        rubric=make_rubric([{"name": "accuracy", "kind": "scale", "choices": [1, 2, 3]}]),
        kind="pairwise",
    )
    accuracy = agreement_report(queue)["items"]["accuracy"]
    assert accuracy["level"] == "nominal" and accuracy["n"] == 2 and accuracy["percent"] == 50.0


def test_other_queues_reviews_do_not_count(team):
    ann, bob, _ = team
    make_queue([{ann: {"verdict": "positive"}, bob: {"verdict": "negative"}}], name="other")
    queue = make_queue([{ann: {"verdict": "positive"}, bob: {"verdict": "positive"}}])
    assert agreement_report(queue)["items"]["verdict"]["percent"] == 100.0


def test_report_reads_a_fixed_number_of_queries(team, django_assert_num_queries):
    ann, bob, cem = team
    queue = make_queue(
        [{ann: {"verdict": "positive"}, bob: {"verdict": "negative"}, cem: {"verdict": "positive"}}] * 30
    )
    # rubric items, reviews, usernames: the same three whatever the queue's size
    with django_assert_num_queries(3):
        agreement_report(queue)


def test_hand_edited_scores_do_not_break_the_report(team):
    ann, bob, _ = team
    queue = make_queue([{ann: {"verdict": "positive"}, bob: {"verdict": "positive"}}])
    review = queue.items.get().reviews.first()
    review.scores = ["not", "a", "dict"]
    review.save()
    report = agreement_report(queue)
    assert report["reviews"] == 2 and report["items"]["verdict"]["n"] == 0


def test_the_api_agreement_of_reviews_given_through_the_api_equals_the_hand_computation():
    """End to end: a manager's token makes a k = 3 queue, three reviewers' tokens reserve and
    score every step, and GET .../agreement/ equals alpha computed here from the coincidence matrix."""
    import random

    from steps.models import ApiToken
    from tests.factories import StepFactory

    def client_of(user):
        from django.test import Client

        _, key = ApiToken.create_for(user, "script")
        return Client(headers={"Authorization": f"Bearer {key}"})

    steps = [StepFactory() for _ in range(8)]
    boss = client_of(UserFactory(username="boss", role="manager"))
    created = boss.post(
        "/api/v1/queues/",
        {
            "name": "calibration",
            "query": "",
            "mode": "snapshot",
            "rubric": [
                {"name": "verdict", "kind": "thumbs"},
                {"name": "accuracy", "kind": "scale", "choices": [1, 2, 3, 4, 5]},
            ],
            "reviewers_per_item": 3,
            "reservation_minutes": 10,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    base = f"/api/v1/queues/{created.json()['id']}"
    rng = random.Random(8)
    truth = {s.pk: (rng.choice(["positive", "negative"]), rng.randint(1, 5)) for s in steps}
    given = {"verdict": {}, "accuracy": {}}
    for name in ("ann", "bob", "cem"):
        api = client_of(UserFactory(username=name))
        while (reserved := api.post(f"{base}/next/")).status_code == 200:
            step_id = reserved.json()["step"]["id"]
            thumb, points = truth[step_id]
            if rng.random() < 0.3:
                thumb = "negative" if thumb == "positive" else "positive"
            points = min(5, max(1, points + rng.choice([0, 0, 1, -1])))
            answer = api.post(
                f"{base}/items/{step_id}/reviews/",
                {"scores": {"verdict": thumb, "accuracy": points}, "note": ""},
                content_type="application/json",
            )
            assert answer.status_code == 201, answer.content
            given["verdict"].setdefault(step_id, {})[name] = thumb
            given["accuracy"].setdefault(step_id, {})[name] = points
        assert reserved.status_code == 204
    report = boss.get(f"{base}/agreement/").json()
    for name, level in (("verdict", "nominal"), ("accuracy", "ordinal")):
        assert report["items"][name]["n"] == len(steps)
        assert report["items"][name]["alpha"] == pytest.approx(alpha_by_hand(given[name], level), abs=1e-9)
