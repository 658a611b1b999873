"""Word-level text diff on ``difflib.SequenceMatcher``.

Texts are cut into tokens (runs of word characters, runs of whitespace, runs of other characters) and the
token lists are matched with ``autojunk=False`` (autojunk would treat frequent tokens such as spaces as
junk and produce ragged diffs on long texts). Two cheap steps keep it fast on the texts we meet, where most
of a later prompt repeats the earlier one: the common prefix and suffix are cut off before matching, and a
middle larger than ``WORD_LIMIT`` tokens is compared line by line instead (``TextDiff.coarse``); a middle
with more than ``LINE_LIMIT`` lines is shown as one deletion plus one insertion.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from .model import DELETE, EQUAL, INSERT, Segment, TextDiff

WORD_LIMIT = 20_000  # tokens in the changed middle of both sides together
LINE_LIMIT = 20_000

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


def _match(a: list[str], b: list[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.append((EQUAL, "".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append((DELETE, "".join(a[i1:i2])))
        if j2 > j1:
            out.append((INSERT, "".join(b[j1:j2])))
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
