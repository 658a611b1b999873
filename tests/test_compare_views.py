"""The step diff page: what a reviewer reads first, every view, hostile content, missing data, errors."""

import json
import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from tests.compare_fixtures import HOSTILE, consecutive_steps, response
from tests.factories import MessageFactory, ProviderTraceFactory, StepFactory, StepMetricsFactory

pytestmark = pytest.mark.django_db


def get(client, a, b, **query):
    response = client.get(reverse("compare_steps", args=[a.pk, b.pk]), query)
    assert response.status_code == 200
    return response.content.decode()


def headline(html: str) -> str:
    block = re.search(r'<div class="headline-text">(.*?)</div>', html, re.S).group(1)
    return re.sub(r"<[^>]+>", "", block)


def test_headline_says_what_changed_in_words(user_client):
    a, b = consecutive_steps()
    text = headline(get(user_client, a, b))
    assert "2 messages appended (tool call + tool return)" in text
    assert "block human changed" in text
    assert "+1,204 prompt tokens" in text
    assert "stop reason tool_use → end_turn" in text


def test_structural_view_collapses_the_repeated_history_and_shows_the_memory_edit(user_client):
    a, b = consecutive_steps(history_len=12)
    html = get(user_client, a, b)
    assert "25 unchanged messages" in html  # 12 exchanges + the question, folded into one line
    request_part = html.split('id="request-messages"')[1].split('id="system"')[0]
    assert request_part.count('class="dmsg dmsg-added') == 2
    assert re.search(r"<ins class=\"d-ins\">\s*Likes tea.</ins>", html)  # the new line of block human
    assert "+1,204" in html and "+500 ms" in html  # prompt tokens and LLM time deltas


@pytest.mark.parametrize("view", ["structural", "side", "json"])
def test_hostile_text_is_escaped_in_every_view(user_client, view):
    a, b = consecutive_steps()
    html = get(user_client, a, b, view=view)
    assert "<script>alert(" not in html
    assert "<img src=x" not in html
    assert "</pre><script>x" not in html
    assert "&lt;script&gt;alert(" in html or "&lt;script&gt;" in html
    assert "𝕳𝖊𝖑𝖑𝖔" in html  # unusual unicode passes through as text


def test_expanding_a_collapsed_run_returns_its_messages_escaped(user_client):
    a, b = consecutive_steps(history_len=3)
    html = get(user_client, a, b)
    url = re.search(r'hx-get="([^"]*expand/[^"]*part=request[^"]*)"', html).group(1).replace("&amp;", "&")
    part = user_client.get(url, headers={"HX-Request": "true"})
    assert part.status_code == 200
    body = part.content.decode()
    assert body.count('class="dmsg dmsg-unchanged') == 7
    assert "question 2: &lt;script&gt;" in body and "<script>" not in body
    assert "<html" not in body


@pytest.mark.parametrize("entry", ["99", "x", "", "1", "²", "-1", "9" * 5000])
def test_expand_with_a_bad_entry_is_a_404(user_client, entry):
    a, b = consecutive_steps(history_len=3)
    url = reverse("compare_expand", args=[a.pk, b.pk])
    assert user_client.get(url, {"part": "request", "entry": entry}).status_code == 404


def test_a_step_without_trace_still_compares_fields_tokens_and_messages(user_client):
    a = StepFactory(prompt_tokens=100, status="failed", error_type="LLMServerError")
    b = StepFactory(prompt_tokens=300)
    ProviderTraceFactory(step=b)
    MessageFactory(step=a, position=0, message_type="user_message", content="hello from A")
    MessageFactory(step=b, position=0, message_type="user_message", content="hello from B")
    StepMetricsFactory(step=b)
    html = get(user_client, a, b)
    assert "Step A has no provider trace" in html
    assert "no trace on A" in headline(html)
    assert "appended" not in headline(html)  # not "every message added": that only restates the missing trace
    assert "messages written ~1" in headline(html)
    assert "status failed → success" in headline(html)
    assert "+200 prompt tokens" in headline(html)
    assert "Step A has no metrics." in html
    assert "from" in html and '<ins class="d-ins">B</ins>' in html  # the written messages, word diff


