"""The export route on real PostgreSQL: what a downloaded file holds, that it is the list's set, streamed."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from steps.export import stream
from steps.export.rows import CSV_COLUMNS
from steps.models import Agent, StepReview, StepVote
from tests.factories import (
    BASE_TIME,
    MessageFactory,
    ProviderTraceFactory,
    StepFactory,
    StepMetricsFactory,
    conversation,
)
from tests.finetune_shape import check_chat_example

pytestmark = pytest.mark.django_db
AGENT = "agent-00000000-0000-4000-8000-00000000000a"
HOSTILE = '=HYPERLINK("http://evil.example","x")\n"quoted", ünïcødé 🙂'


def export(client, query: str):
    response = client.get(reverse("export") + "?" + query)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def csv_rows(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "a BOM, so Excel reads UTF-8"
    reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline=""))
    assert tuple(reader.fieldnames) == CSV_COLUMNS
    return list(reader)


def list_ids(client, query: str) -> list[str]:
    html = client.get(reverse("step_list") + "?" + query).content.decode()
    return re.findall(r'<tr class="step-row[^"]*"[^>]*data-step="([^"]+)"', html)


@pytest.fixture
def steps():
    Agent.objects.create(id=AGENT, name="support", payload={})
    made = []
    for i in range(12):
        step = StepFactory(
            agent_id=AGENT if i % 2 else "agent-00000000-0000-4000-8000-00000000000b",
            step_time=BASE_TIME + timedelta(seconds=i),
            prompt_tokens=100 + i * 7 % 5,
            **({"failed": True} if i % 3 == 0 else {}),
        )
        conversation(step, user_text=f"question {i}", answer=f"answer {i}")
        made.append(step)
    return made


def test_csv_holds_the_exact_values_with_formulas_neutralised(user_client):
    step = StepFactory(agent_id=AGENT, feedback="negative", tags=["letta-tag"])
    Agent.objects.create(id=AGENT, name="@agent", payload={})
    StepMetricsFactory(step=step, llm_request_ns=12_000_000, tool_execution_ns=3_500_000)
    conversation(step, user_text=HOSTILE, answer="-1 is the answer\r\nsecond line")
    StepReview.objects.create(step=step, notes="+note, with comma")
    StepVote.objects.create(step=step, feedback="positive", tags=["team tag", "=cmd"])

    response, body = export(user_client, "")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    [row] = csv_rows(body)
    assert row["step_id"] == step.pk
    assert row["agent_name"] == "'@agent"
    assert row["first_user_text"] == "'" + HOSTILE
    assert row["final_reply"] == "'-1 is the answer\r\nsecond line"
    assert row["note"] == "'+note, with comma"
    # the team's vote and tags, not what Letta holds
    assert row["feedback"] == "positive"
    assert row["tags"] == "team tag, =cmd"
    assert row["tools"] == "conversation_search"
    assert (row["prompt_tokens"], row["completion_tokens"], row["total_tokens"]) == ("2578", "17", "2595")
    assert (row["duration_ms"], row["llm_ms"], row["tool_ms"]) == ("28.721", "12.000", "3.500")
    assert row["time_utc"] == step.step_time.strftime("%Y-%m-%d %H:%M:%S.%f")


def test_jsonl_lines_hold_messages_in_timeline_order_and_traces_on_request(user_client):
    step = StepFactory()
    # written out of order: the export follows position, as the step page does
    for position, text in ((2, "third"), (0, "first"), (1, "second")):
        MessageFactory(step=step, position=position, message_type="user_message", content=text)
    StepMetricsFactory(step=step)
    trace = ProviderTraceFactory(step=step)

    _, body = export(user_client, "format=jsonl")
    [line] = body.decode().splitlines()
    obj = json.loads(line)
    assert [m["content"] for m in obj["messages"]] == ["first", "second", "third"]
    assert obj["metrics"]["step_ns"] == 28_721_060
    assert obj["tokens"]["total"] == 2595
    assert "traces" not in obj

    response, body = export(user_client, "format=jsonl&traces=1")
    assert response["Content-Type"].startswith("application/x-ndjson")
    obj = json.loads(body)
    assert obj["traces"][0]["request_json"] == trace.request_json
    assert obj["traces"][0]["response_json"] == trace.response_json


def test_finetune_lines_are_valid_chat_examples_and_traceless_steps_are_counted(user_client):
    with_trace = ProviderTraceFactory().step
    StepFactory()  # no trace
    broken = ProviderTraceFactory(request_json={"nothing": "here"}).step

    response, body = export(user_client, "format=finetune")
    lines = body.decode().splitlines()
    assert len(lines) == 1
    example = json.loads(lines[0])
    check_chat_example(example)
    assert example["messages"][-1] == {"role": "assistant", "content": "Fake reply ba199a27"}
    assert response.export_stats.skipped == {"no_trace": 1, "unknown_request": 1}
    assert response.export_stats.written == 1
    assert with_trace.pk != broken.pk
    assert "letta-finetune_" in response["Content-Disposition"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "status=failed",
        f"agent={AGENT}",
        "agent=support&sort=tokens",
        "sort=-tokens&has_error=no",
        "q=question 1",
        "sort=time&tool=conversation_search",
    ],
)
def test_the_export_is_the_list_pages_set_in_its_order(user_client, steps, query):
    expected = list_ids(user_client, query)
    assert expected, "the query must match something to mean anything"
    _, body = export(user_client, query + "&format=csv")
    assert [r["step_id"] for r in csv_rows(body)] == expected
    _, body = export(user_client, query + "&format=jsonl")
    assert [json.loads(line)["id"] for line in body.decode().splitlines()] == expected


def test_archived_steps_only_with_the_list_flag(user_client, steps):
    StepReview.objects.create(step=steps[0], hidden=True)
    _, body = export(user_client, "")
    assert steps[0].pk not in {r["step_id"] for r in csv_rows(body)}
    _, body = export(user_client, "hidden=1")
    assert steps[0].pk in {r["step_id"] for r in csv_rows(body)}


def queries_for_export(client, query: str) -> int:
    response = client.get(reverse("export") + "?" + query)
    assert response.streaming
    with CaptureQueriesContext(connection) as captured:
        body = b"".join(response.streaming_content)
    assert body
    return len(captured)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "finetune"])
def test_queries_grow_with_chunks_not_rows(user_client, monkeypatch, fmt):
    monkeypatch.setitem(stream.FORMATS, fmt, stream.Format("x", "text/plain", "x", chunk=10))
    agents = ["agent-00000000-0000-4000-8000-00000000000c"] * 3 + [AGENT] * 9
    agents += ["agent-00000000-0000-4000-8000-00000000000d"] * 19
    for i, agent in enumerate(agents):
        # four steps a second: chunk edges fall inside a run of equal times
        trace = ProviderTraceFactory(
            step__agent_id=agent, step__step_time=BASE_TIME + timedelta(seconds=i // 4)
        )
        conversation(trace.step)
    three_rows = queries_for_export(user_client, f"format={fmt}&agent={agents[0]}")
    nine_rows = queries_for_export(user_client, f"format={fmt}&agent={AGENT}")
    assert three_rows == nine_rows, "one chunk costs the same whatever its rows"
    four_chunks = queries_for_export(user_client, f"format={fmt}")  # 31 rows: 10 + 10 + 10 + 1
    per_chunk, rest = divmod(four_chunks - nine_rows, 3)
    assert rest == 0 and per_chunk == nine_rows, "the same handful of queries for each chunk"
    assert per_chunk <= 5


def test_keyset_walk_over_shared_times_visits_every_step_once(user_client, monkeypatch):
    monkeypatch.setitem(stream.FORMATS, "csv", stream.Format("CSV", "text/csv", "csv", chunk=3))
    made = {StepFactory(step_time=BASE_TIME).pk for _ in range(10)}
    _, body = export(user_client, "")
    ids = [r["step_id"] for r in csv_rows(body)]
    assert len(ids) == 10 and set(ids) == made


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=faild", "Status"),
        ("tokens_min=-3", "Tokens min"),
        ("since=2026-02-30", "From"),
        ("until=9999-12-31T23:59:59", "out of range: use one from 1970 to 9998"),
        ("format=xlsx", "Unknown export format"),
    ],
)
def test_invalid_filter_or_format_is_a_400_never_everything(user_client, steps, query, message):
    response = user_client.get(reverse("export") + "?" + query)
    assert response.status_code == 400
    assert not response.streaming
    assert message in response.content.decode()


def test_login_required(client, steps):
    response = client.get(reverse("export") + "?format=csv")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_filename_says_what_was_exported(user_client, steps):
    response, _ = export(user_client, "agent=support&status=failed&unreviewed=1&sort=tokens&format=csv")
    disposition = response["Content-Disposition"]
    assert re.fullmatch(
        r'attachment; filename="letta-steps_agent-support_status-failed_unreviewed_sort-fewest-tokens_'
        r'\d{4}-\d\d-\d\d\.csv"',
        disposition,
    ), disposition
    response, _ = export(user_client, "q=" + '../evil"; name=x\r\n' + "&format=jsonl")
    assert re.fullmatch(
        r'attachment; filename="letta-steps_search-evil-name-x_\d{4}-\d\d-\d\d\.jsonl"',
        response["Content-Disposition"],
    ), response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"


def test_list_page_offers_the_export_of_its_filter(user_client, steps):
    html = user_client.get(reverse("step_list") + "?status=failed&sort=tokens").content.decode()
    assert html.count('id="export-menu"') == 1
    for fmt in ("csv", "jsonl", "finetune"):
        assert f'href="/export/?status=failed&amp;sort=tokens&amp;format={fmt}"' in html
    assert 'href="/export/?status=failed&amp;sort=tokens&amp;format=jsonl&amp;traces=1"' in html


def test_an_htmx_swap_of_the_table_brings_the_menu_for_the_new_filter(user_client, steps):
    html = user_client.get(reverse("step_list") + "?agent=support", headers={"HX-Request": "true"}).content
    html = html.decode()
    assert html.lstrip().startswith('<div id="step-table"')
    assert 'id="export-menu" hx-swap-oob="true"' in html
    assert 'href="/export/?agent=support&amp;format=csv"' in html


def test_an_invalid_filter_offers_no_export(user_client, steps):
    html = user_client.get(reverse("step_list") + "?status=faild").content.decode()
    assert "Fix the filter first" in html
    assert "format=csv" not in html


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "finetune"])
def test_hostile_but_valid_filters_stream_to_the_end(user_client, steps, fmt):
    # the fuzz test does not read streamed bodies: here the generator runs every query it makes
    for value in (
        "' OR 1=1; DROP TABLE steps_step; --",
        "%",
        "_",
        "\\",
        "ünïcødé 日本語 🙂 \u202e",
        "x" * 200,
    ):
        for name in ("q", "agent", "tag", "tool", "model", "run", "error_type"):
            response, body = export(user_client, urlencode({name: value[:60], "format": fmt}))
            assert response.status_code == 200, (name, value)
            assert response.export_stats.finished


def test_filename_keeps_letters_of_any_script_and_drops_controls(user_client, steps):
    response, _ = export(user_client, urlencode({"agent": "日本語 🙂\u202eevil.exe", "format": "csv"}))
    disposition = response["Content-Disposition"]
    # non-ASCII names go in RFC 5987 form; the right-to-left override never reaches it
    assert disposition.startswith("attachment; filename*=utf-8''letta-steps_agent-")
    assert "%E6%97%A5%E6%9C%AC%E8%AA%9E-evil.exe_" in disposition
    assert "%E2%80%AE" not in disposition
