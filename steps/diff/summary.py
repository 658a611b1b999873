"""The one-line headline of a diff: "2 messages appended (tool call + tool return) · block `human` changed:
+ Likes tea." (a memory block's small value edit is quoted; a larger one just reads "block `human`
changed"). Block labels and tool names are set in backticks, for a renderer to show as code.

Items come in order of what a reviewer looks for first: the trace itself (missing, other format), the
messages, memory blocks and the rest of the system prompt, tools, parameters. ``memory_metadata`` changes
on nearly every step (its recompile time and message counts), so it is listed in ``items`` but kept out
of the headline unless it is the only change.
"""

from __future__ import annotations

from .model import (
    ADDED,
    CHANGED,
    DELETE,
    INSERT,
    REMOVED,
    UNCHANGED,
    JsonChange,
    MessageOp,
    MessagesDiff,
    SectionDiff,
    Summary,
    SystemDiff,
    ToolDiff,
    UnchangedRun,
    ValueChange,
)
from .shapes import dumps

_KIND_WORDS = {"tool_call": "tool call", "tool_return": "tool return", "reasoning": "reasoning"}
_SECTION_WORDS = {
    "base_instructions": "base instructions",
    "tool_rules": "tool rules",
    "memory_metadata": "memory metadata",
    "directories": "files",
}
PARAMS_SHOWN = 3
_QUIET = "memory metadata changed"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _describe(message) -> str:
    if message.is_summary:
        return "summary"
    if message.kind in _KIND_WORDS:
        return _KIND_WORDS[message.kind]
    if message.event:
        return message.event.replace("_", " ")  # as the step page labels it: "heartbeat", "system alert"
    return message.role


def _kinds(messages: list) -> str:
    words = [_describe(m) for m in messages]
    if len(words) <= 4:
        return " + ".join(words)
    counts: dict[str, int] = {}
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    return ", ".join(f"{n} {word}" for word, n in counts.items())


def _message_items(diff: MessagesDiff) -> list[str]:
    ops: list[MessageOp] = []
    for entry in diff.entries:
        ops.extend(entry.items if isinstance(entry, UnchangedRun) else [entry])
    items = []
    added = [op.b for op in ops if op.op == ADDED]
    removed = [op.a for op in ops if op.op == REMOVED]
    if added:
        last_kept = max((i for i, op in enumerate(ops) if op.op != ADDED), default=-1)
        first_added = min(i for i, op in enumerate(ops) if op.op == ADDED)
        verb = "appended" if first_added > last_kept else "added"
        items.append(f"{plural(len(added), 'message')} {verb} ({_kinds(added)})")
    if removed:
        first_kept = min((i for i, op in enumerate(ops) if op.op != REMOVED), default=len(ops))
        oldest = max(i for i, op in enumerate(ops) if op.op == REMOVED) < first_kept
        if any(m.is_summary for m in added):
            items.append(f"{plural(len(removed), 'message')} summarized away")
        elif oldest and len(removed) < len(ops):
            # Letta's sliding window: the oldest messages leave the context as new ones come in.
            items.append(f"{len(removed)} oldest {'message' if len(removed) == 1 else 'messages'} dropped")
        else:
            items.append(f"{plural(len(removed), 'message')} removed")
    if diff.changed:
        items.append(f"{plural(diff.changed, 'message')} changed")
    return items


GIST_CHARS = 60


def _name(name: str) -> str:
    """A block label or tool name quoted in backticks, as align_runs quotes tools ("called `web_search`")."""
    return "`" + name.replace("`", "'") + "`"


def _value_gist(section: SectionDiff) -> str:
    """ ": + likes tea" for a small edit of a memory block's value, so the headline says what changed."""
    value = next((f for f in section.fields if f.name == "value" and f.op == CHANGED), None)
    if value is None:
        return ""
    # Backticks quote names in these sentences; a quoted value must not open or close one.
    deleted = [
        s.text.strip().replace("`", "'") for s in value.text.segments if s.op == DELETE and s.text.strip()
    ]
    inserted = [
        s.text.strip().replace("`", "'") for s in value.text.segments if s.op == INSERT and s.text.strip()
    ]
    if len(deleted) + len(inserted) > 2 or sum(map(len, deleted + inserted)) > GIST_CHARS:
        return ""
    if deleted and inserted:
        return f": {deleted[0]} → {inserted[0]}"
    if inserted:
        return f": + {inserted[0]}"
    return f": − {deleted[0]}" if deleted else ""


def _system_items(system: SystemDiff) -> list[str]:
    items = []
    for section in system.sections:
        if section.op == UNCHANGED:
            continue
        if section.kind == "memory_block":
            items.append(f"block {_name(section.label)} {section.op}{_value_gist(section)}")
        elif section.kind in _SECTION_WORDS:
            items.append(f"{_SECTION_WORDS[section.kind]} {section.op}")
        elif section.kind == "tag":
            items.append(f"<{section.label}> {section.op}")
        else:
            items.append(f"system prompt text {section.op}")
    if system.op in (ADDED, REMOVED):
        items.insert(0, f"system prompt {system.op}")
    return list(dict.fromkeys(items))


def _tool_items(tools: tuple[ToolDiff, ...]) -> list[str]:
    items = []
    for op in (ADDED, REMOVED, CHANGED):
        names = [t.name for t in tools if t.op == op]
        if len(names) == 1:
            items.append(f"tool {_name(names[0])} {op}")
        elif names:
            items.append(f"{plural(len(names), 'tool')} {op}")
    return items


def _short(value) -> str:
    text = dumps(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _param_items(params: tuple[ValueChange, ...]) -> list[str]:
    changed = [p for p in params if p.op != UNCHANGED]
    items = []
    for param in changed[:PARAMS_SHOWN]:
        if param.op == ADDED:
            items.append(f"{param.name} set to {_short(param.b)}")
        elif param.op == REMOVED:
            items.append(f"{param.name} unset")
        else:
            items.append(f"{param.name} {_short(param.a)} → {_short(param.b)}")
    if len(changed) > PARAMS_SHOWN:
        items.append(f"{plural(len(changed) - PARAMS_SHOWN, 'more parameter')} changed")
    return items


def make_summary(items: list[str], nothing: str) -> Summary:
    loud = [item for item in items if item != _QUIET] or items
    headline = " · ".join(loud) if loud else nothing
    return Summary(headline=headline, items=tuple(items), identical=not items)


def request_summary(
    *,
    shapes: tuple[str, str],
    missing: str | None,
    messages: MessagesDiff,
    system: SystemDiff,
    tools: tuple[ToolDiff, ...],
    params: tuple[ValueChange, ...],
    json_changes: tuple[JsonChange, ...],
) -> Summary:
    items: list[str] = []
    if missing == "both":
        return Summary(
            headline="no trace on either side", items=("no trace on either side",), identical=False
        )
    if missing:
        items.append(f"no trace for {missing.upper()}")
    elif shapes[0] != shapes[1]:
        items.append(f"format {shapes[0]} → {shapes[1]}")
    if json_changes:
        items.append(f"{plural(len(json_changes), 'JSON change')}")
    if not missing:
        items += _message_items(messages)
        items += _system_items(system)
        items += _tool_items(tools)
        items += _param_items(params)
    return make_summary(items, "identical requests")
