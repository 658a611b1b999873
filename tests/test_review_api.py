"""The review-queue API as a script uses it: a manager's token makes a queue, reviewers' tokens
reserve and review, the verdict resolves, agreement is read; refusals are JSON with the reason."""

import base64

import pytest
from django.test import Client

from steps.access import MANAGER_REFUSED, VIEWER_REFUSED
from steps.models import ApiToken, Step
from steps.review.models import Queue, QueueItem, Review, Rubric
from tests.factories import StepFactory, UserFactory

pytestmark = pytest.mark.django_db

ITEMS = [
    {"name": "verdict", "kind": "thumbs"},
    {"name": "accuracy", "kind": "scale", "choices": [1, 2, 3, 4, 5]},
    {"name": "note", "kind": "text", "required": False},
]


def client_of(user) -> Client:
    _, key = ApiToken.create_for(user, "script")
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {key}"})


def post(api, url, body=None):
    return api.post(url, body or {}, content_type="application/json")


@pytest.fixture
def failed_steps():
    StepFactory()  # a success, not in the queue
    return [StepFactory(failed=True) for _ in range(3)]


@pytest.fixture
def boss():
    return client_of(UserFactory(username="boss", role="manager"))


def make(api, **overrides):
    body = {
        "name": "Failed this week",
        "query": "status=failed",
        "mode": "snapshot",
        "rubric": ITEMS,
        "reviewers_per_item": 2,
        "reservation_minutes": 20,
        **overrides,
    }
    return post(api, "/api/v1/queues/", body)


def test_a_manager_makes_a_queue_from_a_filter_and_reviewers_work_it(boss, failed_steps):
    made = make(boss)
    assert made.status_code == 201, made.json()
    queue = made.json()
    assert queue["items_total"] == 3 and queue["rubric"]["locked"]
    assert [i["kind"] for i in queue["rubric"]["items"]] == ["thumbs", "scale", "text"]
    ann, bob = client_of(UserFactory(username="ann")), client_of(UserFactory(username="bob"))
    base = f"/api/v1/queues/{queue['id']}"

    first, second = post(ann, f"{base}/next/"), post(bob, f"{base}/next/")
    assert first.status_code == second.status_code == 200
    assert first.json()["step"]["id"] != second.json()["step"]["id"]
    assert first.json()["reserved_until"] and first.json()["step"]["status"] == "failed"
    assert post(ann, f"{base}/next/").json()["item"] == first.json()["item"]  # resumed

    step_id = first.json()["step"]["id"]
    url = f"{base}/items/{step_id}/reviews/"
    body = {"scores": {"verdict": "negative", "accuracy": 2}, "note": "<b>wrong tool</b>"}
    held = post(bob, url, body)
    assert held.status_code == 409 and "Another reviewer holds" in held.json()["detail"]
    created = post(ann, url, body)
    assert created.status_code == 201 and created.json()["note"] == "<b>wrong tool</b>"
    again = post(ann, url, {"scores": {"verdict": "positive", "accuracy": 5}})
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    assert again.json()["scores"] == {"verdict": "negative", "accuracy": 2}
    assert post(bob, url, {"scores": {"verdict": "negative", "accuracy": 4}}).status_code == 201

    item = QueueItem.objects.get(step_id=step_id)
    assert (item.state, item.verdict) == ("done", {"verdict": "negative", "accuracy": 3})
    detail = boss.get(f"{base}/").json()
    assert detail["items_done"] == 1 and detail["progress"]["reviews"] == 2
    agreement = boss.get(f"{base}/agreement/").json()
    assert set(agreement["items"]) == {"verdict", "accuracy"}
    assert agreement["items"]["verdict"]["n"] == 1 and agreement["items"]["verdict"]["percent"] == 100


def test_nothing_left_is_a_204(boss, failed_steps):
    queue = make(boss, reviewers_per_item=1, query="status=failed").json()
    ann = client_of(UserFactory())
    for _ in range(3):
        step = post(ann, f"/api/v1/queues/{queue['id']}/next/").json()["step"]["id"]
        review = post(
            ann,
            f"/api/v1/queues/{queue['id']}/items/{step}/reviews/",
            {"scores": {"verdict": "positive", "accuracy": 5}},
        )
        assert review.status_code == 201
    assert post(ann, f"/api/v1/queues/{queue['id']}/next/").status_code == 204


