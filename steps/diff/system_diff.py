"""The system prompt compared section by section, memory blocks by label (Letta-aware).

Both prompts go through ``parse_letta_system``; sections are matched by (kind, label, occurrence) so a
block that moved is still compared with itself, then listed in B's order with A-only sections where they
stood in A. Memory blocks compare their description / metadata / value separately, so an edit reads
"block human, value: + likes tea" instead of a diff of the whole block markup. A prompt with no Letta tags
is a single "base_instructions" section, so any system prompt gets a useful word diff.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from .letta import parse_letta_system
from .model import ADDED, CHANGED, REMOVED, UNCHANGED, FieldDiff, Section, SectionDiff, SystemDiff
from .text import word_diff

_BLOCK_FIELDS = ("value", "description", "metadata")

Key = tuple[str, str, int]


def _keyed(sections: list[Section]) -> list[tuple[Key, Section]]:
    seen: dict[tuple[str, str], int] = {}
    out = []
    for section in sections:
        if section.kind == "glue":
            continue
        base = (section.kind, section.label)
        seen[base] = seen.get(base, 0) + 1
        out.append(((section.kind, section.label, seen[base]), section))
    return out


def _fields(a: Section | None, b: Section | None) -> tuple[FieldDiff, ...]:
    sample = a or b
    if sample is None:
        return ()
    if sample.kind != "memory_block":
        diff = word_diff(a.body if a else None, b.body if b else None)
        return (FieldDiff("body", _op(a is not None, b is not None, diff.changed), diff),)
    fields = []
    for name in _BLOCK_FIELDS:
        left = getattr(a, name) if a else None
        right = getattr(b, name) if b else None
        if left is None and right is None:
            continue
        diff = word_diff(left, right)
        fields.append(FieldDiff(name, _op(left is not None, right is not None, diff.changed), diff))
    return tuple(fields)


def _op(has_a: bool, has_b: bool, changed: bool) -> str:
    if not has_a:
        return ADDED
    if not has_b:
        return REMOVED
    return CHANGED if changed else UNCHANGED


def section_diff(a: Section | None, b: Section | None) -> SectionDiff:
    sample = b or a
    assert sample is not None
    text = word_diff(a.raw if a else None, b.raw if b else None)
    return SectionDiff(
        op=_op(a is not None, b is not None, text.changed),
        kind=sample.kind,
        label=sample.label,
        a=a,
        b=b,
        fields=_fields(a, b),
        text=text,
    )


def diff_system(a: str | None, b: str | None) -> SystemDiff:
    """Section diffs of two system prompts (None or "" = no system prompt on that side)."""
    a_keyed = _keyed(parse_letta_system(a or ""))
    b_keyed = _keyed(parse_letta_system(b or ""))
    a_by_key = dict(a_keyed)
    b_keys = {key for key, _ in b_keyed}
    a_keys = [key for key, _ in a_keyed]
    matcher = SequenceMatcher(None, a_keys, [key for key, _ in b_keyed], autojunk=False)
    sections: list[SectionDiff] = []
    for _tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for key, section in a_keyed[i1:i2]:
            if key not in b_keys:
                sections.append(section_diff(section, None))
        for key, section in b_keyed[j1:j2]:
            sections.append(section_diff(a_by_key.get(key), section))
    whole = word_diff(a, b)
    has_a, has_b = bool(a), bool(b)
    op = UNCHANGED if not has_a and not has_b else _op(has_a, has_b, whole.changed)
    return SystemDiff(op=op, sections=tuple(sections), text=whole)
