"""A searched list shows, in each row, where the step matched and the words around the term,
the term marked and everything else escaped; one query for the whole page."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from steps.pages.snippets import marked
from tests.factories import BASE_TIME, MessageFactory, ProviderTraceFactory, StepFactory, conversation

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def match_lines(client, query: str) -> dict[str, str]:
    """step id -> its row's match line as shown (tags kept, whitespace collapsed)."""
    html = client.get(reverse("step_list") + "?" + query, headers=HX).content.decode()
    found = {}
    for step_id, row in re.findall(r'<tr class="step-row[^"]*" data-step="([^"]+)">(.*?)</tr>', html, re.S):
        line = re.search(r'<div class="convo-match"[^>]*>(.*?)</div>', row, re.S)
        if line:
            found[step_id] = " ".join(line[1].split())
    return found


def test_each_row_says_where_it_matched_with_the_term_marked(user_client):
    long_user = "I am planning a long trip and, after a few days in Munich and Hamburg, we go to berlin"
    in_user = StepFactory()
    conversation(in_user, user_text=long_user, answer="Have a nice trip")
    in_reply = StepFactory()
    conversation(in_reply, user_text="Where do they live?", answer="They live in BERLIN since 2019.")
    in_args = StepFactory()
    MessageFactory(
        step=in_args, message_type="tool_call_message", arguments=json.dumps({"city": "Berlin"}), position=0
    )
    in_trace = StepFactory()
    MessageFactory(step=in_trace, content="what is the weather like?")
    ProviderTraceFactory(step=in_trace, response_json={"choices": [{"text": "Cloudy over Berlin today"}]})
    StepFactory()  # no match: not listed

    lines = match_lines(user_client, "q=berlin")

    assert set(lines) == {in_user.pk, in_reply.pk, in_args.pk, in_trace.pk}
    assert lines[in_user.pk] == (
        '<span class="match-where">user message</span>…Munich and Hamburg, we go to <mark>berlin</mark>'
    )
    assert lines[in_reply.pk] == (
        '<span class="match-where">reply</span>They live in <mark>BERLIN</mark> since 2019.'
    )
    assert '<span class="match-where">tool arguments</span>' in lines[in_args.pk]
    assert "<mark>Berlin</mark>" in lines[in_args.pk]
    assert lines[in_trace.pk].startswith('<span class="match-where">trace</span>')
    assert "Cloudy over <mark>Berlin</mark> today" in lines[in_trace.pk]


def test_the_excerpt_is_escaped_and_only_the_mark_is_markup(user_client):
    step = StepFactory()
    MessageFactory(step=step, content='<img onerror="alert(1)"> <b>Berlin</b> & <script>x</script>')
    line = match_lines(user_client, "q=berlin")[step.pk]
    assert line == (
        '<span class="match-where">user message</span>&lt;img onerror=&quot;alert(1)&quot;&gt; '
        "&lt;b&gt;<mark>Berlin</mark>&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;"
    )


def test_a_term_with_markup_characters_is_marked_escaped(user_client):
    step = StepFactory()
    MessageFactory(step=step, content="compare a<b and b>c")
    assert "<mark>a&lt;b</mark>" in match_lines(user_client, "q=a<b")[step.pk]


def test_the_matches_of_a_page_cost_one_query(user_client, django_assert_num_queries):
    for i in range(60):
        step = StepFactory(step_time=BASE_TIME + timedelta(seconds=i))
        conversation(step, user_text=f"question {i} about Berlin")
        ProviderTraceFactory(step=step, response_json={"text": "Berlin"})
    # the page as without a search (17 with a second page: test_views_list), the search's own
    # plan (two EXPLAIN estimates, the candidate ids from two indexes) and one query for the
    # page's matches
    with django_assert_num_queries(23):
        response = user_client.get(reverse("step_list") + "?q=Berlin")
    rows = response.context["rows"]
    assert len(rows) == 50 and all(row.match.where == "user message" for row in rows)


def test_no_search_no_match_line(user_client):
    step = StepFactory()
    conversation(step, user_text="Berlin")
    assert match_lines(user_client, "") == {}
    assert match_lines(user_client, "status=success") == {}


@pytest.mark.parametrize(
    ("excerpt", "term", "cut", "expected"),
    [
        ("in Berlin now", "berlin", False, "in <mark>Berlin</mark> now"),
        ("a\n\n  multi   line Berlin", "berlin", True, "…a multi line <mark>Berlin</mark>"),
        ("two  words here", "two words", False, "<mark>two words</mark> here"),
        ("no match <i>", "zzz", False, "no match &lt;i&gt;"),
        ("Straße", "strasse", False, "Straße"),  # the database matched what Python cannot find
    ],
)
def test_marked(excerpt, term, cut, expected):
    assert marked(excerpt, term, cut) == expected
