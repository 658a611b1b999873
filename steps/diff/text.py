"""Word-level text diff: ``difflib.SequenceMatcher`` for small changes, RapidFuzz's LCS for large ones.

Texts are cut into tokens (runs of word characters, runs of whitespace, runs of other characters) whose
concatenation is the text. The common prefix and suffix are cut off first: most of a later prompt repeats
the earlier one, so the part left to match is usually small.

Matching the middle: ``SequenceMatcher`` (``autojunk=False``, so spaces and common words are not thrown
away as junk) gives the most readable diffs, longest common runs first, but its cost grows with how often
tokens repeat: two different 3,000-word replies take it seconds. Its cost is estimated beforehand
(sum over tokens of count in A x count in B, counted in C by ``Counter``); beyond ``MATCHER_BUDGET`` the
middle goes to ``rapidfuzz.distance.Indel.opcodes``, a bit-parallel LCS in C++ (the same 3,000 words in
~20 ms), whose choppier output is then cleaned up by folding short equal runs into the changes around
them. A middle beyond ``WORD_LIMIT`` tokens is compared line by line (``TextDiff.coarse``), and one beyond
``LINE_LIMIT`` lines is shown as one deletion plus one insertion.
"""

from __future__ import annotations

import re
from collections import Counter
from difflib import SequenceMatcher

from rapidfuzz.distance import Indel

from .model import DELETE, EQUAL, INSERT, Segment, TextDiff

WORD_LIMIT = 20_000  # tokens in the changed middle of both sides together
LINE_LIMIT = 20_000
MATCHER_BUDGET = 20_000  # estimated SequenceMatcher steps (~10 ms) before switching to RapidFuzz

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]+")


def tokenize(text: str) -> list[str]:
    """Tokens whose concatenation is ``text`` exactly."""
    return _TOKEN.findall(text)


