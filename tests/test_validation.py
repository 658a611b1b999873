"""Hostile input gets a clear 400, a 404 or the form's own error: each class issue 8 found as a 500."""

import base64
import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from steps.models import FeedbackBatch, StepReview, StepVote
from tests.factories import StepFactory, UserFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
MISSING = "step-00000000-0000-4000-8000-000000000000"
IMPOSSIBLE_DATES = ["2024-02-30T10:00:00+00:00", "2024-01-01T25:00:00+00:00", "0000-01-01T00:00:00+00:00"]
IMPOSSIBLE_DATES += ["2024-01-01T00:00:00+25:00", "9999-12-31T23:59:59-23:59"]


def chip_texts(html: str) -> list[str]:
    chips = re.findall(r'<a class="chip chip-filter"[^>]*>(.*?)<span', html, re.S)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in chips]


def cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("date", IMPOSSIBLE_DATES)
def test_impossible_date_in_cursor_is_the_forms_error(user_client, date):
    step = StepFactory()
    response = user_client.get("/?" + urlencode({"cursor": cursor(f"{date}|{step.pk}")}), headers=HX)
    assert response.status_code == 200
    assert [s.pk for s, _ in response.context["rows"]] == [step.pk]  # the first page
    assert "This page link is damaged" in response.content.decode()


@pytest.mark.parametrize("date", IMPOSSIBLE_DATES)
def test_impossible_newest_time_on_the_live_poll_is_400(user_client, date):
    step = StepFactory()
    query = urlencode({"live": "1", "newest_time": date, "newest_id": step.pk})
    response = user_client.get(reverse("step_list_live") + "?" + query, headers=HX)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == "Not a valid newest_time."


def test_live_poll_with_valid_params_still_works(user_client):
    old = StepFactory()
    new = StepFactory()  # later step_time
    query = urlencode({"live": "1", "newest_time": old.step_time.isoformat(), "newest_id": old.pk})
    response = user_client.get(reverse("step_list_live") + "?" + query, headers=HX)
    assert response.status_code == 200 and new.pk in response.content.decode()
    assert old.pk not in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/steps/%00/",
        "/steps/%00/vote/",
        "/runs/%00/",
        "/admin/steps/step/%00/change/",
        "/admin/steps/step/?q=%00",
        "/?cursor=%00",
        "/?q=a%00b",
        "/steps/live/?live=1&newest_id=step-%00",
        "/share/%00/",
    ],
)
def test_nul_anywhere_is_a_400(client, url):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(url)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("step_tags", {"add": "good\x00tag"}),
        ("step_note", {"notes": "a note\x00"}),
        ("step_vote", {"value": "positive\x00"}),
    ],
)
def test_nul_in_posted_text_is_a_400_and_nothing_is_saved(user_client, name, data):
    step = StepFactory()
    response = user_client.post(reverse(name, args=[step.pk]), data, headers=HX)
    assert response.status_code == 400 and "NUL" in response.content.decode()
    assert not StepVote.objects.exists() and not StepReview.objects.exists()


def test_nul_inside_a_bulk_query_is_the_forms_error(user_client):
    response = user_client.get("/bulk/count/?" + urlencode({"query": "q=%00"}), headers=HX)
    assert response.status_code == 400
    assert (
        response.content.decode()
        == "Fix the filter first: Search “\x00” is not valid (Null characters are not allowed.)"
    )


@pytest.mark.parametrize(
    "data",
    [
        {"action": "positive", "step_ids": ["step-\x00"]},
        {"action": "add_tag", "tag": "x\x00", "scope": "all", "query": ""},
        {"action": "positive", "scope": "all", "query": "q=\x00"},
    ],
)
def test_nul_in_bulk_is_a_400(user_client, data):
    StepFactory()
    assert user_client.post(reverse("bulk_start"), data, headers=HX).status_code == 400
    assert not FeedbackBatch.objects.exists()


@pytest.mark.parametrize(
    "bad", ["x", "step-1", "run-" + MISSING[5:], MISSING.upper(), MISSING + "0", "a" * 500]
)
def test_path_ids_that_are_no_letta_ids_are_404(user_client, bad):
    for url in (f"/steps/{bad}/", f"/steps/{bad}/vote/", f"/runs/{bad}/"):
        assert user_client.get(url).status_code == 404, url


def test_admin_change_page_with_a_bad_id_is_no_500(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get("/admin/steps/step/not-a-step/change/")
    assert response.status_code == 302  # the admin's own "does not exist" message
    assert client.get("/admin/steps/step/?q=" + "x" * 2000).status_code == 200


# --- item 2: invalid filter values -------------------------------------------------------


def test_invalid_filter_shows_the_error_and_no_chip(user_client):
    StepFactory(status="success")
    html = user_client.get("/?status=bogus&tokens_min=lots&agent=agent-a").content.decode()
    assert "“bogus” was ignored" in html and "“lots” was ignored" in html
    assert chip_texts(html) == ["Agent: agent-a"]
    # "all matching" is not offered for a filter that is not what it looks like
    assert "Select all matching this filter" not in html


def test_bulk_refuses_an_invalid_query(user_client):
    StepFactory(status="success"), StepFactory(status="failed")
    data = {"action": "negative", "scope": "all", "query": "status=bogus"}
    response = user_client.post(reverse("bulk_start"), data, headers=HX)
    assert response.status_code == 400
    assert "Fix the filter first: Status “bogus” is not valid" in response.content.decode()
    assert not FeedbackBatch.objects.exists()
    count = user_client.get(reverse("bulk_count") + "?query=status%3Dbogus", headers=HX)
    assert count.status_code == 400


def test_bulk_with_a_valid_query_still_counts_only_matches(user_client):
    StepFactory(status="success"), StepFactory(status="failed")
    data = {"action": "negative", "scope": "all", "query": "status=failed"}
    assert user_client.post(reverse("bulk_start"), data, headers=HX).status_code == 200
    assert FeedbackBatch.objects.get().total == 1


@pytest.mark.parametrize(
    "query",
    [
        "step_time__year=99999999999",
        "step_time__year=0",
        "step_time__day=31&step_time__month=2&step_time__year=2024",
        "total_tokens__gte=99999999999999999999999",
        "p=99999999999999999999",
    ],
)
def test_admin_changelist_with_hand_edited_parameters_is_no_500(client, query):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    StepFactory()
    assert client.get("/admin/steps/step/?" + query).status_code in (200, 302)


def test_admin_json_with_a_nul_is_the_forms_error(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    step = StepFactory()
    data = {"step": step.pk, "labels": '["fine", {"k": "\\u0000"}]', "notes": "x"}
    response = client.post("/admin/steps/stepreview/add/", data)
    assert response.status_code == 200  # the form again, with its error
    assert "Text cannot contain NUL characters" in response.content.decode()
    assert not StepReview.objects.exists()
