"""CSV rows and JSONL objects of steps: pure code over ``StepRecord``, no Django import.

CSV choices, and why:

* **UTF-8 with a byte order mark.** The person clicking "Export CSV" most often double-clicks the file
  into Excel, which reads a CSV without a BOM in the machine's legacy code page (every accent, CJK
  character and emoji garbled). With the BOM Excel, Numbers, LibreOffice, Google Sheets, pandas and
  Python's ``utf-8-sig`` all read it right; only byte-level Unix tools see three extra bytes before
  the first header. Scripts that prefer none ask ``stream_export(..., bom=False)``.
* **RFC 4180 quoting** by the standard ``csv`` module (QUOTE_MINIMAL, CRLF rows): newlines, quotes
  and commas inside model output stay inside their cell.
* **Formula injection** (OWASP "CSV injection"): a text cell starting with ``=``, ``+``, ``-``, ``@``,
  tab or carriage return gets a leading ``'``, so a spreadsheet shows it as text instead of running
  ``=HYPERLINK(...)`` or ``@SUM(...)`` written by a model or a user. Numbers we write ourselves are
  never touched. A NUL (which ends a cell in Excel and LibreOffice) becomes U+FFFD.
* Huge cells are written whole: the export is the data, not a view of it (Excel shows the first
  32,767 characters of a cell; Python readers raise ``csv.field_size_limit``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from .records import StepRecord

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Letta wraps text it writes itself (heartbeats, alerts) in JSON user messages; not what a person typed.
SYSTEM_EVENT_TYPES = {"heartbeat", "system_alert", "login", "summary", "warning"}

CSV_COLUMNS = (
    "step_id",
    "time_utc",
    "time_source",
    "status",
    "agent_id",
    "agent_name",
    "model",
    "provider",
    "run_id",
    "run_position",
    "stop_reason",
    "error_type",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_input_tokens",
    "duration_ms",
    "llm_ms",
    "tool_ms",
    "feedback",
    "tags",
    "note",
    "tools",
    "first_user_text",
    "final_reply",
)


# --- CSV --------------------------------------------------------------------------------------


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as written: text that would start a formula is prefixed with '."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    value = value.replace("\x00", "\ufffd")
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def utc_text(when: datetime | None) -> str:
    # "2026-11-25 09:30:00.000123": a form every spreadsheet parses as a date; microseconds kept,
    # since steps of a run that share its time are that many microseconds apart
    if when is None:
        return ""
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def ms(ns: int | None) -> str:
    return "" if ns is None else f"{ns / 1_000_000:.3f}"


def user_text(text: str) -> str | None:
    """What a person typed in a user message, or None for text Letta wrote itself."""
    stripped = text.strip()
    if not stripped.startswith("{"):
        return text
    try:
        data = json.loads(stripped)
    except ValueError:
        return text
    if not isinstance(data, dict):
        return text
    if data.get("type") == "user_message" and "message" in data:
        return str(data["message"])  # old agent loops wrap a person's text
    return None if data.get("type") in SYSTEM_EVENT_TYPES else text


def first_user_text(record: StepRecord) -> str:
    for item in record.texts:
        if item.kind == "user_message" and item.text:
            text = user_text(item.text)
            if text is not None:
                return text
    return ""


def final_reply(record: StepRecord) -> str:
    """The last assistant text; for letta_v1 agents, which answer in a reasoning item, that item
    when it ends the step (reasoning followed by a tool call is a thought, not a reply)."""
    reply = ""
    for item in record.texts:
        if item.kind == "assistant_message" and item.text:
            reply = item.text
    if reply:
        return reply
    last = record.texts[-1] if record.texts else None
    return last.text if last and last.kind == "reasoning_message" else ""


def tools_used(record: StepRecord) -> list[str]:
    names = (i.tool for i in record.texts if i.kind == "tool_call_message" and i.tool)
    return list(dict.fromkeys(names))


def csv_row(record: StepRecord) -> list[Any]:
    metrics = record.metrics or {}
    values = (
        record.id,
        utc_text(record.step_time),
        record.step_time_source,
        record.status,
        record.agent_id,
        record.agent_name,
        record.model,
        record.provider,
        record.run_id,
        record.run_position,
        record.stop_reason,
        record.error_type,
        record.prompt_tokens,
        record.completion_tokens,
        record.total_tokens,
        record.cached_input_tokens,
        ms(record.duration_ns),
        ms(metrics.get("llm_request_ns")),
        ms(metrics.get("tool_execution_ns")),
        record.feedback,
        ", ".join(record.tags),
        record.note,
        ", ".join(tools_used(record)),
        first_user_text(record),
        final_reply(record),
    )
    return [safe_cell(v) for v in values]


def csv_text(rows: Iterable[list[Any]]) -> str:
    """Rows as CSV text (CRLF line ends, minimal quoting); a chunk of a file, the header a row like any."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(rows)
    return buffer.getvalue()


def csv_header() -> list[str]:
    return list(CSV_COLUMNS)


# --- JSONL ------------------------------------------------------------------------------------


def jsonl_object(record: StepRecord, *, include_traces: bool = False) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": record.id,
        "time": record.step_time.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if record.step_time
        else None,
        "time_source": record.step_time_source,
        "status": record.status,
        "agent_id": record.agent_id,
        "agent_name": record.agent_name,
        "model": record.model,
        "provider": record.provider,
        "run_id": record.run_id,
        "run_position": record.run_position,
        "stop_reason": record.stop_reason,
        "error_type": record.error_type,
        "tokens": {
            "prompt": record.prompt_tokens,
            "completion": record.completion_tokens,
            "total": record.total_tokens,
            "cached_input": record.cached_input_tokens,
        },
        "duration_ns": record.duration_ns,
        "feedback": record.feedback,
        "tags": list(record.tags),
        "note": record.note,
        "metrics": record.metrics,
        "messages": record.messages,
    }
    if include_traces:
        obj["traces"] = record.traces
    return obj


def jsonl_line(obj: Any) -> str:
    """One JSON document on one line. U+2028/U+2029 are escaped too: JSON allows them raw inside
    strings, but str.splitlines() and JavaScript line readers split there."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"