def test_neither_side_has_anything(user_client):
    a, b = StepFactory(), StepFactory()
    html = get(user_client, a, b)
    assert "Neither step has a provider trace" in html
    for view in ("side", "json"):
        get(user_client, a, b, view=view)


def test_a_step_with_several_traces_lets_you_pick(user_client):
    a, b = consecutive_steps()
    ProviderTraceFactory(
        step=b,
        call_type="summarization",
        request_json={"messages": [{"role": "user", "content": "Summarize"}]},
        response_json=response("short summary"),
    )
    html = get(user_client, a, b)
    assert 'name="trace_b"' in html and "#2 summarization" in html
    assert "2 messages appended" in headline(html)  # the default is the step's own agent_step call
    picked = get(user_client, a, b, trace_b="2")
    assert "2 messages appended" not in headline(picked)
    for odd in ("7", "0", "²", "-1", "1e3", "9" * 5000):  # out of range or not a number: the default
        assert "2 messages appended" in headline(get(user_client, a, b, trace_b=odd))


def test_swap_and_links_back_to_both_steps(user_client):
    a, b = consecutive_steps()
    html = get(user_client, a, b, view="side")
    assert reverse("compare_steps", args=[b.pk, a.pk]) + "?view=side" in html
    assert reverse("step_detail", args=[a.pk]) in html and reverse("step_detail", args=[b.pk]) in html
    swapped = headline(get(user_client, b, a))
    assert "2 messages removed" in swapped or "removed" in swapped
    assert "−1,204 prompt tokens" in swapped


def test_hide_unchanged_drops_the_folds_and_equal_rows(user_client):
    a, b = consecutive_steps()
    html = get(user_client, a, b, hide_unchanged="1")
    assert "unchanged messages" not in html
    assert "<th>provider</th>" not in html  # an equal step field
    assert "stop reason" in html


def test_unknown_steps_and_malformed_ids_are_404(user_client):
    a = StepFactory()
    unknown = "step-00000000-0000-4000-8000-000000000000"
    assert user_client.get(reverse("compare_steps", args=[a.pk, unknown])).status_code == 404
    assert user_client.get(f"/compare/{a.pk}/step-nope/").status_code == 404
    assert user_client.get(f"/compare/{a.pk}/bad%20id%3Cscript%3E/").status_code == 404
    assert user_client.get(f"/compare/{'x' * 65}/{a.pk}/").status_code == 404


def test_login_required(client):
    a, b = StepFactory(), StepFactory()
    response = client.get(reverse("compare_steps", args=[a.pk, b.pk]))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_query_count_does_not_grow_with_messages_or_traces(user_client, django_assert_num_queries):
    a, b = consecutive_steps(history_len=40)
    for i in range(3, 30):
        MessageFactory(step=b, position=i, message_type="user_message", content=f"more {i}")
    ProviderTraceFactory(step=a, call_type="summarization")
    # session, user, the sync status in the top bar; steps with metrics, their traces, their messages;
    # the agents' names
    with django_assert_num_queries(7):
        get(user_client, a, b)


