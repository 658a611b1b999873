"""Two runs' steps aligned, and where they first diverge.

Pairs are made by position (step 1 with step 1, ...): that is what a reviewer compares when a run is
replayed. A step's "action" is the tools it called, or "answered" / "failed" when it called none. A pair
is ``same`` only when the step diff would find nothing between the two steps' own doings: the same
actions, stop reason and model, and the messages each wrote aligned with the step diff's message
alignment (``diff_messages``) without a difference. Two runs of one tool sequence with other input,
arguments or answers are not the same runs. ``tool_ops`` separately aligns the two runs' action sequences
with ``SequenceMatcher``, which shows an inserted or skipped tool call as one added or removed row rather
than a shifted run of mismatches.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from difflib import SequenceMatcher
from typing import Any

from .model import (
    ADDED,
    CHANGED,
    REMOVED,
    UNCHANGED,
    Message,
    RunAlignment,
    StepPair,
    StepSummary,
    UnchangedRun,
    ValueChange,
)
from .request_diff import diff_messages
from .shapes import dumps, normalize_request
from .summary import plural

_FAILED = {"failed", "error", "cancelled"}


def _summary(step: StepSummary | Mapping) -> StepSummary:
    if isinstance(step, StepSummary):
        return step
    tools = step.get("tools") or ()
    if isinstance(tools, str):
        tools = (tools,)
    return StepSummary(
        id=dumps(step.get("id", "")),
        tools=tuple(dumps(t) for t in tools),
        stop_reason=step.get("stop_reason"),
        status=step.get("status"),
        model=step.get("model"),
        messages=step.get("messages"),
    )


def _failed(step: StepSummary) -> bool:
    return (step.status or "").lower() in _FAILED or (step.stop_reason or "").lower() in (
        "error",
        "llm_api_error",
    )


def action(step: StepSummary) -> str:
    """What the step did, in words: "called `web_search`", "answered", "failed (llm_api_error)"."""
    if step.tools:
        return "called " + ", ".join(f"`{t}`" for t in step.tools)
    if _failed(step):
        return f"failed ({step.stop_reason or step.status})"
    return "answered"


def _untimed(message: Any) -> Any:
    """A chat message without the time Letta stamps on the JSON it writes (a heartbeat, a packaged tool
    return): two runs that did the same thing differ there and nowhere else."""
    if not isinstance(message, Mapping) or not isinstance(message.get("content"), str):
        return message
    text = message["content"]
    if not text.lstrip().startswith("{"):
        return message
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return message
    if not isinstance(data, dict) or "time" not in data:
        return message
    data.pop("time")
    return {**message, "content": dumps(data)}


# What a differing message is, in the words of the run page ("3 steps differ in tool arguments"), listed
# in the order a turn happens whatever order the messages came in.
_MESSAGE_WORDS = {"tool_call": "tool arguments", "tool_return": "tool results", "reasoning": "reasoning"}
_ROLE_WORDS = {"user": "user input", "assistant": "answers", "tool": "tool results"}
_ORDER = ("user input", "reasoning", "tool arguments", "tool results", "answers")


def _word(message: Message) -> str:
    if message.event:
        return message.event.replace("_", " ") + "s"
    return _MESSAGE_WORDS.get(message.kind) or _ROLE_WORDS.get(message.role) or f"{message.role} messages"


def _differs(x: StepSummary, y: StepSummary) -> tuple[str, ...]:
    """What the messages the two steps wrote differ in, by the step diff's alignment; () when either
    side's messages are unknown."""
    if not isinstance(x.messages, list | tuple) or not isinstance(y.messages, list | tuple):
        return ()
    a, b = (
        normalize_request({"messages": [_untimed(m) for m in messages]}).messages
        for messages in (x.messages, y.messages)
    )
    words = []
    for entry in diff_messages(a, b).entries:
        if not isinstance(entry, UnchangedRun):
            words += [_word(m) for m in (entry.a, entry.b) if m is not None]
    return _in_order(words)


def _in_order(words: list[str]) -> tuple[str, ...]:
    return tuple(sorted(dict.fromkeys(words), key=lambda w: _ORDER.index(w) if w in _ORDER else len(_ORDER)))


