"""Two steps (or two runs) gathered for the compare pages, then handed to the pure diff engine.

Loading takes a fixed number of queries whatever the steps hold (two steps with their metrics, their
traces, their messages); everything after that is `steps.diff` over plain JSON. Templates only read what
this module returns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.urls import reverse

from .. import diff
from ..fields import whole_number
from ..messages import tool_calls
from ..models import Message, ProviderTrace, Run, Step

VIEWS = ("structural", "side", "json")

STEP_FIELDS = (
    ("status", "status"),
    ("stop_reason", "stop reason"),
    ("error_type", "error type"),
    ("model", "model"),
    ("provider_name", "provider"),
    ("agent_id", "agent"),
    ("run_id", "run"),
)
TOKEN_FIELDS = (
    ("prompt_tokens", "prompt"),
    ("completion_tokens", "completion"),
    ("cached_input_tokens", "cached"),
    ("reasoning_tokens", "reasoning"),
    ("total_tokens", "total"),
)
TIMING_FIELDS = (
    ("llm_request_ns", "LLM time"),
    ("tool_execution_ns", "tool time"),
    ("step_ns", "step time"),
)


@dataclass
class Side:
    """One step of a comparison with what the diff needs: its chosen trace and its messages."""

    step: Step
    traces: list[ProviderTrace]
    messages: list[dict]
    trace_number: int = 0  # 1-based among `traces`; 0 when it has none

    @property
    def trace(self) -> ProviderTrace | None:
        return self.traces[self.trace_number - 1] if self.trace_number else None

    @property
    def metrics(self):
        return getattr(self.step, "metrics", None)

    @property
    def request(self) -> Any:
        return self.trace.request_json if self.trace else None

    @property
    def response(self) -> Any:
        return self.trace.response_json if self.trace else None


def default_trace_number(traces: list[ProviderTrace]) -> int:
    """The step's own LLM call: the last agent_step trace (a retried call writes the failed attempt
    first), else the last trace of any kind."""
    for number in range(len(traces), 0, -1):
        if traces[number - 1].call_type in ("agent_step", ""):
            return number
    return len(traces)


def load_pair(a_id: str, b_id: str) -> tuple[Side, Side] | None:
    """Both steps with metrics, traces and messages in three queries; None when either is unknown."""
    ids = {a_id, b_id}
    steps = {s.pk: s for s in Step.objects.select_related("metrics").filter(pk__in=ids)}
    if a_id not in steps or b_id not in steps:
        return None
    traces: dict[str, list[ProviderTrace]] = {i: [] for i in ids}
    for trace in ProviderTrace.objects.filter(step_id__in=ids).order_by("step_id", "created_at", "pk"):
        traces[trace.step_id].append(trace)
    messages: dict[str, list[dict]] = {i: [] for i in ids}
    rows = Message.objects.filter(step_id__in=ids).order_by("step_id", "position").only("step_id", "payload")
    for row in rows:
        messages[row.step_id].append(row.payload)
    a, b = (Side(steps[i], traces[i], messages[i], default_trace_number(traces[i])) for i in (a_id, b_id))
    return a, b


def pick_trace(side: Side, raw: str | None) -> None:
    """Apply a `trace_a` / `trace_b` query value; anything out of range keeps the default."""
    number = whole_number(raw)
    if number is not None and 1 <= number <= len(side.traces):
        side.trace_number = number


def step_page_context(
    step: Step, traces: list[ProviderTrace], prev_in_run: Step | None, prev_in_agent: Step | None
) -> dict:
    """What the step page shows of comparing: where "Compare with previous step" goes (the previous
    step of the run, else of the agent) and the context-window breakdown of the step's own LLM call."""
    previous = prev_in_run or prev_in_agent
    number = default_trace_number(traces)
    request = traces[number - 1].request_json if number else None
    return {
        "compare_previous_url": reverse("compare_steps", args=[previous.pk, step.pk]) if previous else "",
        "compare_previous_scope": "run" if prev_in_run else "agent",
        "breakdown": diff.context_breakdown(request, step.prompt_tokens) if request else None,
    }


# --- the step's own messages as a chat request ------------------------------------------------------


def _letta_content(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(p.get("text") or "") if p.get("type") == "text" else f"[{p.get('type')}]"
            for p in content
            if isinstance(p, dict)
        )
    return ""


