"""Two provider requests compared in the words of an LLM request.

Messages are aligned as a sequence: ``SequenceMatcher`` (autojunk off) over one hashable key per message
(role, kind, text), after cutting the common head off, since a later call repeats the earlier history and
appends (``text.opcodes``: SequenceMatcher, or RapidFuzz's LCS when many messages repeat). Inside a
replaced stretch, messages are paired in order when they have the same role and kind and their words
mostly agree (``similar``), and become "changed" with a word diff; the rest are removed/added.
A Letta summary message is never paired with an ordinary one, so a summary replacing old messages reads as
"12 messages removed, summary added". Runs of unchanged messages are folded into ``UnchangedRun``.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from rapidfuzz.distance import Indel

from .jsondiff import diff_json
from .model import (
    ADDED,
    CHANGED,
    REMOVED,
    SHAPE_LABELS,
    SHAPE_NONE,
    SHAPE_UNKNOWN,
    UNCHANGED,
    Message,
    MessageOp,
    MessagesDiff,
    NormalizedRequest,
    RequestDiff,
    SystemDiff,
    ToolDiff,
    UnchangedRun,
    ValueChange,
)
from .shapes import normalize_request
from .summary import request_summary
from .system_diff import diff_system
from .text import opcodes, replacement, word_diff

PAIR_LOOKAHEAD = 8  # how far ahead a replaced stretch looks for a partner, keeping pairing linear
PAIR_RATIO = 0.5
# Characters of changed messages that get a word diff; past it (two unrelated conversations), changed
# messages show as old text / new text, which keeps a diff of 500 rewritten messages fast.
WORD_DIFF_BUDGET = 400_000


_WORD = re.compile(r"\w+")
SIMILARITY_WORDS = 5_000  # beyond this many words a side, similarity is judged on word counts alone


def similar(a_words: list[str], b_words: list[str], threshold: float = PAIR_RATIO) -> bool:
    """Whether two message texts (as their words, whitespace and punctuation left out) are versions of
    one another: the longest common subsequence of their words covers at least ``threshold`` of them
    (RapidFuzz's Indel similarity, in C++). Characters alone would not do: any two English texts share
    most of their letters."""
    total = len(a_words) + len(b_words)
    if not total or a_words == b_words:
        return True
    if 2 * min(len(a_words), len(b_words)) / total < threshold:
        return False
    if len(a_words) > SIMILARITY_WORDS or len(b_words) > SIMILARITY_WORDS:
        # Word counts ignoring order: an upper bound of the LCS measure, computed in linear time.
        shared = Counter(a_words) & Counter(b_words)
        return 2 * sum(shared.values()) / total >= threshold
    return Indel.normalized_similarity(a_words, b_words) >= threshold


def _key(message: Message) -> tuple[str, str, str]:
    return (message.role, message.kind, message.text)


def _comparable(a: Message, b: Message) -> bool:
    if a.role != b.role or a.kind != b.kind or a.is_summary != b.is_summary:
        return False
    return a.kind != "tool_call" or a.tool_names == b.tool_names


def _pair_replaced(a: list[Message], b: list[Message], i0: int, j0: int) -> list[tuple[int, int, bool]]:
    """Pairs (i, j, False) of look-alike messages inside a replaced stretch, in order: each B message
    takes the first comparable, similar A message within ``PAIR_LOOKAHEAD`` after the last pair."""
    words: dict[int, list[str]] = {}

    def words_of(side: str, index: int, message: Message) -> list[str]:
        key = index if side == "a" else -1 - index
        if key not in words:
            words[key] = _WORD.findall(message.text)
        return words[key]

    pairs = []
    i = 0
    for j, right in enumerate(b):
        for k in range(i, min(len(a), i + PAIR_LOOKAHEAD)):
            if _comparable(a[k], right) and similar(words_of("a", k, a[k]), words_of("b", j, right)):
                pairs.append((i0 + k, j0 + j, False))
                i = k + 1
                break
    return pairs


def _matching(a: tuple[Message, ...], b: tuple[Message, ...]) -> list[tuple[int, int, bool]]:
    """A monotone matching (i, j, equal) between the two message lists."""
    a_keys = [_key(m) for m in a]
    b_keys = [_key(m) for m in b]
    head = 0
    while head < min(len(a), len(b)) and a_keys[head] == b_keys[head]:
        head += 1
    pairs = [(k, k, True) for k in range(head)]
    codes, _ = opcodes(a_keys[head:], b_keys[head:])
    for tag, i1, i2, j1, j2 in codes:
        i1, i2, j1, j2 = i1 + head, i2 + head, j1 + head, j2 + head
        if tag == "equal":
            pairs += [(i1 + k, j1 + k, True) for k in range(i2 - i1)]
        elif tag == "replace":
            pairs += _pair_replaced(list(a[i1:i2]), list(b[j1:j2]), i1, j1)
    return pairs


def diff_messages(a: tuple[Message, ...], b: tuple[Message, ...]) -> MessagesDiff:
    """Aligned messages; diff(b, a) is the mirror image of diff(a, b).

    ``SequenceMatcher`` breaks ties by position in its first sequence, so the matching is always computed
    with the two lists in one canonical order and mirrored when needed: swapping the sides then swaps
    additions and removals exactly.
    """
    if [_key(m) for m in b] < [_key(m) for m in a]:
        pairs = [(i, j, equal) for j, i, equal in _matching(b, a)]
    else:
        pairs = _matching(a, b)
    ops: list[MessageOp] = []
    budget = WORD_DIFF_BUDGET
    i = j = 0
    for pi, pj, equal in [*pairs, (len(a), len(b), None)]:
        ops += [MessageOp(REMOVED, m, None) for m in a[i:pi]]
        ops += [MessageOp(ADDED, None, m) for m in b[j:pj]]
        if equal is True:
            ops.append(MessageOp(UNCHANGED, a[pi], b[pj]))
        elif equal is False:
            left, right = a[pi].text, b[pj].text
            budget -= len(left) + len(right)
            text = word_diff(left, right) if budget >= 0 else replacement(left, right)
            ops.append(MessageOp(CHANGED, a[pi], b[pj], text))
        i, j = pi + 1, pj + 1
    entries: list[MessageOp | UnchangedRun] = []
    run: list[MessageOp] = []
    for op in ops:
        if op.op == UNCHANGED:
            run.append(op)
            continue
        if run:
            entries.append(UnchangedRun(tuple(run)))
            run = []
        entries.append(op)
    if run:
        entries.append(UnchangedRun(tuple(run)))
    counts = Counter(op.op for op in ops)
    return MessagesDiff(
        entries=tuple(entries),
        added=counts[ADDED],
        removed=counts[REMOVED],
        changed=counts[CHANGED],
        unchanged=counts[UNCHANGED],
    )


def diff_tools(a: dict[str, Any], b: dict[str, Any]) -> tuple[ToolDiff, ...]:
    """Tools by name, in B's order then A-only ones; ``changes`` is the schema's JSON tree diff."""
    tools: list[ToolDiff] = []
    for name, definition in b.items():
        if name not in a:
            tools.append(ToolDiff(ADDED, name, None, definition))
            continue
        changes = diff_json(a[name], definition)
        tools.append(ToolDiff(CHANGED if changes else UNCHANGED, name, a[name], definition, changes))
    tools += [ToolDiff(REMOVED, name, definition, None) for name, definition in a.items() if name not in b]
    return tuple(tools)


def diff_params(a: dict[str, Any], b: dict[str, Any]) -> tuple[ValueChange, ...]:
    """Every parameter present on a side, A's order then B-only ones."""
    rows = []
    for name in [*a, *(k for k in b if k not in a)]:
        if name not in b:
            rows.append(ValueChange(name, REMOVED, a[name], None))
        elif name not in a:
            rows.append(ValueChange(name, ADDED, None, b[name]))
        else:
            same = type(a[name]) is type(b[name]) and diff_json(a[name], b[name]) == ()
            rows.append(ValueChange(name, UNCHANGED if same else CHANGED, a[name], b[name]))
    return tuple(rows)


def diff_requests(a: Any, b: Any) -> RequestDiff:
    """Structural diff of two ``request_json`` values; either may be None (no trace on that side).

    A missing side reads as an empty request, so every message of the other side shows as added or
    removed. When either side is of an unknown shape only ``json`` (the generic tree diff) is filled.
    """
    left: NormalizedRequest = normalize_request(a)
    right: NormalizedRequest = normalize_request(b)
    missing = {(True, True): "both", (True, False): "a", (False, True): "b"}.get(
        (left.shape == SHAPE_NONE, right.shape == SHAPE_NONE)
    )
    json_changes: tuple = ()
    if SHAPE_UNKNOWN in (left.shape, right.shape):
        json_changes = diff_json(a, b)
        empty = NormalizedRequest(shape=SHAPE_UNKNOWN, system="", messages=(), tools={}, params={})
        left_parts = right_parts = empty
    else:
        left_parts, right_parts = left, right
    messages = diff_messages(left_parts.messages, right_parts.messages)
    system: SystemDiff = diff_system(left_parts.system, right_parts.system)
    tools = diff_tools(left_parts.tools, right_parts.tools)
    params = diff_params(left_parts.params, right_parts.params)
    summary = request_summary(
        shapes=(SHAPE_LABELS.get(left.shape, left.shape), SHAPE_LABELS.get(right.shape, right.shape)),
        missing=missing,
        messages=messages,
        system=system,
        tools=tools,
        params=params,
        json_changes=json_changes,
    )
    return RequestDiff(
        shape_a=left.shape,
        shape_b=right.shape,
        a=left if left.shape != SHAPE_NONE else None,
        b=right if right.shape != SHAPE_NONE else None,
        messages=messages,
        system=system,
        tools=tools,
        params=params,
        summary=summary,
        json=json_changes,
        missing=missing,
    )
