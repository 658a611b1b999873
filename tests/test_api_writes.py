"""Votes, tags, notes and bulk votes through the API: the UI's outbox, written back to the simulator."""

import pytest
from django.http import QueryDict

from steps.filters import StepFilterForm
from steps.models import FeedbackPush, Step, StepReview, StepVote
from steps.sync import run_sync
from tests.factories import StepFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mirrored(simulator, letta, settings):
    """The simulator's steps in the mirror and the app pointed at it, tasks run in the request (eager)."""
    settings.LETTA_BASE_URL = simulator.base_url
    settings.LETTA_MAX_RETRIES = 0
    settings.CELERY_TASK_ALWAYS_EAGER = True
    run_sync(letta)
    return list(Step.objects.filter(status="success", feedback="").order_by("pk"))


def post(api, url, data, capture, method="post"):
    with capture(execute=True):  # the commit happens: the push task runs as it would in the worker
        return getattr(api, method)(url, data, content_type="application/json")


def test_an_api_vote_is_written_back_to_letta(
    api, mirrored, simulator, token_user, django_capture_on_commit_callbacks
):
    step = mirrored[0]
    response = post(
        api, f"/api/v1/steps/{step.pk}/feedback", {"value": "positive"}, django_capture_on_commit_callbacks
    )
    assert response.status_code == 200
    assert simulator.world.step_payload(step.pk)["feedback"] == "positive"
    push = FeedbackPush.objects.get(step=step)
    assert (push.status, push.source, push.created_by) == ("done", "api", token_user)
    # the answer comes before the worker's push: recorded, being written; then read back: saved
    assert response.json()["write_back"] == "saving" and response.json()["feedback"] == "positive"
    review = api.get(f"/api/v1/steps/{step.pk}/?traces=none").json()["review"]
    assert review["write_back"] == "saved" and review["letta"]["feedback"] == "positive"
    assert review["voted_by"] == "scripter"

    cleared = post(
        api, f"/api/v1/steps/{step.pk}/feedback", {"value": "clear"}, django_capture_on_commit_callbacks
    )
    assert cleared.json()["feedback"] == ""
    assert simulator.world.step_payload(step.pk)["feedback"] is None


def test_a_vote_is_saving_until_the_worker_ran(api, mirrored, simulator):
    step = mirrored[1]
    body = api.post(
        f"/api/v1/steps/{step.pk}/feedback", {"value": "negative"}, content_type="application/json"
    ).json()
    # no commit in this test transaction, so no task: the vote is recorded, its write-back pending
    assert body["write_back"] == "saving" and body["push"]["status"] == "pending"
    assert StepVote.objects.get(step=step).feedback == "negative"
    assert simulator.world.step_payload(step.pk)["feedback"] is None


def test_tags_and_notes(api, mirrored, simulator, django_capture_on_commit_callbacks):
    step = mirrored[2]
    url = f"/api/v1/steps/{step.pk}/tags"
    body = post(api, url, {"add": ["golden", "needs-fix"]}, django_capture_on_commit_callbacks).json()
    assert body["tags"] == ["golden", "needs-fix"] and body["write_back"] == "saving"
    assert simulator.world.step_payload(step.pk)["tags"] == ["golden", "needs-fix"]
    body = post(api, url, {"remove": ["needs-fix"]}, django_capture_on_commit_callbacks).json()
    assert simulator.world.step_payload(step.pk)["tags"] == ["golden"]
    body = post(
        api,
        f"/api/v1/steps/{step.pk}/notes",
        {"notes": "  retry with a smaller model "},
        django_capture_on_commit_callbacks,
        "put",
    ).json()
    assert body["notes"] == "retry with a smaller model"
    assert StepReview.objects.get(step=step).notes == "retry with a smaller model"


@pytest.mark.parametrize(
    ("url", "data", "field"),
    [
        ("feedback", {"value": "maybe"}, "value"),
        ("feedback", {}, "value"),
        ("tags", {}, "non_field_errors"),
        ("tags", {"add": ["x" * 101]}, "add"),
        ("tags", {"add": ["nul\x00"]}, "add"),
    ],
)
def test_invalid_writes_are_400s_naming_the_field(api, url, data, field):
    step = StepFactory()
    response = api.post(f"/api/v1/steps/{step.pk}/{url}", data, content_type="application/json")
    assert response.status_code == 400 and field in response.json()["errors"]
    assert not FeedbackPush.objects.exists()


def test_bulk_vote_on_a_filter_needs_the_count_and_reaches_every_step(
    api, mirrored, simulator, django_capture_on_commit_callbacks
):
    agent = mirrored[0].agent_id
    query = f"agent={agent}&status=success"
    matching = list(StepFilterForm(QueryDict(query)).filter(Step.objects.all()).values_list("pk", flat=True))
    count = api.get(f"/api/v1/steps/bulk-feedback?{query}").json()
    assert count == {"count": len(matching), "query": query}

    url = f"/api/v1/steps/bulk-feedback?{query}"
    refused = post(
        api,
        url,
        {"value": "positive", "expected_count": len(matching) + 5},
        django_capture_on_commit_callbacks,
    )
    assert refused.status_code == 409 and refused.json()["count"] == len(matching)
    assert not FeedbackPush.objects.exists()

    started = post(
        api, url, {"value": "positive", "expected_count": len(matching)}, django_capture_on_commit_callbacks
    )
    assert started.status_code == 202
    batch = api.get(started.json()["url"]).json()
    assert batch["total"] == batch["applied"] == batch["done"] == len(matching) and batch["finished"]
    assert all(simulator.world.step_payload(pk)["feedback"] == "positive" for pk in matching)


def test_bulk_refuses_an_invalid_filter(api):
    response = api.post(
        "/api/v1/steps/bulk-feedback?status=exploded",
        {"value": "positive", "expected_count": 0},
        content_type="application/json",
    )
    assert response.status_code == 400 and "status" in response.json()["errors"]


DEEP = "[" * 100_000 + "]" * 100_000  # Python's json gives up with a RecursionError
PARSEABLE_BUT_DEEP = '{"value": ' + "[" * 5000 + "]" * 5000 + ', "add": ["x"], "notes": "x"}'


@pytest.mark.parametrize("body", [DEEP, PARSEABLE_BUT_DEEP])
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/v1/steps/{}/feedback"),
        ("post", "/api/v1/steps/{}/tags"),
        ("put", "/api/v1/steps/{}/notes"),
        ("post", "/api/v1/steps/bulk-feedback"),
    ],
)
def test_a_body_nested_too_deep_is_a_400_and_changes_nothing(api, method, url, body):
    step = StepFactory()
    StepReview.objects.create(step=step, notes="kept")
    response = getattr(api, method)(url.format(step.pk), body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "The body is not valid JSON: nested more than 32 levels deep."}
    assert not FeedbackPush.objects.exists() and StepReview.objects.get(step=step).notes == "kept"