def _common_prefix(a: list[str], b: list[str]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _common_suffix(a: list[str], b: list[str], prefix: int) -> int:
    n = min(len(a), len(b)) - prefix
    i = 0
    while i < n and a[-1 - i] == b[-1 - i]:
        i += 1
    return i


def matcher_cost(a: list[str], b: list[str]) -> int:
    """Roughly the work of one ``find_longest_match`` pass: pairs of equal tokens across the sides."""
    counts = Counter(a)
    return sum(counts[token] for token in b)


def opcodes(a: list[str], b: list[str]) -> tuple[list[tuple[str, int, int, int, int]], bool]:
    """difflib-style opcodes for two token (or line) lists, and whether RapidFuzz produced them."""
    if matcher_cost(a, b) <= MATCHER_BUDGET:
        return SequenceMatcher(None, a, b, autojunk=False).get_opcodes(), False
    return [
        (op.tag, op.src_start, op.src_end, op.dest_start, op.dest_end) for op in Indel.opcodes(a, b)
    ], True


def _match(a: list[str], b: list[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    codes, choppy = opcodes(a, b)
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal":
            out.append((EQUAL, "".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append((DELETE, "".join(a[i1:i2])))
        if j2 > j1:
            out.append((INSERT, "".join(b[j1:j2])))
    return _fold_short_equals(out) if choppy else out


def _fold_short_equals(pieces: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """An LCS matches every shared space and "the"; an equal run between two changes that is no longer
    than the changed text on each side of it reads better as part of the change (the rule of
    diff-match-patch's semantic cleanup, in one pass)."""
    out: list[tuple[str, str]] = []
    for index, (op, text) in enumerate(pieces):
        if op == EQUAL and 0 < index < len(pieces) - 1:
            before = sum(len(t) for o, t in pieces[max(0, index - 2) : index] if o != EQUAL)
            after = sum(len(t) for o, t in pieces[index + 1 : index + 3] if o != EQUAL)
            if before and after and len(text) <= min(before, after):
                out.append((DELETE, text))
                out.append((INSERT, text))
                continue
        out.append((op, text))
    return out


def _tidy(pieces: list[tuple[str, str]]) -> tuple[Segment, ...]:
    """Merge neighbours of one kind, and fold a whitespace-only equal run lying between two changes into
    them, so "- old words + new words" reads as two phrases rather than alternating single words."""
    folded: list[tuple[str, str]] = []
    for index, (op, text) in enumerate(pieces):
        if not text:
            continue
        between_changes = (
            op == EQUAL
            and text.isspace()
            and 0 < index < len(pieces) - 1
            and pieces[index - 1][0] != EQUAL
            and pieces[index + 1][0] != EQUAL
        )
        if between_changes:
            folded.append((DELETE, text))
            folded.append((INSERT, text))
        else:
            folded.append((op, text))
    # Within each stretch between equal runs, all deletions first, then all insertions.
    out: list[Segment] = []
    deleted: list[str] = []
    inserted: list[str] = []

    def flush() -> None:
        if deleted:
            out.append(Segment(DELETE, "".join(deleted)))
            deleted.clear()
        if inserted:
            out.append(Segment(INSERT, "".join(inserted)))
            inserted.clear()

    for op, text in folded:
        if op == DELETE:
            deleted.append(text)
        elif op == INSERT:
            inserted.append(text)
        else:
            flush()
            if out and out[-1].op == EQUAL:
                out[-1] = Segment(EQUAL, out[-1].text + text)
            else:
                out.append(Segment(EQUAL, text))
    flush()
    return tuple(out)


def _diff_lines(a: str, b: str) -> list[tuple[str, str]]:
    a_lines = a.splitlines(keepends=True)
    b_lines = b.splitlines(keepends=True)
    if len(a_lines) + len(b_lines) > LINE_LIMIT:
        return [(DELETE, a), (INSERT, b)]
    return _match(a_lines, b_lines)


def replacement(a: str | None, b: str | None) -> TextDiff:
    """The cheapest diff: all of ``a`` deleted, all of ``b`` inserted (``coarse``)."""
    a, b = a or "", b or ""
    if a == b:
        return word_diff(a, b)
    segments = tuple(s for s in (Segment(DELETE, a), Segment(INSERT, b)) if s.text)
    return TextDiff(segments=segments, changed=True, coarse=True, inserted=len(b), deleted=len(a))


def word_diff(a: str | None, b: str | None) -> TextDiff:
    """Segments of a word-level diff of ``a`` and ``b`` (None reads as ""); line level for huge texts."""
    a = a or ""
    b = b or ""
    if a == b:
        return TextDiff(segments=(Segment(EQUAL, a),) if a else (), changed=False)
    if not a or not b:
        segment = Segment(INSERT, b) if b else Segment(DELETE, a)
        return TextDiff(segments=(segment,), changed=True, inserted=len(b), deleted=len(a))
    a_tokens, b_tokens = tokenize(a), tokenize(b)
    prefix = _common_prefix(a_tokens, b_tokens)
    suffix = _common_suffix(a_tokens, b_tokens, prefix)
    a_mid = a_tokens[prefix : len(a_tokens) - suffix]
    b_mid = b_tokens[prefix : len(b_tokens) - suffix]
    head = "".join(a_tokens[:prefix])
    tail = "".join(a_tokens[len(a_tokens) - suffix :])
    if len(a_mid) + len(b_mid) > WORD_LIMIT:
        # Compare whole lines: widen the changed middle to the line boundaries around it.
        head = head[: head.rfind("\n") + 1]
        tail = tail[tail.find("\n") + 1 :] if "\n" in tail else ""
        middle = _diff_lines(a[len(head) : len(a) - len(tail)], b[len(head) : len(b) - len(tail)])
        coarse = True
    else:
        middle, coarse = _match(a_mid, b_mid), False
    pieces = [(EQUAL, head), *middle, (EQUAL, tail)]
    segments = _tidy(pieces)
    return TextDiff(
        segments=segments,
        changed=True,
        coarse=coarse,
        inserted=sum(len(s.text) for s in segments if s.op == INSERT),
        deleted=sum(len(s.text) for s in segments if s.op == DELETE),
    )