def _listed(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _pair(index: int, x: StepSummary, y: StepSummary) -> StepPair:
    differs = _differs(x, y)
    notes = []
    same_action = x.tools == y.tools and _failed(x) == _failed(y)
    if not same_action:
        notes.append(f"run B {action(y)} where A {action(x)}")
    elif x.stop_reason != y.stop_reason:
        notes.append(f"same action, stop reason {x.stop_reason} → {y.stop_reason}")
    elif differs or x.model != y.model:
        notes.append("same action")
    if differs and same_action:  # after another action, other messages go without saying
        notes.append("different " + _listed(differs))
    if x.model != y.model:
        notes.append(f"model {x.model or '—'} → {y.model or '—'}")
    return StepPair(index, x, y, not notes, "; ".join(notes), differs)


def _extent(pairs: list[StepPair], a: list[StepSummary], b: list[StepSummary]) -> str:
    """How far the runs differ, for a headline: the whole picture the first divergence alone hides."""
    differing = [p for p in pairs if not p.same]
    if not differing:
        return ""
    count = f"{len(differing)} of {plural(len(pairs), 'step')} differ{'s' if len(differing) == 1 else ''}"
    same_sequence = len(a) == len(b) and all(
        x.tools == y.tools and _failed(x) == _failed(y) for x, y in zip(a, b, strict=True)
    )
    if not same_sequence:
        return count
    what = [w for p in differing for w in p.differs]
    if any(p.a and p.b and p.a.stop_reason != p.b.stop_reason for p in differing):
        what.append("stop reason")
    if any(p.a and p.b and p.a.model != p.b.model for p in differing):
        what.append("model")
    return f"same tool sequence; {count} in {_listed(_in_order(what))}"


def _actions(steps: list[StepSummary]) -> list[tuple[str, str]]:
    out = []
    for step in steps:
        names = step.tools or (("failed",) if _failed(step) else ("answer",))
        out += [(name, step.id) for name in names]
    return out


def align_runs(
    a_steps: Sequence[StepSummary | Mapping], b_steps: Sequence[StepSummary | Mapping]
) -> RunAlignment:
    """Align two runs' steps (``StepSummary`` objects or dicts with id, tools, stop_reason, status)."""
    a = [_summary(s) for s in a_steps]
    b = [_summary(s) for s in b_steps]
    pairs = []
    for index in range(max(len(a), len(b))):
        x = a[index] if index < len(a) else None
        y = b[index] if index < len(b) else None
        if x is None or y is None:
            present = x or y
            assert present is not None
            who, other = ("B", "A") if y is not None else ("A", "B")
            note = f"run {who} went on: step {index + 1} {action(present)}; run {other} had stopped"
            pairs.append(StepPair(index, x, y, False, note))
            continue
        pairs.append(_pair(index, x, y))

    a_actions, b_actions = _actions(a), _actions(b)
    matcher = SequenceMatcher(None, [n for n, _ in a_actions], [n for n, _ in b_actions], autojunk=False)
    tool_ops: list[ValueChange] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            tool_ops += [
                ValueChange(a_actions[i][0], UNCHANGED, a_actions[i][1], b_actions[j][1])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            tool_ops += [
                ValueChange(
                    f"{a_actions[i][0]} → {b_actions[j][0]}", CHANGED, a_actions[i][1], b_actions[j][1]
                )
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
            continue
        tool_ops += [ValueChange(a_actions[i][0], REMOVED, a_actions[i][1], None) for i in range(i1, i2)]
        tool_ops += [ValueChange(b_actions[j][0], ADDED, None, b_actions[j][1]) for j in range(j1, j2)]

    first = next((p.index for p in pairs if not p.same), None)
    if first is None:
        divergence = "the runs took the same steps" if pairs else "both runs are empty"
    else:
        divergence = f"step {first + 1}: {pairs[first].note}"
    return RunAlignment(
        pairs=tuple(pairs),
        tool_ops=tuple(tool_ops),
        first_divergence=first,
        divergence=divergence,
        same=first is None,
        extent=_extent(pairs, a, b),
    )
