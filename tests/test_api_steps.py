"""GET /api/v1/steps/: the list page's query string, the page's keyset pages, the page's step ids."""

import base64
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from steps.models import StepReview
from tests.factories import BASE_TIME, MessageFactory, StepFactory, conversation

pytestmark = pytest.mark.django_db
AGENT_B = "agent-bbbbbbbb-0000-4000-8000-000000000000"
# a token-sorted page cursor whose number has 5,000 digits (int() refuses over 4,300)
HUGE_CURSOR = base64.urlsafe_b64encode(
    f"{'9' * 5000}|step-00000000-0000-4000-8000-000000000001".encode()
).decode()


@pytest.fixture
def steps():
    made = []
    for i in range(12):
        step = StepFactory(
            step_time=BASE_TIME + timedelta(seconds=i),
            agent_id=AGENT_B if i % 3 == 0 else "agent-105225c8-2bdf-402e-8afb-f8887facc319",
            prompt_tokens=100 * i,
            feedback="positive" if i % 4 == 0 else None,
            tags=["golden"] if i % 5 == 0 else [],
            **({"failed": True} if i % 4 == 1 else {}),
        )
        made.append(step)
    conversation(made[7], user_text="where is the invoice for ACME", answer="Found it")
    MessageFactory(step=made[2], position=0, message_type="tool_call_message", tool="web_search")
    StepReview.objects.create(step=made[3], hidden=True)
    return made


def page_ids(client, query: str) -> list[str]:
    html = client.get(f"/?{query}").content.decode()
    return re.findall(r'<tr class="step-row[^"]*" data-step="([^"]+)"', html)


def api_ids(api, query: str, page_size: int = 50) -> list[str]:
    response = api.get(f"/api/v1/steps/?{query}&page_size={page_size}")
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


QUERIES = [
    "",
    "status=failed",
    "has_error=no&sort=-tokens",
    f"agent={AGENT_B}&sort=time",
    "feedback=positive",
    "feedback=none&unreviewed=1",
    "tag=golden",
    "tool=web_search",
    "q=invoice",
    "hidden=1&sort=tokens",
    "prompt_min=300&prompt_max=900&sort=-duration",
    "since=2026-11-25T09:30:04Z&until=2026-11-25T09:30:09Z",
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_api_and_the_page_return_the_same_steps(user_client, api, steps, query):
    ids = api_ids(api, query)
    assert ids, "every query here matches some steps"
    assert ids == page_ids(user_client, query)


def test_the_archived_step_is_only_in_lists_that_ask_for_it(api, steps):
    assert steps[3].pk not in api_ids(api, "")
    assert steps[3].pk in api_ids(api, "hidden=1")


def test_pages_follow_next_links_to_the_end_like_the_page(api, steps):
    seen, url = [], "/api/v1/steps/?sort=-tokens&page_size=5"
    while url:
        body = api.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
        assert len(seen) <= 12
    assert seen == api_ids(api, "sort=-tokens")
    assert len(seen) == len(set(seen)) == 11  # everything but the archived step, once each


def test_a_page_cursor_from_the_list_page_works_in_the_api(user_client, api, steps):
    html = user_client.get("/?status=success").content.decode()
    assert "cursor=" not in html  # fewer than 50: make a page cursor from the API instead
    first = api.get("/api/v1/steps/?status=success&page_size=3").json()
    cursor = re.search(r"cursor=([^&]+)", first["next"]).group(1)
    assert page_ids(user_client, f"status=success&cursor={cursor}") == api_ids(
        api, f"status=success&cursor={cursor}"
    )


def test_a_row_says_what_the_list_shows(api, steps):
    row = next(r for r in api.get("/api/v1/steps/").json()["results"] if r["id"] == steps[7].pk)
    assert row["preview"]["user"] == "where is the invoice for ACME"
    assert row["preview"]["assistant"] == "Found it"
    assert row["review"] == {"feedback": "", "tags": [], "write_back": ""}
    assert row["url"].endswith(f"/api/v1/steps/{steps[7].pk}/")
    assert row["prompt_tokens"] == 700 and row["status"] == "success"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=exploded", "status"),
        ("sort=sideways", "sort"),
        ("prompt_min=-1", "prompt_min"),
        ("tokens_max=99999999999999999999", "tokens_max"),
        ("since=2024-02-30T10:00", "since"),
        ("until=9999-12-31T23:59:59", "until"),  # after the last date a filter takes
        ("since=0001-01-01T00:00:00", "since"),
        (f"sort=-tokens&cursor={HUGE_CURSOR}", "cursor"),
        ("cursor=!!!not-base64!!!", "cursor"),
        ("page_size=501", "page_size"),
        ("page_size=0", "page_size"),
        ("unreviewed=856", "unreviewed"),  # Django's form would read any text as True
        ("prompt_min=5.0", "prompt_min"),  # and drop a trailing .0
    ],
)
def test_an_invalid_parameter_is_a_400_naming_it(api, query, field):
    response = api.get(f"/api/v1/steps/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert field in body["errors"] and body["errors"][field][0]
    assert field in body["detail"]


def test_the_list_costs_the_same_few_queries_for_50_rows(api, steps, django_assert_max_num_queries):
    for i in range(50):
        StepFactory(step_time=BASE_TIME + timedelta(minutes=1, seconds=i))
    # token lookup + steps + votes + pushes + previews + agent names
    with django_assert_max_num_queries(7):
        assert len(api.get("/api/v1/steps/").json()["results"]) == 50


def test_unknown_api_address_and_wrong_method_are_json(api, steps):
    missing = api.get("/api/v1/nothing-here/")
    assert missing.status_code == 404 and missing.json()["detail"]
    wrong = api.delete("/api/v1/steps/")
    assert wrong.status_code == 405 and "DELETE" in wrong.json()["detail"]
    step = api.get("/api/v1/steps/step-00000000-0000-4000-8000-00000000dead/")
    assert step.status_code == 404 and step.json()["detail"]


def test_a_nul_byte_is_a_json_400(api):
    response = api.get("/api/v1/steps/?q=%00")
    assert response.status_code == 400 and "NUL" in response.json()["detail"]


def test_reverse_names(steps):
    assert reverse("api:step-detail", args=[steps[0].pk]) == f"/api/v1/steps/{steps[0].pk}/"