def messages_as_request(items: list[dict]) -> dict:
    """A step's Letta messages in OpenAI chat shape, so the engine aligns them like a request's history.

    This is the adapter that lets a step without a trace still be compared by what it wrote.
    """
    out: list[dict] = []
    for item in items:
        kind = item.get("message_type")
        if kind == "user_message":
            out.append({"role": "user", "content": _letta_content(item.get("content"))})
        elif kind == "system_message":
            out.append({"role": "system", "content": _letta_content(item.get("content"))})
        elif kind == "assistant_message":
            out.append({"role": "assistant", "content": _letta_content(item.get("content"))})
        elif kind in ("reasoning_message", "hidden_reasoning_message"):
            text = (
                item.get("reasoning") or item.get("hidden_reasoning") or f"({item.get('state') or 'hidden'})"
            )
            out.append({"role": "assistant", "content": [{"type": "reasoning", "text": str(text)}]})
        elif kind in ("tool_call_message", "approval_request_message"):
            calls = [
                {
                    "id": str(c.get("tool_call_id") or ""),
                    "type": "function",
                    "function": {
                        "name": str(c.get("name") or ""),
                        "arguments": str(c.get("arguments") or ""),
                    },
                }
                for c in tool_calls(item)
            ]
            out.append({"role": "assistant", "content": None, "tool_calls": calls})
        elif kind == "tool_return_message":
            out.append(
                {
                    "role": "tool",
                    "tool_call_id": str(item.get("tool_call_id") or ""),
                    "content": str(item.get("tool_return") or ""),
                }
            )
        elif kind == "approval_response_message":
            verdict = "approved" if item.get("approve") else "denied"
            out.append({"role": "user", "content": f"[{verdict}] {item.get('reason') or ''}".strip()})
        else:
            out.append({"role": "user", "content": json.dumps(item, ensure_ascii=False, sort_keys=True)})
    return {"messages": out}


# --- the comparison --------------------------------------------------------------------------------


def _value_changes(a: Step, b: Step) -> list[diff.ValueChange]:
    rows = []
    for name, label in STEP_FIELDS:
        va, vb = getattr(a, name) or "", getattr(b, name) or ""
        rows.append(diff.ValueChange(label, diff.CHANGED if va != vb else diff.UNCHANGED, va, vb))
    return rows


def _numbers(obj: Any, fields: tuple) -> dict[str, int | None]:
    return {label: getattr(obj, name, None) if obj is not None else None for name, label in fields}


def signed(value) -> str:
    """+1,204 / −56 / 0 for a delta; "—" when unknown (the headline and the compare tables)."""
    if value is None or value == "":
        return "—"
    number = round(value) if isinstance(value, float) else value
    if number > 0:
        return f"+{intcomma(number)}"
    if number < 0:
        return f"−{intcomma(-number)}"
    return "0"


@dataclass
class StepComparison:
    a: Side
    b: Side
    request: diff.RequestDiff
    response: diff.ResponseDiff
    written: diff.MessagesDiff  # the messages each step wrote (its Letta messages), aligned
    fields: list[diff.ValueChange]
    tokens: tuple[diff.NumberRow, ...]
    timing: tuple[diff.NumberRow, ...]
    breakdown_a: diff.Breakdown | None
    breakdown_b: diff.Breakdown | None
    breakdown: diff.BreakdownDiff
    headline: list[str] = field(default_factory=list)

    @property
    def fields_changed(self) -> int:
        return sum(1 for row in self.fields if row.op == diff.CHANGED)


def _breakdown(side: Side, scale: bool, baseline: diff.Breakdown | None = None) -> diff.Breakdown | None:
    if side.request is None:
        return None
    return diff.context_breakdown(side.request, side.step.prompt_tokens if scale else None, baseline)


def _scale_breakdowns(a: Side, b: Side) -> bool:
    """Scale both sides to their real prompt tokens, or neither: a failed step counts no prompt
    tokens, and its chars / 4 estimate beside a scaled one showed every unchanged part as changed."""
    if a.request is None or b.request is None:
        return True
    return bool(a.step.prompt_tokens and b.step.prompt_tokens)


def compare_steps(a: Side, b: Side) -> StepComparison:
    request = diff.diff_requests(a.request, b.request)
    response = diff.diff_responses(a.response, b.response)
    written = written_messages(a, b)
    scale = _scale_breakdowns(a, b)
    breakdown_a = _breakdown(a, scale)
    # B against A: an unchanged part reads 0, and the real prompt-token difference sits on what changed
    breakdown_b = _breakdown(b, scale, breakdown_a)
    comparison = StepComparison(
        a=a,
        b=b,
        request=request,
        response=response,
        written=written,
        fields=_value_changes(a.step, b.step),
        tokens=diff.diff_numbers(_numbers(a.step, TOKEN_FIELDS), _numbers(b.step, TOKEN_FIELDS)),
        timing=diff.diff_numbers(_numbers(a.metrics, TIMING_FIELDS), _numbers(b.metrics, TIMING_FIELDS)),
        breakdown_a=breakdown_a,
        breakdown_b=breakdown_b,
        breakdown=diff.diff_breakdowns(breakdown_a, breakdown_b),
    )
    comparison.headline = headline(comparison)
    return comparison


