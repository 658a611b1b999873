"""How the review UI writes durations, times and list previews for people."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone

from steps.pages.timeline import previews, structured_text
from steps.templatetags.steps_ui import ago, ns_duration
from tests.factories import MessageFactory, StepFactory


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (None, "—"),
        (0, "0 ms"),
        (640, "640 ns"),
        (850_000, "850 µs"),
        (999_960, "1 ms"),
        (1_400_000, "1.4 ms"),
        (12_345_678, "12 ms"),
        (1_400_000_000, "1.4 s"),
        (42_000_000_000, "42 s"),
        (125_000_000_000, "2 min 5 s"),
    ],
)
def test_durations_read_as_people_write_them(ns, text):
    assert ns_duration(ns) == text


@pytest.mark.parametrize(
    ("offset", "text"),
    [
        (timedelta(seconds=-12), "12 s ago"),
        (timedelta(minutes=-5, seconds=-20), "5 min ago"),
        (timedelta(hours=-3), "3 h ago"),
        (timedelta(days=-1), "1 day ago"),
        (timedelta(days=7, seconds=-3), "in 7 days"),  # a new 7-day share link
        (timedelta(hours=1, seconds=-1), "in 1 h"),
    ],
)
def test_relative_times_round_to_the_nearest_unit(offset, text):
    assert ago(timezone.now() + offset) == text


def test_absolute_times_say_their_zone_and_carry_the_iso_time(settings):
    settings.TIME_ZONE = "Europe/Paris"
    with timezone.override("Europe/Paris"):
        html = Template("{% load steps_ui %}{% when t %}|{% since t 'metrics' %}").render(
            Context({"t": datetime(2026, 11, 25, 9, 30, tzinfo=UTC)})
        )
    absolute, relative = html.split("|")
    assert absolute == (
        '<time datetime="2026-11-25T10:30:00+01:00" title="2026-11-25T10:30:00+01:00">Nov 25, 10:30:00 CET</time>'
    )
    assert 'title="2026-11-25T10:30:00+01:00 · metrics"' in relative and relative.endswith(" ago</time>")


@pytest.mark.django_db
def test_a_step_without_a_reply_previews_its_reasoning_as_reasoning():
    thinking, answered, v1 = StepFactory(), StepFactory(), StepFactory()
    MessageFactory(step=thinking, position=0, message_type="reasoning_message", content="I should call it")
    MessageFactory(step=thinking, position=1, message_type="tool_call_message")
    MessageFactory(step=answered, position=0, message_type="reasoning_message", content="thinking")
    MessageFactory(step=answered, position=1, message_type="assistant_message", content="Here it is")
    # a letta_v1 agent's reply is a reasoning_message, the step's last item (docs/letta-api.md §1.6)
    MessageFactory(step=v1, position=0, content="Hi!")
    MessageFactory(step=v1, position=1, message_type="reasoning_message", content="Hello! How can I help?")
    found = previews([thinking.pk, answered.pk, v1.pk])
    assert (found[thinking.pk].assistant, found[thinking.pk].reasoning) == ("", "I should call it")
    assert (found[answered.pk].assistant, found[answered.pk].reasoning) == ("Here it is", "")
    assert (found[v1.pk].assistant, found[v1.pk].reasoning) == ("Hello! How can I help?", "")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("{'message': 'No results found.', 'results': []}", {"message": "No results found.", "results": []}),
        ('{"status": "OK", "count": 2}', {"status": "OK", "count": 2}),
        ("[{'content': '議題', 'ok': True, 'n': None}]", [{"content": "議題", "ok": True, "n": None}]),
        ("  ['a', (1, 2)]  ", ["a", [1, 2]]),
        ("[" * 20 + "]" * 20, [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]),
    ],
)
def test_a_tool_return_holding_a_dict_or_list_reads_as_indented_json(text, shown):
    pretty = structured_text(text)
    assert json.loads(pretty) == shown and "\n  " in pretty


@pytest.mark.parametrize(
    "text",
    [
        "No results found.",
        "42",
        "'just a string'",
        "{'unclosed': ",
        "{1, 2}",  # a set: not JSON's
        "{(1, 2): 'tuple key'}",
        "[__import__('os').system('true')]",  # literals only: never run
        "[" * 21 + "]" * 21,  # deeper than any real tool result: indenting it would explode
        "[" * 5000 + "]" * 5000,
        "[" + "1, " * 100_000 + "1]",  # too long to parse on every page view
    ],
)
def test_anything_else_a_tool_returns_is_shown_as_the_text_it_is(text):
    assert structured_text(text) == ""
