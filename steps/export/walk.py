"""Reading a filtered step set for an export: a keyset walk in chunks, the related rows per chunk.

Why this shape: an export may cover a million steps and must stream with flat memory.

* **Keyset, not OFFSET**: each chunk is ``WHERE (sort column, id) < (last row's)`` ORDER BY ... LIMIT n,
  the same row comparison (``StepQuerySet.ordered`` / ``after_key``) and index the list page pages
  with, so chunk 2,000 costs what chunk 1 does; OFFSET would re-read every row before it.
* **Short queries, no server-side cursor**: a named cursor (``.iterator()`` on PostgreSQL) needs a
  transaction open for the whole download, minutes at a million rows, holding back vacuum and a
  pooled connection (DB_CONN_MAX_AGE) in "idle in transaction". Here every query is its own
  autocommit statement of a few milliseconds; between chunks nothing is held. The walk sees rows
  committed while it runs (a step synced mid-export past the cursor is included, one before it not):
  the same guarantee as paging the list.
* **Bounded queries per chunk, never per row**: the chunk's steps (with metrics and note joined
  one-to-one), then one query each for agent names, local votes, and message texts or payloads (and
  traces when asked), all by ``step_id IN (chunk)``.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..models import Agent, Message, ProviderTrace, StepVote
from ..querysets import SORTS, StepQuerySet
from .records import MessageText, StepRecord

STEP_COLUMNS = (
    "id",
    "step_time",
    "step_time_source",
    "run_id",
    "run_position",
    "agent_id",
    "model",
    "provider_name",
    "status",
    "stop_reason",
    "error_type",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_input_tokens",
    "duration_ns",
    "feedback",
    "tags",
)
METRIC_COLUMNS = ("step_start_ns", "llm_request_start_ns", "llm_request_ns", "tool_execution_ns", "step_ns")
# what a CSV row reads of the messages: the list preview's item kinds, full text
TEXT_KINDS = ("user_message", "assistant_message", "reasoning_message", "tool_call_message")


def keyset_chunks(qs: StepQuerySet, sort: str, size: int) -> Iterator[list[dict]]:
    """The rows of `qs` in `sort` order (as the list shows them), `size` at a time, as dicts."""
    column = SORTS[sort][0]
    ordered = qs.ordered(sort)
    fields = (*STEP_COLUMNS, "metrics__pk", *(f"metrics__{c}" for c in METRIC_COLUMNS), "review__notes")
    key = None
    while True:
        page = ordered.after_key(sort, *key) if key else ordered
        rows = list(page.values(*fields)[:size])
        if rows:
            yield rows
        if len(rows) < size:
            return
        key = (rows[-1][column], rows[-1]["id"])


def records(
    rows: list[dict],
    *,
    texts: bool = False,
    messages: bool = False,
    traces: bool = False,
    people: bool = True,
) -> list[StepRecord]:
    """StepRecords of one chunk; what each format needs, fetched in one query a kind (`people`:
    agent names and the team's votes, which a fine-tuning example does not carry)."""
    ids = [r["id"] for r in rows]
    agents: dict[str, str] = {}
    votes: dict[str, tuple] = {}
    if people:
        named = {r["agent_id"] for r in rows if r["agent_id"]}
        agents = dict(Agent.objects.filter(id__in=named).values_list("id", "name"))
        voted = StepVote.objects.filter(step_id__in=ids).values_list("step_id", "feedback", "tags")
        votes = {step_id: (feedback, tags) for step_id, feedback, tags in voted}
    found = {r["id"]: _record(r, agents, votes) for r in rows}
    if texts:
        items = (
            Message.objects.filter(step_id__in=ids, message_type__in=TEXT_KINDS)
            .order_by("step_id", "position")
            .values_list("step_id", "message_type", "text", "tool_name")
        )
        for step_id, kind, text, tool in items:
            found[step_id].texts.append(MessageText(kind, text, tool))
    if messages:
        payloads = (
            Message.objects.filter(step_id__in=ids)
            .order_by("step_id", "position")
            .values_list("step_id", "payload")
        )
        for step_id, payload in payloads:
            found[step_id].messages.append(payload)
    if traces:
        for step_id, trace in _traces(ids):
            found[step_id].traces.append(trace)
    return [found[i] for i in ids]


def _traces(ids: list[str]) -> Iterator[tuple[str, dict]]:
    rows = (
        ProviderTrace.objects.filter(step_id__in=ids)
        .order_by("step_id", "created_at", "pk")
        .values_list(
            "step_id", "upstream_id", "call_type", "source", "created_at", "request_json", "response_json"
        )
    )
    for step_id, upstream_id, call_type, source, created_at, request, response in rows:
        yield (
            step_id,
            {
                "id": upstream_id,
                "call_type": call_type,
                "source": source,
                "created_at": created_at.isoformat().replace("+00:00", "Z") if created_at else None,
                "request_json": request,
                "response_json": response,
            },
        )


def _record(row: dict, agents: dict[str, str], votes: dict[str, tuple]) -> StepRecord:
    # the team's vote when someone voted here, else Letta's (VoteState's rule, without its objects)
    feedback, tags = votes.get(row["id"], (row["feedback"], None))
    if tags is None:  # tags never edited here: Letta's
        tags = row["tags"]
    metrics = {c: row[f"metrics__{c}"] for c in METRIC_COLUMNS} if row["metrics__pk"] else None
    return StepRecord(
        id=row["id"],
        step_time=row["step_time"],
        step_time_source=row["step_time_source"],
        run_id=row["run_id"],
        run_position=row["run_position"],
        agent_id=row["agent_id"],
        agent_name=agents.get(row["agent_id"], ""),
        model=row["model"],
        provider=row["provider_name"],
        status=row["status"],
        stop_reason=row["stop_reason"],
        error_type=row["error_type"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        total_tokens=row["total_tokens"],
        cached_input_tokens=row["cached_input_tokens"],
        duration_ns=row["duration_ns"],
        feedback=feedback or "",
        tags=[str(t) for t in tags or []],
        note=row["review__notes"] or "",
        metrics=metrics,
    )
