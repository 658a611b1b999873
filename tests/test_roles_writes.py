"""Roles on every write route, pages and API, walked from the URLconf: a viewer is refused with a
403 that says why and nothing is written; a reviewer's writes land; a manager can do what a
reviewer can. A new POST route without a role check fails test_a_viewer_posts_nowhere."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from steps.access import VIEWER_REFUSED, set_role
from steps.alerts.models import Alert, Destination, Notification, Rule, SavedView
from steps.models import ApiToken, FeedbackBatch, FeedbackPush, ShareLink, StepReview, StepVote
from steps.pages import share
from steps.review.models import Queue, QueueItem, Review, Skip
from tests.factories import RunFactory, StepFactory, SyncRunFactory, UserFactory
from tests.review_helpers import make_queue
from tests.test_urls_require_login import is_api, routes

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
# Posting to these changes only the poster's own session or account, never review data: open to
# every role (a viewer's API token reads, as the viewer does).
OPEN_TO_EVERY_ROLE = {"login", "logout", "api_tokens", "api_token_revoke"}
# A personal saved view changes only its owner's sidebar (issue 21: anyone saves views); sharing one,
# and deleting someone else's, is still refused below the role (steps/alerts/).
OPEN_TO_EVERY_ROLE |= {"view_list", "view_make_default", "view_delete"}
API_OPEN_TO_EVERY_ROLE = {"api:view-list", "api:view-detail"}
# The page routes that write review data today; each must be refused to a viewer with the role's
# message (the walk below also catches a route that is missing from this list).
PAGE_WRITES = {
    "step_vote",
    "step_vote_retry",
    "step_vote_resolve",
    "step_tags",
    "step_note",
    "bulk_start",
    "share_create",
    "share_revoke",
    # working a review queue (creating, editing and adjudicating are a manager's: 403 to both)
    "review:item_submit",
    "review:item_skip",
    "review:queue_undo",
}
API_WRITES = {
    ("api:step-feedback", "post"),
    ("api:step-tags", "post"),
    ("api:step-notes", "put"),
    ("api:bulk-feedback", "post"),
    ("api:queue-next", "post"),
    ("api:queue-undo", "post"),
    ("api:queue-item-reviews", "post"),
    ("api:queue-item-release", "post"),
    ("api:queue-item-skip", "post"),
}
ARG = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
# what each write reads from the form; a viewer's request is refused before any of it matters
FORM = {
    "value": "positive",
    "keep": "mine",
    "add": "checked",
    "notes": "a note",
    "action": "positive",
    "expiry": "1d",
}
JSON = {
    "value": "positive",
    "add": ["checked"],
    "notes": "a note",
    "expected_count": 1,
    "scores": {"verdict": "positive"},
}


@pytest.fixture
def world():
    owner = UserFactory(username="owner")
    run = RunFactory()
    step = StepFactory(run_id=run.id, agent_id=run.agent_id)
    link = share.create_link(step, owner, "1d")
    batch = FeedbackBatch.objects.create(created_by=owner, action="positive", params={"step_ids": [step.pk]})
    token = ApiToken.create_for(owner, "owner's script")[0]
    sync_run = SyncRunFactory()
    queue = make_queue([step], k=2, user=owner)
    view = SavedView.objects.create(owner=owner, name="failed", query="status=failed", shared=True)
    destination = Destination.for_url("json://127.0.0.1:9/hook")
    rule = Rule.objects.create(name="r", view=view, action="tag", tags=["x"])
    alert = Alert.objects.create(
        name="a", series="error_rate", condition="above", threshold=0.5, destination=destination
    )
    notification = Notification.objects.create(destination=destination, alert=alert, title="t", body="b")
    return {
        "view": view,
        "rule": rule,
        "alert": alert,
        "notification": notification,
        "queue": queue,
        "owner": owner,
        "run": run,
        "step": step,
        "link": link,
        "batch": batch,
        "token": token,
        "sync_run": sync_run,
    }


def url_for(route: str, world: dict) -> str:
    """The route with each path argument set to an object that exists."""
    values = {
        "step_id": world["step"].pk,
        "a_id": world["step"].pk,
        "b_id": world["step"].pk,
        "run_id": world["run"].pk,
        "agent_id": world["run"].agent_id,
        "batch_id": world["batch"].pk,
        "link_id": world["link"].pk,
        "token_id": world["token"].pk,
        "sync_run_id": world["sync_run"].pk,
        "queue_id": world["queue"].pk,
        "item_id": world["queue"].items.first().pk,
        "rubric_id": world["queue"].rubric_id,
        "token": share.signed_token(world["link"]),
        "view_id": world["view"].pk,
        "rule_id": world["rule"].pk,
        "alert_id": world["alert"].pk,
        "notification_id": world["notification"].pk,
    }

    def value(match) -> str:
        name = match["name"]
        if match["conv"] == "run_id" and name in ("a_id", "b_id"):
            return str(world["run"].pk)  # the run comparison's path
        return str(values[name])

    return "/" + ARG.sub(value, route)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def written(world) -> tuple:
    """Everything a write route could change."""
    link = ShareLink.objects.get(pk=world["link"].pk)
    return (
        StepVote.objects.count(),
        FeedbackPush.objects.count(),
        StepReview.objects.count(),
        ShareLink.objects.count(),
        link.revoked_at,
        FeedbackBatch.objects.count(),
        SavedView.objects.count(),
        list(Rule.objects.values_list("enabled", flat=True)),
        list(Alert.objects.values_list("name", "state", "last_evaluated_at")),
        list(Notification.objects.values_list("status", flat=True)),
        Queue.objects.count(),
        Review.objects.count(),
        Skip.objects.count(),
        QueueItem.objects.filter(reserved_by__isnull=False).count(),
    )


# the admin site is for staff, as before roles (its own permissions apply there)
PAGE_ROUTES = [(r, n) for r, n in routes() if not is_api(n) and not r.startswith("admin/")]
API_ROUTES = [(r, n) for r, n in routes() if is_api(n)]


def test_the_walk_finds_every_known_write_route():
    assert {name for _, name in PAGE_ROUTES} >= PAGE_WRITES
    assert {name for name, _ in API_WRITES} <= {name for _, name in API_ROUTES}


@pytest.mark.parametrize(("route", "name"), [(r, n) for r, n in PAGE_ROUTES if n not in OPEN_TO_EVERY_ROLE])
def test_a_viewer_posts_nowhere(world, route, name):
    """Every page route: a POST from a viewer is refused (403) or not a write at all (405)."""
    viewer = signed_in(UserFactory(username="vic", role="viewer"))
    data = {**FORM, "step_ids": world["step"].pk}
    before = written(world)
    response = viewer.post(url_for(route, world), data, headers=HX)
    assert response.status_code in (403, 405), f"{name} answered {response.status_code} to a viewer"
    if name in PAGE_WRITES:
        assert response.status_code == 403
        # htmx shows this line as the toast
        assert response.content.decode() == VIEWER_REFUSED
    assert written(world) == before


@pytest.mark.parametrize("name", sorted(PAGE_WRITES))
def test_a_viewer_without_javascript_gets_a_page_that_says_why(world, name):
    route = next(r for r, n in PAGE_ROUTES if n == name)
    viewer = signed_in(UserFactory(username="vic", role="viewer"))
    response = viewer.post(url_for(route, world), {**FORM, "step_ids": world["step"].pk})
    assert response.status_code == 403
    html = response.content.decode()
    assert "<html" in html and "Not allowed" in html and "ask a manager for the reviewer role" in html


@pytest.mark.parametrize(("route", "name"), API_ROUTES)
def test_a_viewers_token_writes_nothing(world, route, name):
    """Every API route and every writing method: a viewer's token gets a JSON 403 (or 405)."""
    user = UserFactory(username="vic", role="viewer")
    _, key = ApiToken.create_for(user, "viewer's script")
    api = Client(headers={"Authorization": f"Bearer {key}"})
    before = written(world)
    for method in ["post", "put", "patch", "delete"]:
        response = getattr(api, method)(url_for(route, world), JSON, content_type="application/json")
        allowed = (400, 403, 405) if name in API_OPEN_TO_EVERY_ROLE else (403, 405)
        assert response.status_code in allowed, f"{method} {name} answered {response.status_code}"
        assert "json" in response["Content-Type"]
        if (name, method) in API_WRITES:
            assert response.status_code == 403
            assert response.json() == {"detail": VIEWER_REFUSED}
    assert written(world) == before


