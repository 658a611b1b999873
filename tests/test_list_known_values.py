"""Agent and model filters as people type them: any case, and "did you mean" when the value
matches nothing any step carries."""

import re
from html import unescape

import pytest
from django.urls import reverse

from steps.known_values import closest
from steps.models import Agent
from steps.overview.rollup import rebuild
from tests.factories import StepFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
POLYGLOT = "agent-00000000-0000-4000-8000-00000000f00d"


@pytest.fixture
def steps():
    Agent.objects.create(id=POLYGLOT, name="Polyglot")
    found = {
        "polyglot": StepFactory(agent_id=POLYGLOT, model="GPT-4.1"),
        "other": StepFactory(model="gpt-4o-mini"),
    }
    rebuild()
    return found


def listed(client, query: str) -> set[str]:
    response = client.get(reverse("step_list") + "?" + query, headers=HX)
    return {row.step.pk for row in response.context["rows"]}


def notes(client, query: str) -> list[str]:
    html = client.get(reverse("step_list") + "?" + query, headers=HX).content.decode()
    return [
        " ".join(n.split())
        for n in re.findall(r'<div class="filter-notes[^"]*"[^>]*>(.*?)</div>', html, re.S)
    ]


@pytest.mark.parametrize("query", ["agent=polyglot", "agent=POLYGLOT", f"agent={POLYGLOT}", "model=gpt-4.1"])
def test_agent_names_and_models_match_in_any_case(user_client, steps, query):
    assert listed(user_client, query) == {steps["polyglot"].pk}
    assert notes(user_client, query) == []


def test_the_sparkline_counts_the_same_steps(user_client, steps):
    for query in ("agent=polyglot", "model=gpt-4.1"):
        html = user_client.get(
            reverse("step_list") + "?" + query + "&since=2026-11-25T00:00Z"
        ).content.decode()
        assert re.search(r"<b>1</b> step · ", html), query


def test_an_agent_name_costs_one_indexed_query(user_client, steps, django_assert_num_queries):
    # the list's 12 (test_views_list), and the name resolved to agent ids once
    with django_assert_num_queries(15) as ctx:
        user_client.get(reverse("step_list") + "?agent=polyglot")
    step_sql = next(q["sql"] for q in ctx.captured_queries if 'FROM "steps_step"' in q["sql"])
    assert f"\"agent_id\" IN ('polyglot', '{POLYGLOT}')" in step_sql  # a plain IN list the index serves


def test_an_unknown_value_says_so_and_suggests_known_ones(user_client, steps):
    assert listed(user_client, "agent=polyglt") == set()
    html = user_client.get(reverse("step_list") + "?agent=polyglt", headers=HX).content.decode()
    assert notes(user_client, "agent=polyglt") == [
        'No step has the agent “polyglt”. Did you mean <a href="?agent=Polyglot" data-filter-name="agent" '
        'data-filter-value="Polyglot">Polyglot</a>?'
    ]
    assert "No steps match these filters" in html
    assert notes(user_client, "model=gpt-4") == [
        "No step has the model “gpt-4”. Did you mean "
        '<a href="?model=GPT-4.1" data-filter-name="model" data-filter-value="GPT-4.1">GPT-4.1</a> or '
        '<a href="?model=gpt-4o-mini" data-filter-name="model" data-filter-value="gpt-4o-mini">gpt-4o-mini</a>?'
    ]
    assert notes(user_client, "agent=zzzzzzzz&status=failed") == ["No step has the agent “zzzzzzzz”."]


def test_the_typed_value_is_escaped_in_the_note(user_client, steps):
    (note,) = notes(user_client, "agent=<b>Poly</b>")
    assert note.startswith("No step has the agent “&lt;b&gt;Poly&lt;/b&gt;”.")
    assert "<b>" not in unescape(note.split("Did you mean")[0]).replace("<b>Poly</b>", "")


def test_known_values_are_read_only_when_the_list_is_empty(user_client, steps, django_assert_num_queries):
    # session, user, the name resolved, the (empty) page, the sparkline (its rollup epoch
    # and, drawn the first time, its rollups); then whether any step
    # has that agent, and the suggestions (agents by use, their names)
    with django_assert_num_queries(9):
        user_client.get(reverse("step_list") + "?agent=polyglt", headers=HX)
    with django_assert_num_queries(7):  # a known agent that matches nothing here: no suggestions
        user_client.get(reverse("step_list") + "?agent=polyglot&status=cancelled", headers=HX)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("poly", ["Polyglot", "polymath"]),  # containing it first, in their order
        ("polyglt", ["Polyglot", "polymath"]),  # then close spellings, closest first
        ("triage", ["triage-bot"]),
        ("zzz", []),
    ],
)
def test_closest(typed, expected):
    assert closest(typed, ["Polyglot", "triage-bot", "polymath", "Polyglot", ""]) == expected
