"""Generic JSON diffs: a tree diff by path, and a unified diff of the pretty-printed documents.

``diff_json`` walks both trees with an explicit stack (no recursion, so hostile nesting depth cannot raise)
and compares lists by index: it serves tool schemas and unknown shapes, where positions are meaningful.
``unified_json_diff`` is the plain "unified JSON" view: ``json.dumps(indent=2, sort_keys=True)`` of both
sides through ``difflib.SequenceMatcher`` on lines, grouped into hunks like ``difflib.unified_diff`` but as
data (line numbers, and how many unchanged lines each fold hides).
"""

from __future__ import annotations

import json
import re
from difflib import SequenceMatcher
from typing import Any

from .model import ADDED, CHANGED, REMOVED, DiffLine, Hunk, JsonChange, UnifiedDiff

MAX_CHANGES = 5_000  # a tree diff longer than this is cut; the unified view still shows everything
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _child(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENTIFIER.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def diff_json(a: Any, b: Any, path: str = "") -> tuple[JsonChange, ...]:
    """Leaf changes between two JSON values, by path (``tools[0].function.name``; "" is the root).

    A key or index present on one side only is one added/removed change holding the whole subtree; values of
    different types (or unequal scalars) are one "changed". ``1`` and ``1.0``, ``True`` and ``1`` differ.
    """
    changes: list[JsonChange] = []
    stack: list[tuple[str, Any, Any]] = [(path, a, b)]
    # Comparing whole subtrees with == (C speed) skips equal parts; a tree too deep for it raises
    # RecursionError once, after which this walk compares leaves only.
    shortcut = True
    while stack and len(changes) < MAX_CHANGES:
        where, left, right = stack.pop()
        if type(left) is type(right) and shortcut:
            try:
                if left == right:
                    continue
            except RecursionError:
                shortcut = False
        elif type(left) is type(right) and not isinstance(left, (dict, list)) and left == right:
            continue
        if isinstance(left, dict) and isinstance(right, dict):
            pending = []
            for key in left:
                if key not in right:
                    changes.append(JsonChange(_child(where, str(key)), REMOVED, a=left[key]))
                else:
                    pending.append((_child(where, str(key)), left[key], right[key]))
            for key in right:
                if key not in left:
                    changes.append(JsonChange(_child(where, str(key)), ADDED, b=right[key]))
            stack.extend(reversed(pending))
        elif isinstance(left, list) and isinstance(right, list):
            common = min(len(left), len(right))
            for index in range(common, len(left)):
                changes.append(JsonChange(_child(where, index), REMOVED, a=left[index]))
            for index in range(common, len(right)):
                changes.append(JsonChange(_child(where, index), ADDED, b=right[index]))
            stack.extend((_child(where, i), left[i], right[i]) for i in reversed(range(common)))
        else:
            changes.append(JsonChange(where, CHANGED, a=left, b=right))
    changes.sort(key=lambda change: _sort_key(change.path))
    return tuple(changes)


_PATH_PART = re.compile(r"\[(\d+)\]|[^.\[\]]+|\[[^\]]*\]")


def _sort_key(path: str) -> list[tuple[int, Any]]:
    # Document order: list indexes numerically, keys as written.
    return [(0, int(m.group(1))) if m.group(1) else (1, m.group(0)) for m in _PATH_PART.finditer(path)]


def pretty(value: Any) -> str:
    """The text the unified view diffs; a document too deep for ``json.dumps`` gets a placeholder line."""
    if value is None:
        return ""
    try:
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    except (RecursionError, ValueError, TypeError):
        return "[document too deeply nested to show]"


def unified_json_diff(a: Any, b: Any, context: int = 3) -> UnifiedDiff:
    """A unified diff of the pretty-printed JSON of both sides (None = empty document), as hunks.

    Lines are compared as whole strings; ``SequenceMatcher`` runs on the lines between the common leading
    and trailing lines only, which keeps two large requests that share most of their text fast.
    """
    a_lines = pretty(a).splitlines()
    b_lines = pretty(b).splitlines()
    # Trim the shared head and tail before matching: the common case is a long shared history.
    head = 0
    limit = min(len(a_lines), len(b_lines))
    while head < limit and a_lines[head] == b_lines[head]:
        head += 1
    tail = 0
    while tail < limit - head and a_lines[-1 - tail] == b_lines[-1 - tail]:
        tail += 1
    # autojunk stays on here, as in difflib.unified_diff: in pretty-printed JSON the frequent lines
    # ("},", "{") are the junk, and matching them would make this view slower than the plain diff.
    matcher = SequenceMatcher(None, a_lines[head : len(a_lines) - tail], b_lines[head : len(b_lines) - tail])
    opcodes = [("equal", 0, head, 0, head)] if head else []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        opcodes.append((tag, i1 + head, i2 + head, j1 + head, j2 + head))
    if tail:
        opcodes.append(("equal", len(a_lines) - tail, len(a_lines), len(b_lines) - tail, len(b_lines)))
    hunks: list[Hunk] = []
    added = removed = 0
    shown_until = 0  # first A line not yet inside a hunk
    for group in _groups(opcodes, context):
        lines: list[DiffLine] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [DiffLine(" ", a_lines[i1 + k], i1 + k + 1, j1 + k + 1) for k in range(i2 - i1)]
                continue
            lines += [DiffLine("-", a_lines[i], i + 1, None) for i in range(i1, i2)]
            lines += [DiffLine("+", b_lines[j], None, j + 1) for j in range(j1, j2)]
            removed += i2 - i1
            added += j2 - j1
        first, last = group[0], group[-1]
        a_start, a_count = first[1], last[2] - first[1]
        b_start, b_count = first[3], last[4] - first[3]
        header = f"@@ -{a_start + 1},{a_count} +{b_start + 1},{b_count} @@"
        hunks.append(
            Hunk(header, a_start + 1, a_count, b_start + 1, b_count, a_start - shown_until, tuple(lines))
        )
        shown_until = last[2]
    return UnifiedDiff(
        hunks=tuple(hunks),
        skipped_after=len(a_lines) - shown_until if hunks else len(a_lines),
        a_lines=len(a_lines),
        b_lines=len(b_lines),
        added=added,
        removed=removed,
    )


def _groups(opcodes: list[tuple[str, int, int, int, int]], context: int):
    """``SequenceMatcher.get_grouped_opcodes`` for an opcode list we assembled ourselves."""
    if not opcodes or all(op[0] == "equal" for op in opcodes):
        return []
    codes = list(opcodes)
    tag, i1, i2, j1, j2 = codes[0]
    if tag == "equal":
        codes[0] = tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2
    tag, i1, i2, j1, j2 = codes[-1]
    if tag == "equal":
        codes[-1] = tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)
    groups, group = [], []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    # The first group may start with a bare equal context if it was split off above; drop empty ones.
    return [g for g in groups if any(op[0] != "equal" for op in g)]
