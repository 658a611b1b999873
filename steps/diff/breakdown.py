"""Context-window breakdown: how much of a request is instructions, each memory block, tools, history.

Sizes are characters of the text the model reads (the system prompt sections as written, tool definitions
as compact JSON, message text), and estimated tokens at the usual 4 characters a token. When the step's
real ``prompt_tokens`` is known the estimates are scaled so they add up to it exactly (largest remainder
rounding), which keeps the proportions honest for a tokenizer that is denser or sparser than 4.
"""

from __future__ import annotations

from typing import Any

from .letta import parse_letta_system
from .model import SHAPE_NONE, SHAPE_UNKNOWN, Breakdown, BreakdownDiff, BreakdownPart, BreakdownRow
from .numbers import number_row
from .shapes import dumps, normalize_request

CHARS_PER_TOKEN = 4
# System prompt sections with a part of their own; the rest counts as "system" (instructions).
_SYSTEM_KINDS = {
    "tool_rules": "tool_rules",
    "memory_metadata": "memory_metadata",
    "memory_block": "memory_block",
    "directories": "files",  # open files' contents can be most of a prompt
}


def _scaled(chars: list[int], prompt_tokens: int | None) -> tuple[list[int], bool]:
    estimates = [c / CHARS_PER_TOKEN for c in chars]
    total = sum(estimates)
    if not prompt_tokens or prompt_tokens <= 0 or total <= 0:
        return [round(e) for e in estimates], False
    exact = [e * prompt_tokens / total for e in estimates]
    tokens = [int(x) for x in exact]
    short = prompt_tokens - sum(tokens)
    for index in sorted(range(len(exact)), key=lambda i: exact[i] - tokens[i], reverse=True)[:short]:
        tokens[index] += 1
    return tokens, True


def context_breakdown(request_json: Any, prompt_tokens: int | None = None) -> Breakdown:
    """Parts of the request in characters and estimated tokens, in the order the model reads them.

    Part kinds: "system" (base instructions and other prompt prose, one part), "memory_block" (one per
    label), "tool_rules", "files" (Letta's ``<directories>``), "memory_metadata", "tools", "messages"
    (history, summary excluded), "summary".
    Empty parts are left out; an unknown shape is one "request" part; None gives no parts.
    """
    request = normalize_request(request_json)
    sized: list[tuple[str, str, int]] = []
    if request.shape == SHAPE_UNKNOWN:
        sized.append(("request", "request", len(dumps(request_json))))
    elif request.shape != SHAPE_NONE:
        prose = 0
        for section in parse_letta_system(request.system):
            kind = _SYSTEM_KINDS.get(section.kind)
            if kind is None:
                prose += len(section.raw)
            else:
                sized.append((kind, section.label, len(section.raw)))
        sized.insert(0, ("system", "instructions", prose))
        sized.append(
            ("tools", "tool schemas", len(dumps(list(request.tools.values()))) if request.tools else 0)
        )
        history = sum(len(m.text) for m in request.messages if not m.is_summary)
        summary = sum(len(m.text) for m in request.messages if m.is_summary)
        sized.append(("summary", "summary", summary))
        sized.append(("messages", "message history", history))
    sized = [part for part in sized if part[2] > 0]
    tokens, scaled = _scaled([c for _, _, c in sized], prompt_tokens)
    parts = tuple(
        BreakdownPart(kind=kind, label=label, chars=chars, tokens=count)
        for (kind, label, chars), count in zip(sized, tokens, strict=True)
    )
    return Breakdown(parts=parts, chars=sum(p.chars for p in parts), tokens=sum(tokens), scaled=scaled)


def diff_breakdowns(a: Breakdown | None, b: Breakdown | None) -> BreakdownDiff:
    """A row per (kind, label) present on either side, in B's order then A-only rows, with the token delta
    (a missing part counts as 0 for the delta); ``total`` compares the token totals."""
    left = {(p.kind, p.label): p for p in a.parts} if a else {}
    right = {(p.kind, p.label): p for p in b.parts} if b else {}
    rows = []
    for key in [*right, *(k for k in left if k not in right)]:
        x, y = left.get(key), right.get(key)
        rows.append(
            BreakdownRow(
                kind=key[0],
                label=key[1],
                a_tokens=x.tokens if x else None,
                b_tokens=y.tokens if y else None,
                delta=(y.tokens if y else 0) - (x.tokens if x else 0),
                a_chars=x.chars if x else None,
                b_chars=y.chars if y else None,
            )
        )
    total = number_row("tokens", a.tokens if a else None, b.tokens if b else None)
    return BreakdownDiff(rows=tuple(rows), total=total)
