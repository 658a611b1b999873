"""Context-window breakdown: how much of a request is instructions, each memory block, tools, history.

Sizes are characters of the text the model reads (the system prompt sections as written, tool definitions
as compact JSON, message text), and estimated tokens at the usual 4 characters a token. When the step's
real ``prompt_tokens`` is known the estimates are scaled so they add up to it exactly (largest remainder
rounding), which keeps the proportions honest for a tokenizer that is denser or sparser than 4.

Two steps are compared with the later one's breakdown made against the earlier one (``baseline``): a part
whose text did not change keeps the earlier estimate, and the real prompt-token difference lands on the
parts that changed, in proportion to how many characters each gained or lost. Scaling each side on its
own spread that difference over every part, so an unchanged system prompt read "+22".
"""

from __future__ import annotations

import hashlib
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


def _rounded(exact: list[float], total: int) -> list[int]:
    """Whole numbers close to ``exact`` (which add up to ``total``) that add up to ``total`` exactly:
    largest remainder rounding."""
    tokens = [int(x) for x in exact]
    short = total - sum(tokens)
    for index in sorted(range(len(exact)), key=lambda i: exact[i] - tokens[i], reverse=True)[:short]:
        tokens[index] += 1
    return tokens


def _scaled(chars: list[int], prompt_tokens: int | None) -> tuple[list[int], bool]:
    estimates = [c / CHARS_PER_TOKEN for c in chars]
    total = sum(estimates)
    if not prompt_tokens or prompt_tokens <= 0 or total <= 0:
        return [round(e) for e in estimates], False
    return _rounded([e * prompt_tokens / total for e in estimates], prompt_tokens), True


def _digest(texts: list[str]) -> str:
    digest = hashlib.blake2b(digest_size=8)
    for text in texts:
        # JSON may carry lone surrogates, which strict UTF-8 refuses
        digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def _sized(request_json: Any) -> list[tuple[str, str, list[str]]]:
    """(kind, label, texts) of each part in reading order, empty parts included."""
    request = normalize_request(request_json)
    if request.shape == SHAPE_UNKNOWN:
        return [("request", "request", [dumps(request_json)])]
    if request.shape == SHAPE_NONE:
        return []
    prose: list[str] = []
    sized: list[tuple[str, str, list[str]]] = [("system", "instructions", prose)]
    for section in parse_letta_system(request.system):
        kind = _SYSTEM_KINDS.get(section.kind)
        if kind is None:
            prose.append(section.raw)
        else:
            sized.append((kind, section.label, [section.raw]))
    sized.append(("tools", "tool schemas", [dumps(list(request.tools.values()))] if request.tools else []))
    sized.append(("summary", "summary", [m.text for m in request.messages if m.is_summary]))
    sized.append(("messages", "message history", [m.text for m in request.messages if not m.is_summary]))
    return sized


# Tokens per character any tokenizer gives (from long repeated runs to emoji): a growth outside it means
# the characters that changed cannot explain the real difference, so it is shared by size instead.
_PLAUSIBLE_RATE = (0.02, 4.0)


def _by_growth(had: list[int], grew: list[int], left: int) -> list[int] | None:
    """The changed parts' tokens as their earlier estimate plus their growth in characters at the one
    rate that makes them add up to ``left``; None when no plausible rate does."""
    growth, chars = left - sum(had), sum(grew)
    if not chars or not _PLAUSIBLE_RATE[0] <= growth / chars <= _PLAUSIBLE_RATE[1]:
        return None
    exact = [h + g * growth / chars for h, g in zip(had, grew, strict=True)]
    return _rounded(exact, left) if min(exact) >= 0 else None


def _anchored(
    parts: list[tuple[str, str, int, str]], prompt_tokens: int | None, baseline: Breakdown
) -> tuple[list[int], bool]:
    """Token estimates for ``parts`` that keep ``baseline``'s figure for every part whose text is the same
    and share what is left of ``prompt_tokens`` among the parts that changed: by how much each grew
    (a memory block that gained a line gets a few tokens, the history most), else by their size."""
    known = {(p.kind, p.label): p for p in baseline.parts}
    before = [known.get((kind, label)) for kind, label, _, _ in parts]
    tokens = [
        b.tokens if b and b.digest == digest and b.chars == chars else None
        for b, (_, _, chars, digest) in zip(before, parts, strict=True)
    ]
    changed = [i for i, count in enumerate(tokens) if count is None]
    chars = [parts[i][2] for i in changed]
    left = prompt_tokens - sum(t for t in tokens if t is not None) if prompt_tokens and baseline.scaled else 0
    shares = None
    if changed and left > 0:
        earlier = [before[i] for i in changed]
        had = [b.tokens if b else 0 for b in earlier]
        grew = [c - (b.chars if b else 0) for b, c in zip(earlier, chars, strict=True)]
        shares = _by_growth(had, grew, left) or _scaled(chars, left)[0]
    if shares is None:
        # no real figure to share (unscaled, or one the unchanged parts already use up): the changed
        # parts get the baseline's tokens per character
        density = (
            baseline.tokens / baseline.chars if baseline.scaled and baseline.chars else 1 / CHARS_PER_TOKEN
        )
        shares = [round(c * density) for c in chars]
    for index, share in zip(changed, shares, strict=True):
        tokens[index] = share
    counts = [t or 0 for t in tokens]
    # "scaled" promises parts that add up to the real count, which a spent-up remainder breaks
    return counts, baseline.scaled and sum(counts) == prompt_tokens


def context_breakdown(
    request_json: Any, prompt_tokens: int | None = None, baseline: Breakdown | None = None
) -> Breakdown:
    """Parts of the request in characters and estimated tokens, in the order the model reads them.

    Part kinds: "system" (base instructions and other prompt prose, one part), "memory_block" (one per
    label), "tool_rules", "files" (Letta's ``<directories>``), "memory_metadata", "tools", "messages"
    (history, summary excluded), "summary".
    Empty parts are left out; an unknown shape is one "request" part; None gives no parts.
    With a ``baseline`` (the breakdown of the step this one is compared with), parts with the same text
    keep the baseline's estimate and the changed parts share the rest of ``prompt_tokens``.
    """
    parts = [
        (kind, label, sum(map(len, texts)), _digest(texts))
        for kind, label, texts in _sized(request_json)
        if any(texts)
    ]
    if baseline is None:
        tokens, scaled = _scaled([chars for _, _, chars, _ in parts], prompt_tokens)
    else:
        tokens, scaled = _anchored(parts, prompt_tokens, baseline)
    result = tuple(
        BreakdownPart(kind=kind, label=label, chars=chars, tokens=count, digest=digest)
        for (kind, label, chars, digest), count in zip(parts, tokens, strict=True)
    )
    return Breakdown(parts=result, chars=sum(p.chars for p in result), tokens=sum(tokens), scaled=scaled)


def diff_breakdowns(a: Breakdown | None, b: Breakdown | None) -> BreakdownDiff:
    """A row per (kind, label) present on either side, in B's order then A-only rows, with the token delta
    (a missing part counts as 0 for the delta); ``total`` compares the token totals. Make ``b`` with
    ``a`` as its baseline, or unchanged parts show whatever the two scalings made of them."""
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
                changed=x is None or y is None or x.digest != y.digest or x.chars != y.chars,
            )
        )
    total = number_row("tokens", a.tokens if a else None, b.tokens if b else None)
    return BreakdownDiff(rows=tuple(rows), total=total)