def test_the_form_redirects_to_the_stable_url_and_accepts_a_pasted_link(user_client):
    a, b = StepFactory(), StepFactory()
    pasted = f"http://example.com/steps/{a.pk}/"
    response = user_client.get(reverse("compare_start"), {"a": pasted, "b": b.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("compare_steps", args=[a.pk, b.pk])
    from_list = user_client.get(reverse("compare_start"), {"a": f"{pasted}?from=status%3Dfailed", "b": b.pk})
    assert from_list["Location"] == reverse("compare_steps", args=[a.pk, b.pk])
    bad = user_client.get(reverse("compare_start"), {"a": "<script>", "b": b.pk})
    assert bad.status_code == 400 and b"<script>" not in bad.content
    # id-like but not a Letta id: a clear 400, never a failed URL reverse
    assert user_client.get(reverse("compare_start"), {"a": "step-nope", "b": b.pk}).status_code == 400
    runs = user_client.get(reverse("compare_runs_start"), {"a": "run-1", "b": "run-2"})
    assert runs.status_code == 400


def test_step_page_offers_compare_with_previous_and_shows_the_context_bar(user_client):
    a, b = consecutive_steps()
    html = user_client.get(reverse("step_detail", args=[b.pk])).content.decode()
    assert reverse("compare_steps", args=[a.pk, b.pk]) in html
    assert "previous step in this run" in html
    assert '<rect class="ctx-memory_block"' in html
    assert reverse("compare_recent", args=[b.pk]) in html


def test_recent_steps_picker_lists_the_agents_other_steps(user_client):
    a, b = consecutive_steps()
    other_agent = StepFactory(agent_id="agent-other")
    html = user_client.get(
        reverse("compare_recent", args=[b.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert reverse("compare_steps", args=[a.pk, b.pk]) in html
    assert other_agent.pk not in html
    unknown = "step-00000000-0000-4000-8000-000000000000"
    assert user_client.get(reverse("compare_recent", args=[unknown])).status_code == 404
    assert user_client.get("/steps/step-nope/compare-candidates/").status_code == 404


def test_unknown_request_shapes_fall_back_to_a_json_diff(user_client):
    a, b = StepFactory(), StepFactory()
    ProviderTraceFactory(step=a, request_json={"weird": {"x": 1}}, response_json={})
    ProviderTraceFactory(step=b, request_json={"weird": {"x": 2, "y": HOSTILE}}, response_json={})
    html = get(user_client, a, b)
    assert "<script>alert(" not in html
    for view in ("side", "json"):
        assert "<script>alert(" not in get(user_client, a, b, view=view)


def test_anthropic_requests_diff_structurally(user_client):
    def anthropic(history):
        return {
            "model": "claude-sonnet-4",
            "system": "<base_instructions>Be brief.</base_instructions>",
            "messages": history,
            "max_tokens": 8192,
            "tools": [{"name": "web_search", "description": "", "input_schema": {"type": "object"}}],
        }

    first = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    more = [
        {
            "role": "assistant",
            "content": [{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "yo"}],
        }
    ]
    a, b = StepFactory(), StepFactory()
    ProviderTraceFactory(step=a, request_json=anthropic(first))
    ProviderTraceFactory(step=b, request_json=anthropic(first + more))
    assert "1 message appended" in headline(get(user_client, a, b))


def test_steps_of_different_providers_compare(user_client):
    a, b = StepFactory(model="gpt-4o-mini"), StepFactory(model="claude-sonnet-4", provider_name="anthropic")
    ProviderTraceFactory(step=a)
    ProviderTraceFactory(
        step=b,
        request_json={
            "model": "claude-sonnet-4",
            "system": "<base_instructions>You are a helpful agent.</base_instructions>",
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "text", "text": "msg 23: hotel mike hotel golf quebec"}],
                }
            ],
            "max_tokens": 8192,
        },
        response_json={
            "type": "message",
            "content": [{"type": "text", "text": "hi"}],
            "stop_reason": "end_turn",
        },
    )
    for view in ("structural", "side", "json"):
        html = get(user_client, a, b, view=view)
        assert "model gpt-4o-mini → claude-sonnet-4" in headline(html)


def test_expanding_in_the_side_view_and_the_written_messages(user_client):
    a, b = consecutive_steps(history_len=3)
    for i in range(3, 6):
        MessageFactory(step=a, position=i, message_type="user_message", content=f"same {i}")
        MessageFactory(step=b, position=i, message_type="user_message", content=f"same {i}")
    html = get(user_client, a, b, view="side")
    url = re.search(r'hx-get="([^"]*expand/[^"]*part=written[^"]*)"', html).group(1).replace("&amp;", "&")
    body = user_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert body.count('class="dmsg dmsg-unchanged') == 3
    assert 'class="dmsg-text wrap col-a"' in body  # two columns, as the page it expands in


def test_unified_json_folds_expand_to_the_exact_unchanged_lines(user_client):
    a, b = consecutive_steps(history_len=6)
    html = get(user_client, a, b, view="json")
    folds = re.findall(
        r'hx-get="([^"]*part=json-request[^"]*)"[^>]*>\s*<span[^>]*>⋯</span> ([\d,]+) unchanged', html
    )
    assert len(folds) >= 2  # before the first hunk and between or after hunks
    pretty_a = json.dumps(
        a.traces.get().request_json, indent=2, sort_keys=True, ensure_ascii=False
    ).splitlines()
    for url, count in folds:
        body = user_client.get(url.replace("&amp;", "&"), headers={"HX-Request": "true"}).content.decode()
        rows = re.findall(
            r'<td class="ln">(\d+)</td><td class="ln">(\d+)</td><td class="code-cell"><span class="ud-op"> </span>(.*?)</td>',
            body,
        )
        assert len(rows) == int(count.replace(",", ""))
        for a_no, _, text in rows:
            assert text == escape(pretty_a[int(a_no) - 1])
        assert "<script>" not in body
    url = reverse("compare_expand", args=[a.pk, b.pk])
    assert user_client.get(url, {"part": "json-request", "entry": "99"}).status_code == 404


def test_a_pasted_value_that_is_no_id_is_named_and_both_sides_are_kept(user_client):
    b = StepFactory()
    # the step page's "Compare with…" box sends the typed value as A and its own step as B
    html = user_client.get(reverse("compare_start"), {"a": "step 42 <b>", "b": b.pk}).content.decode()
    assert "“step 42 &lt;b&gt;” is not a step id" in html
    assert f'name="b" value="{b.pk}"' in html and 'name="a" value="step 42 &lt;b&gt;"' in html
    runs = user_client.get(reverse("compare_runs_start"), {"a": "run-1", "b": "bogus"}).content.decode()
    assert "A: “run-1” is not a run id" in runs and "B: “bogus” is not a run id" in runs
    # nothing typed yet: the plain form, no complaint
    empty = user_client.get(reverse("compare_start")).content.decode()
    assert "is not a step id" not in empty and "Paste a step id" in empty


def test_a_failed_step_without_prompt_tokens_shows_no_invented_context_changes(user_client):
    from tests.compare_fixtures import request

    same = request("The human is a tester.", [{"role": "user", "content": "hi"}])
    failed = StepFactory(failed=True, prompt_tokens=0, completion_tokens=0)
    answered = StepFactory(prompt_tokens=3314, completion_tokens=76)
    ProviderTraceFactory(step=failed, request_json=same)
    ProviderTraceFactory(step=answered, request_json=same)
    response = user_client.get(reverse("compare_steps", args=[failed.pk, answered.pk]))
    c = response.context["c"]
    # one side estimated (chars / 4), the other scaled to 3,314 tokens: every part read as grown
    assert [row.delta for row in c.breakdown.rows] == [0] * len(c.breakdown.rows)
    assert c.breakdown.total.delta == 0
    assert "estimated tokens (chars / 4)" in response.content.decode()


def test_missing_numbers_read_as_a_dash_never_as_none(user_client):
    from tests.compare_fixtures import request

    untraced = StepFactory(prompt_tokens=None, completion_tokens=None, total_tokens=None)
    traced = StepFactory()
    ProviderTraceFactory(step=traced, request_json=request("The human is a tester.", []))
    for html in (
        get(user_client, untraced, traced),
        user_client.get(reverse("step_detail", args=[untraced.pk])).content.decode(),
        user_client.get(reverse("step_list")).content.decode(),
    ):
        # humanize's intcomma turns None into the text "None" before `default` can replace it
        assert not re.search(r'class="num[^"]*">None<|None tok|<dd>None |None in /', html)


def test_the_list_compare_puts_the_earlier_step_first_even_within_a_millisecond(user_client):
    from datetime import timedelta

    first = StepFactory()
    # steps of one run share the run's time, a run position apart in microseconds
    later = StepFactory(run_id=first.run_id, step_time=first.step_time + timedelta(microseconds=2))
    response = user_client.get(reverse("compare_start"), {"a": later.pk, "b": first.pk, "order": "time"})
    assert response["Location"] == reverse("compare_steps", args=[first.pk, later.pk])
    # without order=time the sides stay as chosen (the step page's "Compare with…")
    response = user_client.get(reverse("compare_start"), {"a": later.pk, "b": first.pk})
    assert response["Location"] == reverse("compare_steps", args=[later.pk, first.pk])


def test_an_empty_compare_form_is_a_page_and_an_unknown_part_is_404(user_client):
    assert user_client.get(reverse("compare_start")).status_code == 200
    a, b = consecutive_steps()
    url = reverse("compare_expand", args=[a.pk, b.pk])
    assert user_client.get(url, {"part": "request", "entry": "0"}).status_code == 200
    assert user_client.get(url, {"part": "bogus", "entry": "0"}).status_code == 404


def test_a_heartbeat_is_called_a_heartbeat_as_on_the_step_page(user_client):
    from tests.compare_fixtures import request
    from tests.samples import body

    heartbeat = body("step_messages_tool_call")[-1]["content"]
    a, b = StepFactory(), StepFactory()
    history = [{"role": "user", "content": "look it up"}]
    ProviderTraceFactory(step=a, request_json=request("The human is a tester.", history))
    turn = [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "web_search", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "3 results"},
        {"role": "user", "content": heartbeat},
    ]
    ProviderTraceFactory(step=b, request_json=request("The human is a tester.", history + turn))
    html = get(user_client, a, b)
    assert "3 messages appended (tool call + tool return + heartbeat)" in headline(html)
    assert '<span class="chip chip-quiet">heartbeat</span>' in html