def test_bad_scores_are_a_400_naming_each_item(boss, failed_steps):
    queue = make(boss).json()
    ann = client_of(UserFactory())
    step = post(ann, f"/api/v1/queues/{queue['id']}/next/").json()["step"]["id"]
    answer = post(
        ann, f"/api/v1/queues/{queue['id']}/items/{step}/reviews/", {"scores": {"verdict": "meh", "speed": 1}}
    )
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert errors["verdict"] == ["Pick positive or negative."] and errors["accuracy"] == ["Required."]
    assert "speed" in errors and not Review.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"rubric": [{"name": "v", "kind": "stars"}]}, "rubric"),
        ({"rubric": 999999}, "rubric"),
        ({"rubric": "thumbs"}, "rubric"),
        ({"query": "status=exploded"}, "query"),
        ({"mode": "forever"}, "mode"),
        ({"reviewers_per_item": 0}, "reviewers_per_item"),
        ({"access": "assigned", "assigned": ["nobody"]}, "assigned"),
        ({"tag_items": ["verdict"]}, "tag_items"),
    ],
)
def test_a_bad_queue_is_a_400_and_makes_nothing(boss, failed_steps, overrides, field):
    answer = make(boss, **overrides)
    assert answer.status_code == 400 and field in answer.json()["errors"], answer.json()
    assert not Queue.objects.exists() and not Rubric.objects.exists()


def test_only_managers_make_queues_and_viewers_review_nothing(boss, failed_steps):
    assert make(client_of(UserFactory())).json() == {"detail": MANAGER_REFUSED}
    queue = make(boss).json()
    viewer = client_of(UserFactory(role="viewer"))
    assert viewer.get(f"/api/v1/queues/{queue['id']}/").status_code == 200  # reads stay open
    answer = post(viewer, f"/api/v1/queues/{queue['id']}/next/")
    assert answer.status_code == 403 and answer.json() == {"detail": VIEWER_REFUSED}
    assert not QueueItem.objects.filter(reserved_by__isnull=False).exists()


def test_an_assigned_queue_refuses_other_reviewers(boss, failed_steps):
    UserFactory(username="ann")
    queue = make(boss, access="assigned", assigned=["ann"]).json()
    answer = post(client_of(UserFactory(username="bob")), f"/api/v1/queues/{queue['id']}/next/")
    assert answer.status_code == 403 and "not a reviewer of this queue" in answer.json()["detail"]


def test_a_tie_is_decided_by_a_manager_through_the_api(boss, failed_steps):
    queue = make(
        boss, rubric=[{"name": "verdict", "kind": "thumbs"}], query=f"run={failed_steps[0].run_id}"
    ).json()
    step = failed_steps[0].pk
    for name, value in (("ann", "positive"), ("bob", "negative")):
        api = client_of(UserFactory(username=name))
        assert (
            post(
                api, f"/api/v1/queues/{queue['id']}/items/{step}/reviews/", {"scores": {"verdict": value}}
            ).status_code
            == 201
        )
    ties = boss.get(f"/api/v1/queues/{queue['id']}/items/?state=adjudicate").json()["results"]
    assert [t["step"] for t in ties] == [step]
    url = f"/api/v1/queues/{queue['id']}/items/{step}/adjudicate/"
    assert post(client_of(UserFactory()), url, {"verdict": {"verdict": "positive"}}).status_code == 403
    decided = post(boss, url, {"verdict": {"verdict": "positive"}})
    assert decided.status_code == 200, decided.json()
    assert decided.json()["state"] == "done" and decided.json()["adjudicated_by"] == "boss"
    assert decided.json()["write_back"] == "pending"
    assert post(boss, url, {"verdict": {"verdict": "negative"}}).status_code == 409


def test_skip_release_and_undo(boss, failed_steps):
    queue = make(boss, reviewers_per_item=1).json()
    base = f"/api/v1/queues/{queue['id']}"
    ann = client_of(UserFactory())
    first = post(ann, f"{base}/next/").json()["step"]["id"]
    assert post(ann, f"{base}/items/{first}/skip/").status_code == 204
    second = post(ann, f"{base}/next/").json()["step"]["id"]
    assert second != first
    assert post(ann, f"{base}/items/{second}/release/").json() == {"released": True}
    assert post(ann, f"{base}/undo/").status_code == 204
    post(ann, f"{base}/items/{second}/reviews/", {"scores": {"verdict": "positive", "accuracy": 3}})
    assert post(ann, f"{base}/undo/").status_code == 409  # k = 1: decided by that review


