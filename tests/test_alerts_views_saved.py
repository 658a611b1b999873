"""Saved views: saved from the list, listed in its sidebar with "N new", opened, shared by managers
only, the default view on sign-in, and the API at /api/v1/views/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from steps.alerts import views_saved
from steps.alerts.models import SavedView, ViewVisit
from tests.factories import StepFactory, UserFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_reviewer_saves_the_lists_query_and_finds_it_in_the_sidebar_with_its_new_steps():
    rita = UserFactory(username="rita")
    client = signed_in(rita)
    for _ in range(3):
        StepFactory(status="failed", error_type="LLMError", step_time=timezone.now() - timedelta(minutes=5))
    StepFactory(status="success")

    response = client.post(reverse("view_list"), {"name": "Failed", "query": "status=failed&cursor=abc"})
    view = SavedView.objects.get()
    assert response.status_code == 302 and response["Location"] == "/?status=failed"
    assert (view.query, view.shared, view.owner) == ("status=failed", False, rita)

    html = client.get(reverse("step_list")).content.decode()
    sidebar = html[html.index('class="saved-views"') :]
    # the page names the view at once and fetches its count after it is shown
    assert "Failed" in sidebar and "new</span>" not in sidebar and reverse("view_counts") in sidebar
    counts = client.get(reverse("view_counts"), headers={"HX-Request": "true"}).content.decode()
    assert "Failed" in counts and "3 new" in counts and "hx-get" not in counts

    # opening it starts the count again
    assert client.get(reverse("view_open", args=[view.pk]))["Location"] == "/?status=failed"
    assert ViewVisit.objects.filter(view=view, user=rita).exists()
    assert views_saved.sidebar(rita)[0].new == 0
    StepFactory(status="failed", error_type="LLMError", step_time=timezone.now() + timedelta(seconds=1))
    assert views_saved.sidebar(rita)[0].new_text == "1"


def test_the_new_count_stops_at_the_cap():
    rita = UserFactory(username="rita")
    view = SavedView.objects.create(owner=rita, name="All", query="")
    ViewVisit.objects.create(view=view, user=rita, opened_at=timezone.now() - timedelta(hours=1))
    for i in range(views_saved.NEW_CAP + 5):
        StepFactory(step_time=timezone.now() - timedelta(seconds=i))
    row = views_saved.sidebar(rita)[0]
    assert row.new == views_saved.NEW_CAP + 1 and row.new_text == "99+"


def test_all_views_are_counted_in_one_query_however_many(django_assert_num_queries):
    rita = UserFactory(username="rita")
    for i in range(8):
        SavedView.objects.create(owner=rita, name=f"v{i}", query=f"status=failed&tokens_min={i}")
    # the views (visits and default joined in); the counts' one statement in a savepoint with its
    # timeout: SAVEPOINT, SET LOCAL, the UNION ALL of eight bounded reads, RELEASE
    with django_assert_num_queries(5):
        rows = views_saved.sidebar(rita)
    assert len(rows) == 8


def test_only_managers_share_views_and_everyone_sees_the_shared_ones():
    viewer = UserFactory(username="vic", role="viewer")
    response = signed_in(viewer).post(reverse("view_list"), {"name": "Mine", "query": "", "shared": "true"})
    assert response.status_code == 400 and "Only managers" in response.content.decode()
    assert signed_in(viewer).post(reverse("view_list"), {"name": "Mine", "query": ""}).status_code == 302

    manager = UserFactory(username="mona", role="manager")
    signed_in(manager).post(
        reverse("view_list"), {"name": "Team", "query": "has_error=yes", "shared": "true"}
    )
    rita = UserFactory(username="rita")
    names = [row.view.name for row in views_saved.sidebar(rita)]
    assert names == ["Team"]  # the viewer's personal view is not hers
    team = SavedView.objects.get(name="Team")
    assert signed_in(rita).post(reverse("view_delete", args=[team.pk])).status_code == 403
    assert SavedView.objects.filter(name="Team").exists()


def test_the_default_view_opens_on_sign_in(client):
    rita = UserFactory(username="rita", password="a long enough password")
    view = SavedView.objects.create(owner=rita, name="Mine", query="feedback=negative")
    signed_in(rita).post(reverse("view_make_default", args=[view.pk]))
    response = client.post(reverse("login"), {"username": "rita", "password": "a long enough password"})
    assert response.status_code == 302
    assert client.get(response["Location"])["Location"] == "/?feedback=negative"
    # no default: the step list
    views_saved.set_default(rita, None)
    assert signed_in(rita).get(reverse("view_default"))["Location"] == reverse("step_list")


def test_the_api_lists_and_saves_views_with_their_new_counts():
    rita = UserFactory(username="rita")
    client = signed_in(rita)
    StepFactory(status="failed", error_type="X", step_time=timezone.now() - timedelta(minutes=1))
    created = client.post("/api/v1/views/", {"name": "Failed", "query": "status=failed"}, "application/json")
    assert created.status_code == 201
    assert created.json() | {"id": 0} == {
        "id": 0,
        "name": "Failed",
        "query": "status=failed",
        "shared": False,
        "owner": "rita",
        "url": "/?status=failed",
        "new": 1,
        "is_default": False,
    }
    listed = client.get("/api/v1/views/").json()
    assert [v["name"] for v in listed] == ["Failed"]
    bad = client.post("/api/v1/views/", {"name": "Failed", "query": ""}, "application/json")
    assert bad.status_code == 400 and "already" in bad.json()["errors"]["name"][0]
    shared = client.post("/api/v1/views/", {"name": "T", "shared": True}, "application/json")
    assert shared.status_code == 400 and "managers" in shared.json()["errors"]["shared"][0]
    assert client.delete(f"/api/v1/views/{created.json()['id']}/").status_code == 204
