"""What an export knows about one step: plain data, filled per chunk by ``walk`` and turned into
CSV rows, JSONL objects or fine-tuning examples by the pure builders (no Django import here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class MessageText:
    """The light form of a message item (its searchable text), all a CSV row reads."""

    kind: str  # Letta's message_type
    text: str
    tool: str = ""


@dataclass(slots=True)
class StepRecord:
    id: str
    step_time: datetime | None = None
    step_time_source: str = ""
    run_id: str | None = None
    run_position: int | None = None
    agent_id: str = ""
    agent_name: str = ""
    model: str = ""
    provider: str = ""
    status: str = ""
    stop_reason: str = ""
    error_type: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    cached_input_tokens: int | None = None
    duration_ns: int | None = None
    # the team's vote and tags when someone voted here, else what Letta holds (as the pages show)
    feedback: str = ""
    tags: list[str] = field(default_factory=list)
    note: str = ""
    # StepMetrics' typed columns (nanoseconds), None when Letta has no metrics for the step
    metrics: dict[str, int | None] | None = None
    # CSV: the texts of user, assistant, reasoning and tool call items, in timeline order
    texts: list[MessageText] = field(default_factory=list)
    # JSONL: every item as Letta returned it, in timeline order
    messages: list[dict[str, Any]] = field(default_factory=list)
    # JSONL with traces and fine-tuning: each trace's call_type, source, created_at, request, response
    traces: list[dict[str, Any]] = field(default_factory=list)