def test_the_queue_list_pages_newest_first(boss, failed_steps):
    for name in ("a", "b", "c"):
        make(boss, name=name, mode="live")
    page = boss.get("/api/v1/queues/?page_size=2").json()
    assert [q["name"] for q in page["results"]] == ["c", "b"]
    assert [q["name"] for q in boss.get(page["next"]).json()["results"]] == ["a"]
    forged = base64.b64encode(b"p=2024-02-30").decode()
    assert boss.get("/api/v1/queues/", {"cursor": forged}).status_code == 400


def test_the_schema_documents_the_queue_endpoints(boss):
    paths = boss.get("/api/v1/schema/").json()["paths"]
    assert {
        "/api/v1/queues/",
        "/api/v1/queues/{queue_id}/next/",
        "/api/v1/queues/{queue_id}/items/{step_id}/reviews/",
        "/api/v1/queues/{queue_id}/agreement/",
    } <= set(paths)
    assert Step.objects.count() == 0


def test_a_pairwise_queue_serves_both_steps_and_takes_a_b_or_tie(boss, failed_steps):
    a, b, c = failed_steps
    body = {
        "kind": "pairwise",
        "pairs": [[a.pk, b.pk], [a.pk, c.pk]],
        "rubric": [{"name": "better", "kind": "thumbs"}],
    }
    queue = make(boss, reviewers_per_item=1, **body).json()
    assert queue["items_total"] == 2 and queue["kind"] == "pairwise"
    ann = client_of(UserFactory())
    base = f"/api/v1/queues/{queue['id']}"
    for expected_b in (b.pk, c.pk):
        served = post(ann, f"{base}/next/").json()
        assert (served["step"]["id"], served["step_b"]["id"]) == (a.pk, expected_b)
        review = post(ann, f"{base}/items/{a.pk}/reviews/", {"scores": {"better": "b"}})
        assert review.status_code == 201 and review.json()["verdict"] == {"better": "b"}
    assert post(ann, f"{base}/next/").status_code == 204


def test_rubrics_are_listed_and_made_by_managers(boss):
    made = post(boss, "/api/v1/rubrics/", {"name": "Support", "items": ITEMS})
    assert made.status_code == 201 and [i["name"] for i in made.json()["items"]] == [
        "verdict",
        "accuracy",
        "note",
    ]
    bad = post(boss, "/api/v1/rubrics/", {"name": "x", "items": [{"name": "v", "kind": "stars"}]})
    assert bad.status_code == 400 and "kind must be one of" in bad.json()["errors"]["items"][0]
    assert (
        post(client_of(UserFactory()), "/api/v1/rubrics/", {"name": "y", "items": ITEMS}).status_code == 403
    )
    listed = client_of(UserFactory(role="viewer")).get("/api/v1/rubrics/").json()["results"]
    assert [r["id"] for r in listed] == [made.json()["id"]]
    assert boss.get(f"/api/v1/rubrics/{made.json()['id']}/").json()["locked"] is False
    queue = make(boss, rubric=made.json()["id"], mode="live")
    assert queue.status_code == 201 and queue.json()["rubric"]["locked"] is True


def test_a_manager_edits_and_archives_a_queue(boss, failed_steps):
    queue = make(boss).json()
    url = f"/api/v1/queues/{queue['id']}/"
    changed = boss.patch(
        url,
        {"reservation_minutes": 5, "instructions": "<i>look at tools</i>"},
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["reservation_minutes"], changed.json()["instructions"]) == (
        5,
        "<i>look at tools</i>",
    )
    assert "progress" in changed.json()
    refused = client_of(UserFactory()).patch(url, {"archived": True}, content_type="application/json")
    assert refused.status_code == 403 and refused.json() == {"detail": MANAGER_REFUSED}
    bad = boss.patch(url, {"reviewers_per_item": 0}, content_type="application/json")
    assert bad.status_code == 400 and "reviewers_per_item" in bad.json()["errors"]
    assert boss.patch(url, {"archived": True}, content_type="application/json").json()["archived_at"]
    answer = post(client_of(UserFactory()), f"{url}next/")
    assert answer.status_code == 409 and "archived" in answer.json()["detail"]
