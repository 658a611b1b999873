"""Letta's system prompt, split into its tagged sections.

Letta compiles the system message as top-level tagged sections (see tests/letta_samples/step_trace.json,
request messages[0])::

    <base_instructions> ... </base_instructions>
    <memory_blocks>
    The following memory blocks are currently engaged in your core memory unit:
    <human>
    <description> ... </description>
    <metadata> ... </metadata>
    <value> ... </value>
    </human>
    <persona> ... </persona>
    </memory_blocks>
    <tool_usage_rules> ... </tool_usage_rules>
    <directories> ... </directories>
    <memory_metadata> ... </memory_metadata>

Older (MemGPT) prompts have untagged base instructions, then ``<persona characters="..">`` and
``<human ..>`` blocks at top level; both are understood. Untagged text before the first tag counts as base
instructions. Anything we do not recognise (no tags, an unclosed tag) stays text, so any string parses, and
the sections always concatenate back to the exact input.
"""

from __future__ import annotations

import re

from .model import Section

_OPEN = re.compile(r"<([A-Za-z_][\w.-]*)((?:\s[^<>]*)?)>")
_FIELD = re.compile(r"<(description|metadata|value)>(.*?)</\1>", re.DOTALL)

_KINDS = {
    "base_instructions": "base_instructions",
    "memory_metadata": "memory_metadata",
    "tool_usage_rules": "tool_rules",
    "tool_rules": "tool_rules",
    "directories": "directories",
}
# A real prompt has a few dozen sections; past this many the rest of the text is one section, so a
# hostile prompt made of thousands of tags costs no more than a plain one.
MAX_SECTIONS = 300
# Top-level tags that are memory blocks in MemGPT-era prompts (they carry characters="n/limit" there).
_BLOCK_NAMES = {"human", "persona"}


def _strip_newlines(text: str) -> str:
    # Letta writes "<value>\n...\n</value>": the wrapping newlines are layout, not content.
    if text.startswith("\n"):
        text = text[1:]
    if text.endswith("\n"):
        text = text[:-1]
    return text


def _memory_block(label: str, raw: str, body: str) -> Section:
    fields: dict[str, str] = {}
    for match in _FIELD.finditer(body):
        fields.setdefault(match.group(1), _strip_newlines(match.group(2)))
    value = fields.get("value")
    if not fields:
        value = _strip_newlines(body)
    return Section(
        kind="memory_block",
        label=label,
        raw=raw,
        body=_strip_newlines(body),
        description=fields.get("description"),
        metadata=fields.get("metadata"),
        value=value,
    )


def _prose(text: str, kind: str, label: str) -> Section:
    if not text.strip():
        return Section(kind="glue", label="glue", raw=text, body=text)
    return Section(kind=kind, label=label, raw=text, body=text.strip())


def _scan(text: str, *, inside_blocks: bool) -> list[Section]:
    sections: list[Section] = []
    last = pos = 0
    while len(sections) < MAX_SECTIONS:
        match = _OPEN.search(text, pos)
        if match is None:
            break
        name = match.group(1)
        closer = f"</{name}>"
        close = text.find(closer, match.end())
        if close == -1:
            pos = match.end()
            continue
        if match.start() > last:
            prose = text[last : match.start()]
            first = not sections or all(s.kind == "glue" for s in sections)
            if inside_blocks:
                sections.append(_prose(prose, "text", "memory_blocks"))
            elif first:
                sections.append(_prose(prose, "base_instructions", "base_instructions"))
            else:
                sections.append(_prose(prose, "text", "text"))
        end = close + len(closer)
        raw, body = text[match.start() : end], text[match.end() : close]
        if inside_blocks or name in _BLOCK_NAMES or "characters=" in match.group(2):
            sections.append(_memory_block(name, raw, body))
        elif name == "memory_blocks" and not inside_blocks:
            sections.append(
                Section(kind="glue", label="glue", raw=text[match.start() : match.end()], body="")
            )
            sections.extend(_scan(body, inside_blocks=True))
            sections.append(Section(kind="glue", label="glue", raw=closer, body=""))
        else:
            kind = _KINDS.get(name, "tag")
            sections.append(Section(kind=kind, label=name, raw=raw, body=_strip_newlines(body)))
        last = pos = end
    if last < len(text):
        rest = text[last:]
        if inside_blocks:
            sections.append(_prose(rest, "text", "memory_blocks"))
        elif not sections:
            sections.append(_prose(rest, "base_instructions", "base_instructions"))
        else:
            sections.append(_prose(rest, "text", "text"))
    return sections


def parse_letta_system(text: str | None) -> list[Section]:
    """Sections of a Letta system prompt, in order; ``"".join(s.raw for s in result) == text`` always.

    Whitespace between sections and the ``<memory_blocks>`` wrapper tags come out as ``kind="glue"``
    sections (the diff skips them). A prompt without any recognisable tag is one section.
    """
    if not text:
        return []
    return _scan(text, inside_blocks=False)


def section_key(section: Section) -> tuple[str, str]:
    return (section.kind, section.label)
