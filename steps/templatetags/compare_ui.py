"""Rendering helpers for the compare pages.

Word diffs are built in Python rather than with a template loop per segment: a changed 100 KB message has
thousands of segments, and a loop of template nodes is an order of magnitude slower. Every piece of text is
escaped here before it is wrapped, so model output never reaches the page as markup.
"""

from __future__ import annotations

import json

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from steps.diff import DELETE, EQUAL, INSERT
from steps.pages.compare import signed

from .steps_ui import ns_duration, svg_bar

register = template.Library()

# Tags per segment op; A's side shows deletions, B's side insertions, "both" shows each inline.
_WRAP = {INSERT: ('<ins class="d-ins">', "</ins>"), DELETE: ('<del class="d-del">', "</del>")}
_SHOWN = {"a": (EQUAL, DELETE), "b": (EQUAL, INSERT), "both": (EQUAL, INSERT, DELETE)}


@register.filter
def segments(text_diff, side: str = "both") -> SafeString:
    """A TextDiff as escaped HTML with <ins>/<del> around what changed."""
    if text_diff is None:
        return mark_safe("")
    shown = _SHOWN.get(side, _SHOWN["both"])
    out = []
    for segment in text_diff.segments:
        if segment.op not in shown:
            continue
        text = escape(segment.text)
        if segment.op == EQUAL:
            out.append(text)
        else:
            start, end = _WRAP[segment.op]
            out.append(f"{start}{text}{end}")
    return mark_safe("".join(out))


register.filter("signed", signed)


@register.filter
def signed_ns(value) -> str:
    if value is None or value == "":
        return "—"
    if value == 0:
        return "0"
    return ("+" if value > 0 else "−") + ns_duration(abs(value))


@register.filter
def delta_class(value) -> str:
    """More tokens or time reads as a cost (red-ish), less as a gain."""
    if not value:
        return "delta-zero"
    return "delta-up" if value > 0 else "delta-down"


@register.filter
def as_json(value) -> str:
    """Compact JSON of a value for a diff cell; strings shown as they are."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@register.filter
def pretty(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


@register.filter
def is_run(entry) -> bool:
    """Whether a messages-diff entry is a collapsed run of unchanged messages."""
    return hasattr(entry, "items") and not hasattr(entry, "a")


@register.filter
def part_label(kind: str) -> str:
    return {
        "system": "system instructions",
        "memory_block": "block",
        "tool_rules": "tool rules",
        "memory_metadata": "memory metadata",
        "tools": "tool schemas",
        "messages": "history",
        "summary": "summary",
        "files": "open files",
    }.get(kind, kind)


@register.simple_tag
def context_bar(bk) -> str:
    """A Breakdown as one stacked bar, each part's size on hover (SVG: no inline styles under the CSP)."""
    segments = []
    for p in bk.parts:
        if p.chars:
            name = part_label(p.kind) + (f" {p.label}" if p.kind == "memory_block" else "")
            segments.append((p.chars, f"ctx-{p.kind}", f"{name}: {p.chars:,} chars · ~{p.tokens:,} tokens"))
    return svg_bar(bk.chars, segments)


@register.filter
def ticks(text) -> SafeString:
    """Escaped text with `backticked` names set as code, as the engine's sentences quote tool and block names."""
    pieces = escape(str(text or "")).split("`")
    if len(pieces) % 2 == 0:  # an unpaired backtick: keep it as typed
        return mark_safe("`".join(pieces))
    return mark_safe("".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(pieces)))


SECTION_KINDS = {
    "base_instructions": "instructions",
    "memory_block": "block",
    "memory_metadata": "metadata",
    "tool_rules": "tool rules",
    "directories": "directories",
    "tag": "section",
    "text": "text",
}


@register.filter
def section_kind(kind: str) -> str:
    return SECTION_KINDS.get(kind, str(kind).replace("_", " "))


@register.filter
def count_changed(rows) -> int:
    """How many diff rows (tools, parameters) are not unchanged."""
    return sum(1 for row in rows or () if getattr(row, "op", "unchanged") != "unchanged")