def test_a_viewers_session_cannot_write_through_the_api(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(username="vic", role="viewer"))
    client.get("/")
    csrf = {"X-CSRFToken": client.cookies["csrftoken"].value}
    step = world["step"]
    response = client.post(
        f"/api/v1/steps/{step.pk}/feedback",
        {"value": "positive"},
        content_type="application/json",
        headers=csrf,
    )
    assert response.status_code == 403 and response.json()["detail"] == VIEWER_REFUSED
    assert not StepVote.objects.exists()
    # reads stay open
    assert client.get(f"/api/v1/steps/{step.pk}/").status_code == 200


def test_a_token_acts_with_its_owners_role_as_it_is_now(world):
    user = UserFactory(username="vic", role="viewer")
    _, key = ApiToken.create_for(user, "script")
    api = Client(headers={"Authorization": f"Bearer {key}"})
    url = f"/api/v1/steps/{world['step'].pk}/feedback"
    assert api.post(url, {"value": "negative"}, content_type="application/json").status_code == 403
    set_role(user, "reviewer")
    response = api.post(url, {"value": "negative"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["feedback"] == "negative"
    assert StepVote.objects.get(step=world["step"]).voted_by == user


def test_a_reviewers_vote_lands(world):
    reviewer = UserFactory(username="rita")  # the factory's default role
    client = signed_in(reviewer)
    step = world["step"]
    response = client.post(f"/steps/{step.pk}/vote/", {"value": "positive"}, headers=HX)
    assert response.status_code == 200
    vote = StepVote.objects.get(step=step)
    assert (vote.feedback, vote.voted_by) == ("positive", reviewer)
    assert FeedbackPush.objects.filter(step=step, feedback="positive").exists()


def test_a_viewer_reads_every_page_they_could_before(world):
    viewer = signed_in(UserFactory(username="vic", role="viewer"))
    step = world["step"]
    for url in [
        "/",
        f"/steps/{step.pk}/",
        f"/steps/{step.pk}/vote/",
        f"/runs/{world['run'].pk}/",
        "/overview/",
    ]:
        assert viewer.get(url, headers=HX).status_code == 200, url


def _writes_by(user, world) -> dict[str, int]:
    client = signed_in(user)
    answers = {}
    for name in sorted(PAGE_WRITES):
        route = next(r for r, n in PAGE_ROUTES if n == name)
        data = {**FORM, "step_ids": world["step"].pk}
        answers[name] = client.post(url_for(route, world), data, headers=HX).status_code
    return answers


def test_a_reviewer_writes_but_shares_only_with_the_permission(world):
    answers = _writes_by(UserFactory(username="rita"), world)
    refused = {name for name, status in answers.items() if status == 403}
    # public links: the "Can add share link" permission; someone else's link: a manager's to revoke
    assert refused == {"share_create", "share_revoke"}


def test_a_reviewer_granted_the_share_permission_creates_links(world):
    rita = UserFactory(username="rita")
    rita.user_permissions.add(Permission.objects.get(codename="add_sharelink"))
    response = signed_in(rita).post(f"/steps/{world['step'].pk}/share/", {"expiry": "1d"}, headers=HX)
    assert response.status_code == 200
    assert ShareLink.objects.filter(created_by=rita).exists()


def test_a_manager_can_do_everything_a_reviewer_can_and_revoke_any_link(world):
    answers = _writes_by(UserFactory(username="max", role="manager"), world)
    assert 403 not in answers.values(), answers
    assert ShareLink.objects.get(pk=world["link"].pk).revoked_at is not None
    assert ShareLink.objects.filter(created_by__username="max").exists()


def test_a_demoted_user_is_refused_from_their_next_request(world):
    rita = UserFactory(username="rita")
    client = signed_in(rita)
    url = f"/steps/{world['step'].pk}/vote/"
    assert client.post(url, {"value": "positive"}, headers=HX).status_code == 200
    set_role(rita, "viewer")
    assert client.post(url, {"value": "negative"}, headers=HX).status_code == 403
    assert StepVote.objects.get(step=world["step"]).feedback == "positive"
