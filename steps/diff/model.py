"""The result types of the diff engine: frozen, slotted dataclasses holding only JSON values.

Everything here is data, built by the functions re-exported from ``steps.diff``; templates and the REST API
read it and never recompute anything. Conventions shared by every type:

* ``op`` on a diff entry is one of ``"added"``, ``"removed"``, ``"changed"``, ``"unchanged"`` (side A is the
  earlier/left step, side B the later/right one; "added" means present only in B).
* ``op`` on a text ``Segment`` is one of ``"equal"``, ``"insert"``, ``"delete"`` (insert = only in B).
* Fields called ``a`` / ``b`` hold the value on each side, ``None`` when that side has none.
* ``to_dict(obj)`` turns any of these into plain dicts/lists (tuples become lists) for ``json.dumps``.

A diff never raises on odd input: unknown shapes, missing traces (``None``), hostile text and deep JSON all
produce a result. Model output is kept verbatim in these objects; escaping is the renderer's job.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# Provider shapes a request or response can be recognised as.
SHAPE_OPENAI_CHAT = "openai_chat"
SHAPE_ANTHROPIC = "anthropic"
SHAPE_GOOGLE = "google"
SHAPE_OPENAI_RESPONSES = "openai_responses"
SHAPE_UNKNOWN = "unknown"  # some JSON we do not understand: only the generic JSON diff applies
SHAPE_NONE = "none"  # no trace at all on this side

SHAPE_LABELS = {
    SHAPE_OPENAI_CHAT: "OpenAI chat",
    SHAPE_ANTHROPIC: "Anthropic messages",
    SHAPE_GOOGLE: "Google generateContent",
    SHAPE_OPENAI_RESPONSES: "OpenAI Responses",
    SHAPE_UNKNOWN: "unknown format",
    SHAPE_NONE: "no trace",
}

ADDED, REMOVED, CHANGED, UNCHANGED = "added", "removed", "changed", "unchanged"
EQUAL, INSERT, DELETE = "equal", "insert", "delete"


def to_dict(obj: Any, *, compact: bool = False) -> Any:
    """Plain JSON-ready data for any result object (nested dataclasses, tuples -> lists).

    ``raw`` (the request or response as given, often a megabyte) is left out: the client has it already.
    An ``UnchangedRun`` also gets its ``count``; with ``compact=True`` it is only ``{"op", "count",
    "a_indexes", "b_indexes"}`` (the provider positions of its messages), and the normalized requests and
    responses (``a``/``b``), parsed sections and whole-prompt diff are left out: what remains is what
    changed, small even for two long conversations that share most of their history. Only our own containers (dataclasses and
    tuples) are walked; lists and dicts are the JSON values that came in and are returned as they are, so a
    hostile, deeply nested request cannot exhaust the stack here.
    """
    if type(obj) is UnchangedRun:
        if compact:
            return {
                "op": obj.op,
                "count": obj.count,
                "a_indexes": [op.a.index for op in obj.items if op.a is not None],
                "b_indexes": [op.b.index for op in obj.items if op.b is not None],
            }
        return {"op": obj.op, "count": obj.count, "items": [to_dict(op) for op in obj.items]}
    names = _FIELDS.get((type(obj), compact))
    if names is None and dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        kept = [f for f in dataclasses.fields(obj) if f.metadata.get("serialize", True)]
        if compact:
            kept = [f for f in kept if f.metadata.get("compact", True)]
        names = _FIELDS[(type(obj), compact)] = tuple(f.name for f in kept)
    if names is not None:
        return {name: to_dict(getattr(obj, name), compact=compact) for name in names}
    if isinstance(obj, tuple):
        return [to_dict(item, compact=compact) for item in obj]
    return obj


_FIELDS: dict[tuple[type, bool], tuple[str, ...]] = {}  # serialized field names per (class, compact)
# Left out of compact JSON: the normalized requests/responses and parsed sections repeat what the diff
# entries and the client's own copy of the trace already hold.
_FULL_ONLY = {"compact": False}


# ---------------------------------------------------------------- text


@dataclass(frozen=True, slots=True)
class Segment:
    """One run of a word-level (or, for huge texts, line-level) diff: ``op`` is equal/insert/delete."""

    op: str
    text: str


@dataclass(frozen=True, slots=True)
class TextDiff:
    """Two texts compared. Side A = equal + delete segments joined, side B = equal + insert segments joined.

    ``coarse`` is True when the texts were too large for a word diff and were compared line by line.
    ``inserted`` / ``deleted`` count the characters only on one side (for "+12 chars" badges).
    """

    segments: tuple[Segment, ...]
    changed: bool
    coarse: bool = False
    inserted: int = 0
    deleted: int = 0

    @property
    def a(self) -> str:
        return "".join(s.text for s in self.segments if s.op != INSERT)

    @property
    def b(self) -> str:
        return "".join(s.text for s in self.segments if s.op != DELETE)


# ---------------------------------------------------------------- normalized requests and responses


@dataclass(frozen=True, slots=True)
class Part:
    """One content part of a message.

    ``kind``: "text", "tool_call", "tool_return", "reasoning" (thinking / reasoning summaries), "image",
    or "other" (any block we do not know, its JSON as ``text``). For a tool call ``text`` is the arguments as
    compact JSON text and ``args`` the parsed value; for a tool return ``text`` is the returned content and
    ``tool_name`` the name of the call it answers (found by call id when the provider does not repeat it).
    """

    kind: str
    text: str
    tool_name: str | None = None
    call_id: str | None = None
    args: Any = None


@dataclass(frozen=True, slots=True)
class Message:
    """One conversation message, whatever the provider called it.

    ``index`` is its position in the provider's list; ``role`` is user/assistant/tool/system (Google's
    "model" becomes "assistant", a Responses ``function_call_output`` item becomes "tool"). ``kind`` is
    the most telling part kind (tool_call > tool_return > text > reasoning > other). ``text`` is the parts
    rendered as one string (a tool call reads ``name({"arg": 1})``), the thing the word diff runs on.
    ``is_summary`` marks Letta's "prior messages have been hidden ... summary" message. ``event`` is the type
    of a user message Letta wrote itself ("heartbeat", "system_alert", ...; "" for anything else), read
    as the step page reads it (``steps.messages.system_event``).
    """

    index: int
    role: str
    kind: str
    parts: tuple[Part, ...]
    text: str
    is_summary: bool = False
    event: str = ""

    @property
    def tool_names(self) -> tuple[str, ...]:
        return tuple(p.tool_name for p in self.parts if p.kind == "tool_call" and p.tool_name)


@dataclass(frozen=True, slots=True)
class NormalizedRequest:
    """A provider request in provider-neutral words.

    ``system``: the system prompt text ("" when none; leading system/developer messages, Anthropic's
    ``system``, Google's ``systemInstruction``, Responses ``instructions``). ``messages``: the rest, in order.
    ``tools``: tool name -> the tool's definition as sent (description and JSON schema). ``params``: every
    other top-level setting under canonical names (``model``, ``temperature``, ``max_tokens`` for
    max_tokens / max_completion_tokens / max_output_tokens / maxOutputTokens, ``top_p``, ``tool_choice``,
    ``parallel_tool_calls``, ``reasoning_effort``, ``thinking_budget``, ``stream``, ...), unknown keys
    kept under their own name. ``raw`` is the request as given (for the unified JSON view).
    """

    shape: str
    system: str
    messages: tuple[Message, ...]
    tools: dict[str, Any]
    params: dict[str, Any]
    raw: Any = field(default=None, repr=False, metadata={"serialize": False})


@dataclass(frozen=True, slots=True)
class NormalizedResponse:
    """A provider response: final ``text``, ``reasoning`` text, ``tool_calls`` (Parts of kind tool_call),
    ``finish_reason`` as the provider wrote it (stop, tool_calls, end_turn, tool_use, STOP, ...), ``usage``
    with keys prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, reasoning_tokens,
    total_tokens (None when the provider did not say), ``error`` text for a failed call."""

    shape: str
    text: str
    reasoning: str
    tool_calls: tuple[Part, ...]
    finish_reason: str | None
    usage: dict[str, int | None]
    model: str | None = None
    error: str | None = None
    raw: Any = field(default=None, repr=False, metadata={"serialize": False})


# ---------------------------------------------------------------- Letta system prompt


@dataclass(frozen=True, slots=True)
class Section:
    """One piece of a Letta system prompt.

    ``kind``: "base_instructions", "memory_block", "tool_rules", "memory_metadata", "directories",
    "tag" (any other top-level ``<tag>``), "text" (untagged prose: base instructions before the first tag,
    or the "The following memory blocks..." header inside ``<memory_blocks>``) or "glue" (whitespace between
    sections; ignored by the diff). ``label`` identifies the section across two prompts: the block label
    ("human", "persona") for memory blocks, the tag name otherwise, "text" for prose.
    ``raw`` is the exact source span, so ``"".join(s.raw for s in sections) == prompt`` always holds.
    ``body`` is the content between the tags. Memory blocks also carry their ``description``, ``metadata``
    and ``value`` (None when the block has no such sub-tag; older MemGPT prompts have only a body).
    """

    kind: str
    label: str
    raw: str
    body: str
    description: str | None = None
    metadata: str | None = None
    value: str | None = None


@dataclass(frozen=True, slots=True)
class FieldDiff:
    """A memory block sub-field (description / metadata / value) or a section body compared."""

    name: str
    op: str
    text: TextDiff


@dataclass(frozen=True, slots=True)
class SectionDiff:
    """One system prompt section on both sides, matched by (kind, label).

    For memory blocks ``fields`` holds description/metadata/value diffs (only those present on a side);
    for other sections ``fields`` holds a single "body" diff. ``text`` is the whole raw section diffed.
    """

    op: str
    kind: str
    label: str
    a: Section | None = field(metadata=_FULL_ONLY)
    b: Section | None = field(metadata=_FULL_ONLY)
    fields: tuple[FieldDiff, ...]
    text: TextDiff


@dataclass(frozen=True, slots=True)
class SystemDiff:
    op: str
    sections: tuple[SectionDiff, ...]
    text: TextDiff = field(metadata=_FULL_ONLY)  # the whole prompt, for the side-by-side view


# ---------------------------------------------------------------- JSON


@dataclass(frozen=True, slots=True)
class JsonChange:
    """A leaf of a generic JSON tree diff. ``path`` reads like ``tools[2].function.parameters.type``
    ("" is the root); ``op`` is added/removed/changed; ``a``/``b`` are the values (None when absent)."""

    path: str
    op: str
    a: Any = None
    b: Any = None


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One line of a unified diff: ``op`` is " " (context), "+" or "-"; line numbers are 1-based, None on
    the side the line is not on."""

    op: str
    text: str
    a_line: int | None
    b_line: int | None


@dataclass(frozen=True, slots=True)
class Hunk:
    """A unified diff hunk (``header`` is the "@@ -a,n +b,m @@" line). ``skipped_before`` counts the
    unchanged lines between the previous hunk (or the start) and this one, for a "N unchanged lines" fold."""

    header: str
    a_start: int
    a_count: int
    b_start: int
    b_count: int
    skipped_before: int
    lines: tuple[DiffLine, ...]


@dataclass(frozen=True, slots=True)
class UnifiedDiff:
    hunks: tuple[Hunk, ...]
    skipped_after: int  # unchanged lines after the last hunk
    a_lines: int
    b_lines: int
    added: int
    removed: int

    @property
    def changed(self) -> bool:
        return bool(self.hunks)


# ---------------------------------------------------------------- request diff


@dataclass(frozen=True, slots=True)
class MessageOp:
    """One aligned message: ``op`` added/removed/changed/unchanged; ``text`` is the word diff of
    ``a.text`` vs ``b.text`` for changed messages (None otherwise)."""

    op: str
    a: Message | None
    b: Message | None
    text: TextDiff | None = None

    @property
    def message(self) -> Message:
        """The message to show when only one is needed (B's, else A's)."""
        return self.b if self.b is not None else self.a  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class UnchangedRun:
    """A run of consecutive unchanged messages, collapsed as "N unchanged messages"; ``items`` keeps them
    so a renderer can expand the run in place. ``op`` is always "unchanged"."""

    items: tuple[MessageOp, ...]
    op: str = UNCHANGED

    @property
    def count(self) -> int:
        return len(self.items)


@dataclass(frozen=True, slots=True)
class MessagesDiff:
    """``entries`` in display order: MessageOp for added/removed/changed messages, UnchangedRun for runs of
    unchanged ones. ``added``/``removed``/``changed``/``unchanged`` are counts of messages."""

    entries: tuple[MessageOp | UnchangedRun, ...]
    added: int
    removed: int
    changed: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class ToolDiff:
    """One tool by name: ``changes`` is the JSON tree diff of its definition (empty unless changed)."""

    op: str
    name: str
    a: Any
    b: Any
    changes: tuple[JsonChange, ...] = ()


@dataclass(frozen=True, slots=True)
class ValueChange:
    """A named scalar-ish setting on both sides (a request parameter, a stop reason, a step field)."""

    name: str
    op: str
    a: Any
    b: Any


@dataclass(frozen=True, slots=True)
class Summary:
    """The headline of a diff. ``headline`` is one sentence ("2 messages appended (tool call + tool
    return) · block human changed · 3 tools added"); ``items`` are its parts, in order; ``identical`` is True
    when nothing differs at all."""

    headline: str
    items: tuple[str, ...]
    identical: bool


@dataclass(frozen=True, slots=True)
class RequestDiff:
    """Two provider requests compared structurally.

    ``missing`` is "a", "b" or "both" when a side had no trace (that side then reads as empty: every
    message of the other side is added/removed). ``json`` holds the generic tree diff, filled when either
    side's shape is unknown (then messages/system/tools/params are empty) and otherwise empty; the unified
    view is computed separately by ``unified_json_diff``. ``params`` lists every parameter present on a
    side, ``op`` says whether it changed.
    """

    shape_a: str
    shape_b: str
    a: NormalizedRequest | None = field(metadata=_FULL_ONLY)
    b: NormalizedRequest | None = field(metadata=_FULL_ONLY)
    messages: MessagesDiff
    system: SystemDiff
    tools: tuple[ToolDiff, ...]
    params: tuple[ValueChange, ...]
    summary: Summary
    json: tuple[JsonChange, ...] = ()
    missing: str | None = None


# ---------------------------------------------------------------- response diff and numbers


@dataclass(frozen=True, slots=True)
class NumberRow:
    """One number on both sides: ``delta`` = b - a and ``percent`` = delta / a * 100 (None when a side is
    missing or a is 0)."""

    name: str
    a: float | int | None
    b: float | int | None
    delta: float | int | None
    percent: float | None


@dataclass(frozen=True, slots=True)
class ToolCallDiff:
    op: str
    name: str
    a: Part | None
    b: Part | None
    args: tuple[JsonChange, ...] = ()


@dataclass(frozen=True, slots=True)
class ResponseDiff:
    shape_a: str
    shape_b: str
    a: NormalizedResponse | None = field(metadata=_FULL_ONLY)
    b: NormalizedResponse | None = field(metadata=_FULL_ONLY)
    text: TextDiff
    reasoning: TextDiff
    tool_calls: tuple[ToolCallDiff, ...]
    finish_reason: ValueChange
    usage: tuple[NumberRow, ...]
    summary: Summary
    missing: str | None = None


# ---------------------------------------------------------------- context window breakdown


@dataclass(frozen=True, slots=True)
class BreakdownPart:
    """``kind``: "system" (base instructions and other prose), "memory_block" (``label`` = block label),
    "tool_rules", "files" (Letta's ``<directories>``), "memory_metadata", "tools" (tool schemas),
    "messages" (history), "summary" (Letta's summary message). ``tokens`` is an estimate (chars / 4, scaled to the real prompt_tokens when known).
    ``digest`` fingerprints the part's text, so a comparison can tell an unchanged part from one that
    changed at the same length."""

    kind: str
    label: str
    chars: int
    tokens: int
    digest: str = field(default="", repr=False, metadata={"serialize": False})


@dataclass(frozen=True, slots=True)
class Breakdown:
    parts: tuple[BreakdownPart, ...]
    chars: int
    tokens: int
    scaled: bool  # True when tokens were scaled to a real prompt_tokens figure


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    """``changed`` when the part's text differs (or it is on one side only); an unchanged part's delta is
    0 when B's breakdown was made with A's as its ``baseline``."""

    kind: str
    label: str
    a_tokens: int | None
    b_tokens: int | None
    delta: int
    a_chars: int | None = None
    b_chars: int | None = None
    changed: bool = False


@dataclass(frozen=True, slots=True)
class BreakdownDiff:
    rows: tuple[BreakdownRow, ...]
    total: NumberRow


# ---------------------------------------------------------------- runs


@dataclass(frozen=True, slots=True)
class StepSummary:
    """What run alignment needs to know of a step (``align_runs`` also accepts plain dicts with these keys).

    ``messages`` are the messages the step wrote, as chat messages (role/content dicts, the shape
    ``steps.pages.compare.messages_as_request`` gives Letta's); None when unknown, and then only the actions
    are compared."""

    id: str
    tools: tuple[str, ...] = ()
    stop_reason: str | None = None
    status: str | None = None
    model: str | None = None
    messages: Any = field(default=None, repr=False, metadata={"serialize": False})


@dataclass(frozen=True, slots=True)
class StepPair:
    """Two aligned steps (either may be None when one run has an extra step); ``same`` when they called
    the same tools, stopped the same way, ran on the same model and wrote the same messages (as the step
    diff aligns them); ``differs`` names what their messages differ in ("user input", "tool arguments",
    "tool results", "answers", ...); ``note`` describes the difference in words."""

    index: int
    a: StepSummary | None
    b: StepSummary | None
    same: bool
    note: str = ""
    differs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RunAlignment:
    """``pairs`` by position. ``tool_ops`` aligns the two runs' action sequences (each tool call, or
    "answer" / "failed" for a step that called none) as ValueChange rows: ``name`` the action ("a → b"
    when one replaced the other), ``op`` unchanged/changed/added/removed, ``a``/``b`` the step ids on each
    side. ``first_divergence`` is the index into ``pairs`` of the first pair that is not ``same`` (None
    when the runs agree) and ``divergence`` says it in words ("step 2: run B called `web_search` where A
    answered"). ``extent`` says how far the runs differ ("same tool sequence; 3 of 5 steps differ in tool
    arguments and answers"; "" when they agree)."""

    pairs: tuple[StepPair, ...]
    tool_ops: tuple[ValueChange, ...]
    first_divergence: int | None
    divergence: str
    same: bool = field(default=False)
    extent: str = ""
