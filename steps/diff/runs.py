"""Two runs' steps aligned, and where they first diverge.

Pairs are made by position (step 1 with step 1, ...): that is what a reviewer compares when a run is
replayed. A step's "action" is the tools it called, or "answered" / "failed" when it called none; a pair
is ``same`` when the actions and the stop reason agree. ``tool_ops`` separately aligns the two runs'
action sequences with ``SequenceMatcher``, which shows an inserted or skipped tool call as one added or
removed row rather than a shifted run of mismatches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from difflib import SequenceMatcher

from .model import ADDED, CHANGED, REMOVED, UNCHANGED, RunAlignment, StepPair, StepSummary, ValueChange
from .shapes import dumps

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
        same = x.tools == y.tools and x.stop_reason == y.stop_reason and _failed(x) == _failed(y)
        note = "" if same else f"run B {action(y)} where A {action(x)}"
        if not same and x.tools == y.tools and not _failed(x) and not _failed(y):
            note = f"same action, stop reason {x.stop_reason} → {y.stop_reason}"
        pairs.append(StepPair(index, x, y, same, note))

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
    )
