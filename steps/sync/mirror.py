"""Write upstream payloads into the mirror: idempotent upserts, no HTTP.

Every function takes payloads Letta returned and makes the database say the same thing;
calling it twice with the same payloads changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .. import facets
from ..ids import is_letta_id
from ..messages import natural_order
from ..models import Agent, Message, ProviderTrace, Run, Step, StepMetrics, StepTool, mark_dirty
from . import bulk
from .conflicts import note_upstream_changes

# What an upsert of a listed step may write. Claims and detail bookkeeping belong to the
# refresh that holds the claim, so a concurrent upsert must not write back stale values.
STEP_COLUMNS = [*Step.synced_fields(), "step_time", "step_time_source", "refresh_due_at", "refresh_attempts"]
DETAIL_STEP_FIELDS = ["step_time", "step_time_source", "duration_ns", "details_synced_at"]
METRICS_COLUMNS = StepMetrics.synced_fields()
TRACE_COLUMNS = ProviderTrace.synced_fields()
MESSAGE_COLUMNS = [
    f.name
    for f in Message._meta.concrete_fields
    if f.name not in ("id", "step", "message_id", "item_key", "first_seen_at")
]


@dataclass
class UpsertResult:
    created: list[str]
    updated: list[str]
    # ids that are no Letta id of the kind, left out (shortened for a note)
    rejected: list[str] = field(default_factory=list)


def _well_formed(payloads: list[dict], prefix: str) -> tuple[list[dict], list[str]]:
    """Payloads deduplicated by id, and the ids that do not look like `<prefix>-<uuid>`.

    Upstream data is input like any other: a row with such an id could never be linked to
    (the URL converters of steps/ids.py refuse it, so a page listing it would fail to
    render) nor asked for again by id, so it is not stored; the caller says so on its SyncRun.
    """
    kept, rejected = {}, []
    for payload in payloads:
        if is_letta_id(prefix, payload.get("id")):
            kept[payload["id"]] = payload
        else:
            rejected.append(repr(payload.get("id"))[:80])
    return list(kept.values()), rejected


def upsert_runs(payloads: list[dict], now: datetime | None = None) -> UpsertResult:
    now = now or timezone.now()
    payloads, rejected = _well_formed(payloads, "run")
    existing = Run.objects.in_bulk([p["id"] for p in payloads])
    created, updated, unchanged = [], [], []
    for payload in payloads:
        run = existing.get(payload["id"])
        if run is None:
            run = Run(id=payload["id"], first_seen_at=now)
            run.apply_payload(payload)
            created.append(run)
        elif run.apply_payload(payload):
            updated.append(run)
        else:
            unchanged.append(run.id)
        run.last_synced_at = now
    with transaction.atomic():
        bulk.insert(Run, created)
        bulk.update_each(Run, updated, Run.synced_fields())
        Run.objects.filter(id__in=unchanged).update(last_synced_at=now)
        _date_steps_by_runs({r.id: r.created_at for r in created + updated if r.created_at})
    return UpsertResult([r.id for r in created], [r.id for r in updated], rejected)


def _date_steps_by_runs(created_at: dict[str, datetime]) -> None:
    """A run's created_at beats a message date or first-seen time as a step's time.
    Only steps that arrived before their run: a handful, so the arithmetic stays in Python."""
    if not created_at:
        return
    steps = list(
        Step.objects.filter(
            run_id__in=list(created_at),
            step_time_source__in=[Step.TimeSource.MESSAGE, Step.TimeSource.FIRST_SEEN],
        ).only("id", "run_id", "run_position")
    )
    moved_from = [step.step_time for step in steps]
    for step in steps:
        step.step_time = created_at[step.run_id] + step.sequence_offset()
        step.step_time_source = Step.TimeSource.RUN
    Step.objects.bulk_update(steps, ["step_time", "step_time_source"])
    StepTool.objects.follow_step_times(s.id for s in steps)
    mark_dirty([*moved_from, *(s.step_time for s in steps)])  # the rollups of both hours


def upsert_steps(
    payloads: list[dict],
    now: datetime | None = None,
    *,
    in_order: bool = False,
    positions: dict[str, int] | None = None,
) -> UpsertResult:
    """Mirror a page of steps. New steps and steps whose status changed are scheduled for a
    refresh (details, or another look while pending).

    Run positions: `positions` (from a run's own step list) are authoritative; with `in_order`
    (a page of Letta's ascending list) a new step comes after every known step of its run."""
    now = now or timezone.now()
    payloads, rejected = _well_formed(payloads, "step")
    existing = Step.objects.in_bulk([p["id"] for p in payloads])
    runs = Run.objects.in_bulk([p["run_id"] for p in payloads if is_letta_id("run", p.get("run_id"))])
    positions = dict(positions or {})
    if in_order:
        positions.update(_next_positions([p for p in payloads if p["id"] not in existing]))
    created, updated, unchanged, votes_changed, moved = [], [], [], [], []
    # the hours whose rollups change: where a changed step was and where it is now
    times_before = {s.id: s.step_time for s in existing.values()}
    for payload in payloads:
        step = existing.get(payload["id"])
        if step is None:
            step = Step(id=payload["id"], first_seen_at=now, refresh_due_at=now)
            step.run_position = positions.get(step.id)
            step.apply_payload(payload)
            step.derive_time(metrics=None, run=runs.get(step.run_id), first_message_date=None)
            created.append(step)
        else:
            if step.id in positions and positions[step.id] != step.run_position:
                step.place_in_run(positions[step.id])
                moved.append(step)
            status_before, vote_before = step.status, (step.feedback, step.tags)
            if not step.apply_payload(payload):
                unchanged.append(step.id)
                continue
            if step.status != status_before:
                step.refresh_due_at, step.refresh_attempts = now, 0
            if (step.feedback, step.tags) != vote_before:
                votes_changed.append(step.id)
            if step.step_time_source == Step.TimeSource.FIRST_SEEN and step.run_id in runs:
                step.derive_time(metrics=None, run=runs[step.run_id], first_message_date=None)
            updated.append(step)
        step.last_synced_at = now
    created_ids = [s.id for s in created]
    written = list(dict.fromkeys([*created_ids, *(s.id for s in updated), *(s.id for s in moved)]))
    # the page's facet counts and rollups change in the same transaction as its steps
    with transaction.atomic(), facets.tracking(written):
        bulk.insert(Step, created)
        bulk.update_each(Step, updated, STEP_COLUMNS)
        Step.objects.filter(id__in=unchanged).update(last_synced_at=now)
        bulk.update_each(Step, moved, ["run_position", "step_time"])
        changed = created + updated + moved
        StepTool.objects.follow_step_times(s.id for s in changed if s.step_time != times_before.get(s.id))
        mark_dirty([times_before.get(s.id) for s in changed] + [s.step_time for s in changed])
    if votes_changed:
        note_upstream_changes(votes_changed)  # someone else voted in Letta: flag conflicts
    return UpsertResult(created_ids, [s.id for s in updated], rejected)


def _next_positions(new_payloads: list[dict]) -> dict[str, int]:
    """Positions for new steps of an ascending page: after the last known step of their run.
    Within a run steps are strictly sequential (one agent loop), so a step listed later in
    Letta's (created_at, id) order is the later step."""
    run_ids = {p["run_id"] for p in new_payloads if is_letta_id("run", p.get("run_id"))}
    if not run_ids:
        return {}
    last = dict(
        Step.objects.filter(run_id__in=run_ids)
        .values("run_id")
        .annotate(m=Max("run_position"))
        .values_list("run_id", "m")
    )
    positions = {}
    for payload in new_payloads:
        if is_letta_id("run", run_id := payload.get("run_id")):
            last[run_id] = 0 if last.get(run_id) is None else last[run_id] + 1
            positions[payload["id"]] = last[run_id]
    return positions


def upsert_agents(payloads: list[dict], now: datetime | None = None) -> UpsertResult:
    now = now or timezone.now()
    payloads, rejected = _well_formed(payloads, "agent")
    existing = Agent.objects.in_bulk([p["id"] for p in payloads])
    created, updated = [], []
    for payload in payloads:
        agent = existing.get(payload["id"]) or Agent(id=payload["id"], first_seen_at=now)
        changed = agent.apply_payload(payload) or agent.missing_upstream
        agent.last_synced_at, agent.missing_upstream = now, False
        if agent.id not in existing:
            created.append(agent)
        elif changed:
            updated.append(agent)
    with transaction.atomic():
        Agent.objects.bulk_create(created)
        if updated:
            Agent.objects.bulk_update(updated, [*Agent.synced_fields(), "missing_upstream"])
        Agent.objects.filter(id__in=[p["id"] for p in payloads]).exclude(
            id__in=[a.id for a in created + updated]
        ).update(last_synced_at=now)
    return UpsertResult([a.id for a in created], [a.id for a in updated], rejected)


def note_missing_agents(agent_ids: list[str], now: datetime | None = None) -> None:
    """Ids Letta answers 404 for: kept nameless, so they are not asked for on every run."""
    now = now or timezone.now()
    known = set(Agent.objects.filter(id__in=agent_ids).values_list("id", flat=True))
    Agent.objects.bulk_create(
        [
            Agent(id=i, first_seen_at=now, last_synced_at=now, missing_upstream=True)
            for i in agent_ids
            if i not in known
        ]
    )
    Agent.objects.filter(id__in=known).update(missing_upstream=True, last_synced_at=now)


def trace_key(payload: dict) -> str:
    if isinstance(payload.get("id"), str) and payload["id"]:
        return payload["id"][:128]
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return "sha256:" + hashlib.sha256(blob).hexdigest()


@dataclass
class StepDetails:
    """What Letta said about one terminal step beyond its own row."""

    step: Step
    metrics: dict | None
    messages: list[dict]
    trace: dict | None
    run: Run | None = None  # the step's run, for its time (None: no run, or not mirrored)


def store_details(batch: list[StepDetails], now: datetime | None = None) -> None:
    """Replace the steps' messages, tools (StepTool) and metrics and add their traces: a handful of statements
    for the whole batch (not per step), in one transaction, so a failure half-way through never
    leaves part of a step behind. Each step's derived time and duration are set on the Step
    object; the caller writes them with its own bookkeeping (one UPDATE for the batch)."""
    now = now or timezone.now()
    messages: list[Message] = []
    kept: set[tuple[str, str, str]] = set()  # (step, message_id, item_key) still upstream
    metrics_rows: list[StepMetrics] = []
    trace_rows: list[ProviderTrace] = []
    hours = []  # each step's time before and after: durations, LLM time and tools of both hours
    for item in batch:
        step = item.step
        rows: dict[tuple[str, str], Message] = {}
        for position, payload in enumerate(natural_order(item.messages)):
            # step_id, not step=: a relation cached on each row would keep the Step alive with it
            message = Message(step_id=step.pk, position=position, first_seen_at=now, last_synced_at=now)
            message.apply_payload(payload)
            rows[(message.message_id, message.item_key)] = message
        messages.extend(rows.values())
        kept.update((step.pk, message_id, item_key) for message_id, item_key in rows)
        first_message_date = min((m.date for m in rows.values() if m.date), default=None)

        step_metrics = None
        if item.metrics is not None:
            # step_id, not step=: a one-to-one would cache each side on the other, a reference
            # cycle that keeps every refreshed step in memory until a full garbage collection
            step_metrics = StepMetrics(step_id=step.pk, first_seen_at=now, last_synced_at=now)
            step_metrics.apply_payload(item.metrics)
            metrics_rows.append(step_metrics)
        if item.trace is not None:
            trace = ProviderTrace(
                step_id=step.pk, upstream_id=trace_key(item.trace), first_seen_at=now, last_synced_at=now
            )
            trace.apply_payload(item.trace)
            trace_rows.append(trace)

        hours.append(step.step_time)
        step.derive_time(metrics=step_metrics, run=item.run, first_message_date=first_message_date)
        step.duration_ns = step_metrics.step_ns if step_metrics else None
        step.details_synced_at = now
        hours.append(step.step_time)

    step_ids = [item.step.pk for item in batch]
    # each step's tools at its time as derived here (the caller writes that time to the step)
    tools = StepTool.rows_for(messages, {item.step.pk: item.step.step_time for item in batch})
    with transaction.atomic():
        stored = Message.objects.filter(step_id__in=step_ids)
        gone = [
            pk
            for pk, *key in stored.values_list("pk", "step_id", "message_id", "item_key")
            if tuple(key) not in kept
        ]
        if gone:
            Message.objects.filter(pk__in=gone).delete()  # soft-deleted upstream
        bulk.upsert(
            Message, messages, unique_fields=["step", "message_id", "item_key"], update_fields=MESSAGE_COLUMNS
        )
        StepTool.objects.filter(step_id__in=step_ids).delete()
        bulk.insert(StepTool, tools)
        bulk.upsert(StepMetrics, metrics_rows, unique_fields=["step"], update_fields=METRICS_COLUMNS)
        bulk.upsert(
            ProviderTrace, trace_rows, unique_fields=["step", "upstream_id"], update_fields=TRACE_COLUMNS
        )
        mark_dirty(hours)


def store_step_details(
    step: Step,
    *,
    metrics: dict | None,
    messages: list[dict],
    trace: dict | None,
    run: Run | None = None,
    now: datetime | None = None,
    save_step: bool = True,
) -> None:
    """store_details for one step; with save_step its derived time and duration are saved too."""
    if run is None and step.run_id:
        run = Run.objects.filter(pk=step.run_id).first()
    with transaction.atomic():
        store_details([StepDetails(step, metrics, messages, trace, run)], now)
        if save_step:
            step.save(update_fields=DETAIL_STEP_FIELDS)
