"""What the list's URL and chips say: only the parameters that are set, in words for people."""

import re
from datetime import timedelta
from html import unescape

import pytest

from tests.factories import BASE_TIME, StepFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def chip_texts(html: str) -> list[str]:
    chips = re.findall(r'<a class="chip chip-filter"[^>]*>(.*?)<span', html, re.S)
    return [unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in chips]


def test_chip_labels_are_written_for_people(user_client):
    query = (
        "status=failed&has_error=yes&feedback=none&tokens_min=1000&tokens_max=0&duration_max_ms=50"
        "&period=24h&since=2026-11-20T12:00&hidden=1&unreviewed=1&q=roadmap&tag=urgent"
    )
    html = user_client.get("/?" + query, headers=HX).content.decode()
    assert chip_texts(html) == [
        "Search: roadmap",
        "Status: Failed",
        "Has error",
        "No feedback",
        "Tag: urgent",
        "Tokens ≥ 1000",
        "Tokens ≤ 0",
        "Duration ≤ 50 ms",
        "Last 24 h",
        "From: 2026-11-20 12:00",
        "Including archived",
        "Unreviewed",
    ]


def test_sort_and_live_are_no_chips(user_client):
    html = user_client.get("/?sort=-tokens&live=1", headers=HX).content.decode()
    assert chip_texts(html) == []


def test_a_form_sent_without_javascript_lands_on_the_short_url(user_client):
    response = user_client.get("/?q=&agent=&status=failed&tokens_min=&sort=")
    assert response.status_code == 302 and response["Location"] == "/?status=failed"
    assert user_client.get("/?q=&agent=")["Location"] == "/"


def test_links_the_server_builds_carry_only_set_parameters(user_client):
    for i in range(51):
        StepFactory(step_time=BASE_TIME + timedelta(seconds=i), status="failed")
    # an htmx request is answered as sent (htmx itself drops the empty fields, see app.js)
    html = unescape(user_client.get("/?status=failed&q=&agent=&tag=", headers=HX).content.decode())
    older = re.search(r'href="(\?[^"]*cursor=[^"]*)"[^>]*>Older', html)[1]
    assert re.fullmatch(r"\?status=failed&cursor=[\w-]+", older)
    chip = re.search(r'<a class="chip chip-filter" href="([^"]*)"', html)[1]
    assert chip == "?"
    row = re.search(r'class="row-link" href="([^"]*)"', html)[1]
    assert row.endswith("/?from=status%3Dfailed")
    assert 'name="query" value="status=failed"' in html  # what "all matching" applies to


def test_a_filter_value_missing_from_the_facets_stays_selected(user_client):
    StepFactory(provider_name="anthropic")
    html = user_client.get("/?provider=a-provider-seen-a-second-ago&tool=<b>x</b>").content.decode()
    assert (
        '<option value="a-provider-seen-a-second-ago" selected>a-provider-seen-a-second-ago</option>' in html
    )
    assert '<option value="&lt;b&gt;x&lt;/b&gt;" selected>' in html  # escaped
    # a value that is in the facets is selected once, by the facet's own option
    html = user_client.get("/?provider=anthropic").content.decode()
    assert html.count('value="anthropic"') == 1


@pytest.mark.parametrize(
    ("query", "is_open"), [("tokens_min=5", True), ("model=x", True), ("status=failed", False)]
)
def test_more_filters_opens_when_one_of_its_filters_is_set(user_client, query, is_open):
    html = user_client.get("/?" + query).content.decode()
    assert ('<details class="more-filters" open>' in html) is is_open


def test_the_agent_and_model_inputs_keep_what_was_typed_and_offer_the_known_values(user_client):
    from steps.models import Agent

    step = StepFactory(model="gpt-4o-mini")
    Agent.objects.create(id=step.agent_id, name="triage-bot")
    for name in ("agent", "model"):
        for value in ("agent-00000000-0000-4000-8000-00000000beef", "Triage-Bot", "<b>x</b>"):
            html = user_client.get("/", {name: value}).content.decode()
            typed = re.search(
                rf'<input type="search" name="{name}" value="([^"]*)" list="{name}-options"', html
            )
            assert typed[1] == value.replace("<", "&lt;").replace(">", "&gt;")
    # the datalists offer each agent by name (its id and count as the label) and each model
    assert re.findall(r'<option value="([^"]*)" label="([^"]*)"', html) == [
        ("triage-bot", f"1 step · {step.agent_id}"),
        ("gpt-4o-mini", "1 step"),
    ]