def written_messages(a: Side, b: Side):
    """The messages each step wrote in Letta, aligned like a request's (the "messages each step
    wrote" part, and the whole comparison when neither step has a trace)."""
    return diff.diff_requests(messages_as_request(a.messages), messages_as_request(b.messages)).messages


def headline(c: StepComparison) -> list[str]:
    """The first line of the page: what the request gained, then step fields and the prompt-token delta."""
    items: list[str] = []
    if c.request.missing:
        items.append(
            {"a": "no trace on A", "b": "no trace on B", "both": "no trace on either step"}[c.request.missing]
        )
        w = c.written
        if w.added or w.removed or w.changed:
            counts = [
                f"+{w.added}" if w.added else "",
                f"−{w.removed}" if w.removed else "",
                f"~{w.changed}" if w.changed else "",
            ]
            items.append("messages written " + " ".join(x for x in counts if x))
    elif not c.request.summary.identical:
        # with one side missing, "every message added" would only restate that
        items.extend(c.request.summary.items)
    for row in c.fields:
        if row.op == diff.CHANGED and row.name in ("status", "stop reason", "error type", "model"):
            items.append(f"{row.name} {row.a or '—'} → {row.b or '—'}")
    for row in c.tokens:
        if row.name == "prompt" and row.delta:
            items.append(f"{signed(int(row.delta))} prompt tokens")
    if not items:
        items.append("identical requests" if c.request.summary.identical else "no differences found")
    return items


# --- the unified JSON view ---------------------------------------------------------------------------

JSON_PARTS = {"json-request": ("request", "Request JSON"), "json-response": ("response", "Response JSON")}


def json_views(c: StepComparison) -> list[tuple[str, str, diff.UnifiedDiff]]:
    """(part, title, unified diff) of the request and the response documents."""
    return [
        (part, title, diff.unified_json_diff(getattr(c.a, attr), getattr(c.b, attr)))
        for part, (attr, title) in JSON_PARTS.items()
    ]


def folded_json_lines(a: Side, b: Side, part: str, index: int) -> list[tuple[int, int, str]] | None:
    """The unchanged lines folded before hunk ``index`` (after the last hunk when it equals the number of
    hunks), as (A line number, B line number, text); None when there is no such fold."""
    attr = JSON_PARTS[part][0]
    a_doc, b_doc = getattr(a, attr), getattr(b, attr)
    hunks = diff.unified_json_diff(a_doc, b_doc).hunks
    if not hunks or not 0 <= index <= len(hunks):
        return None
    a_from = b_from = 0  # zero-based first line of the fold on each side
    if index:
        previous = hunks[index - 1]
        a_from, b_from = previous.a_start - 1 + previous.a_count, previous.b_start - 1 + previous.b_count
    a_lines = diff.pretty(a_doc).splitlines()
    a_to = hunks[index].a_start - 1 if index < len(hunks) else len(a_lines)
    if a_to <= a_from:
        return None
    return [(a_from + k + 1, b_from + k + 1, a_lines[a_from + k]) for k in range(a_to - a_from)]


# --- runs --------------------------------------------------------------------------------------------


@dataclass
class RunSide:
    run_id: str
    run: Run | None
    steps: list[Step]


def load_run(run_id: str) -> RunSide | None:
    """A run and its steps in the run's own order, as its page shows them (two queries); None when
    neither the run nor a step is known."""
    run = Run.objects.filter(pk=run_id).first()
    steps = list(Step.objects.filter(run_id=run_id).for_list().in_run_order())
    if run is None and not steps:
        return None
    return RunSide(run_id, run, steps)


def compare_runs(a: RunSide, b: RunSide) -> diff.RunAlignment:
    """Align the runs by the tools each step called and the messages each wrote (one query for every
    step's messages)."""
    ids = [s.pk for s in a.steps] + [s.pk for s in b.steps]
    tools: dict[str, list[str]] = {i: [] for i in ids}
    written: dict[str, list[dict]] = {i: [] for i in ids}
    rows = (
        Message.objects.filter(step_id__in=ids)
        .order_by("step_id", "position")
        .values_list("step_id", "message_type", "tool_name", "payload")
    )
    for step_id, message_type, tool_name, payload in rows:
        written[step_id].append(payload)
        if tool_name and message_type in ("tool_call_message", "approval_request_message"):
            tools[step_id].append(tool_name)

    def summaries(side: RunSide) -> list[diff.StepSummary]:
        return [
            diff.StepSummary(
                s.pk,
                tuple(tools[s.pk]),
                s.stop_reason or None,
                s.status or None,
                s.model or None,
                messages_as_request(written[s.pk])["messages"],
            )
            for s in side.steps
        ]

    return diff.align_runs(summaries(a), summaries(b))