def context_rows(html: str) -> dict[str, str]:
    """The context-window table as {part: Δ}."""
    table = html.split('class="num-table ctx-table"')[1].split("</tbody>")[0]
    rows = re.findall(
        r"<th><i[^>]*></i>(.*?)</th>.*?<td[^>]*>[^<]*</td><td[^>]*>[^<]*</td><td[^>]*>([^<]*)</td>",
        table,
        re.S,
    )
    names = [re.sub(r"<[^>]+>", "", name).removesuffix(" changed").strip() for name, _ in rows]
    return dict(zip(names, (delta for _, delta in rows), strict=True))


def test_unchanged_parts_of_the_context_window_read_zero(user_client):
    from tests.compare_fixtures import request

    history = [{"role": "user", "content": f"question {i}"} for i in range(6)]
    a, b = StepFactory(prompt_tokens=2578), StepFactory(prompt_tokens=2731)
    ProviderTraceFactory(step=a, request_json=request("The human is a tester.", history))
    more = history + [{"role": "assistant", "content": "an answer " * 40}]
    ProviderTraceFactory(step=b, request_json=request("The human is a tester.", more))
    html = get(user_client, a, b)
    rows = context_rows(html)
    assert rows["system instructions"] == "0" and rows["tool schemas"] == "0" and rows["block human"] == "0"
    assert rows["history"] == "+153"  # the whole real difference, on the part that changed
    assert "Per-part figures are estimates" in html


def test_agents_are_named_as_on_every_other_page_with_the_id_on_hover(user_client):
    from steps.models import Agent

    a, b = consecutive_steps()
    # another agent, whose name Letta has not told us
    other = StepFactory(run_id=b.run_id, agent_id="agent-00000000-0000-4000-8000-0000000000bb")
    Agent.objects.create(id=a.agent_id, name="support-bot", model="openai/gpt-4o-mini", payload={})
    html = get(user_client, a, b)
    named = f'<span class="agent-name" title="{a.agent_id} · openai/gpt-4o-mini">support-bot</span>'
    assert html.count(named) == 3  # each side, and the same-fields line
    assert f"agent {a.agent_id}" not in html and ">{a.agent_id[6:14]}<" not in html
    changed = get(user_client, a, other)
    row = changed.split("<th>agent</th>")[1].split("</tr>")[0]
    assert named in row and f'title="{other.agent_id} (name not synced)"' in row
