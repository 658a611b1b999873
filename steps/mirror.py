"""Write upstream payloads into the mirror: idempotent upserts, no HTTP.

Every function takes payloads Letta returned and makes the database say the same thing;
calling it twice with the same payloads changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from .messages import natural_order
from .models import Message, ProviderTrace, Run, Step, StepMetrics

# What an upsert of a listed step may write. Claims and detail bookkeeping belong to the
# refresh that holds the claim, so a concurrent upsert must not write back stale values.
STEP_COLUMNS = [
    "payload",
    "last_synced_at",
    "step_time",
    "step_time_source",
    "refresh_due_at",
    "refresh_attempts",
    *Step.columns_from_payload({}).keys(),
]
MESSAGE_COLUMNS = [
    f.name
    for f in Message._meta.concrete_fields
    if f.name not in ("id", "step", "message_id", "item_key", "first_seen_at")
]


@dataclass
class UpsertResult:
    created: list[str]
    updated: list[str]


def upsert_runs(payloads: list[dict], now: datetime | None = None) -> UpsertResult:
    now = now or timezone.now()
    payloads = list({p["id"]: p for p in payloads}.values())
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
        Run.objects.bulk_create(created)
        if updated:
            fields = ["payload", "last_synced_at", *Run.columns_from_payload({}).keys()]
            Run.objects.bulk_update(updated, fields)
        Run.objects.filter(id__in=unchanged).update(last_synced_at=now)
        _date_steps_by_runs([r.id for r in created + updated if r.created_at])
    return UpsertResult([r.id for r in created], [r.id for r in updated])


def _date_steps_by_runs(run_ids: list[str]) -> None:
    """A run's created_at beats a message date or first-seen time as a step's time."""
    if not run_ids:
        return
    Step.objects.filter(
        run_id__in=run_ids,
        step_time_source__in=[Step.TimeSource.MESSAGE, Step.TimeSource.FIRST_SEEN],
    ).update(
        step_time=Subquery(Run.objects.filter(pk=OuterRef("run_id")).values("created_at")[:1]),
        step_time_source=Step.TimeSource.RUN,
    )


def upsert_steps(payloads: list[dict], now: datetime | None = None) -> UpsertResult:
    """Mirror a page of steps. New steps and steps whose status changed are scheduled for a
    refresh (details, or another look while pending)."""
    now = now or timezone.now()
    payloads = list({p["id"]: p for p in payloads}.values())
    existing = Step.objects.in_bulk([p["id"] for p in payloads])
    runs = Run.objects.in_bulk([p["run_id"] for p in payloads if p.get("run_id")])
    created, updated, unchanged = [], [], []
    for payload in payloads:
        step = existing.get(payload["id"])
        if step is None:
            step = Step(id=payload["id"], first_seen_at=now, refresh_due_at=now)
            step.apply_payload(payload)
            step.derive_time(metrics=None, run=runs.get(step.run_id), first_message_date=None)
            created.append(step)
        else:
            status_before = step.status
            if not step.apply_payload(payload):
                unchanged.append(step.id)
                continue
            if step.status != status_before:
                step.refresh_due_at, step.refresh_attempts = now, 0
            if step.step_time_source == Step.TimeSource.FIRST_SEEN and step.run_id in runs:
                step.derive_time(metrics=None, run=runs[step.run_id], first_message_date=None)
            updated.append(step)
        step.last_synced_at = now
    with transaction.atomic():
        Step.objects.bulk_create(created)
        if updated:
            Step.objects.bulk_update(updated, STEP_COLUMNS)
        Step.objects.filter(id__in=unchanged).update(last_synced_at=now)
    return UpsertResult([s.id for s in created], [s.id for s in updated])


def trace_key(payload: dict) -> str:
    if isinstance(payload.get("id"), str) and payload["id"]:
        return payload["id"][:128]
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return "sha256:" + hashlib.sha256(blob).hexdigest()


def store_step_details(
    step: Step,
    *,
    metrics: dict | None,
    messages: list[dict],
    trace: dict | None,
    now: datetime | None = None,
) -> None:
    """Replace a step's messages, metrics and (add) its trace in one transaction, so a
    failure half-way through a fetch never leaves part of a step behind."""
    now = now or timezone.now()
    ordered = natural_order(messages)
    rows: dict[tuple[str, str], Message] = {}
    for position, item in enumerate(ordered):
        message = Message(step=step, position=position, first_seen_at=now, last_synced_at=now)
        message.apply_payload(item)
        rows[(message.message_id, message.item_key)] = message
    first_message_date = min((m.date for m in rows.values() if m.date), default=None)

    with transaction.atomic():
        stale = [
            pk
            for pk, message_id, item_key in Message.objects.filter(step=step).values_list(
                "pk", "message_id", "item_key"
            )
            if (message_id, item_key) not in rows
        ]
        if stale:
            Message.objects.filter(pk__in=stale).delete()
        if rows:
            Message.objects.bulk_create(
                rows.values(),
                update_conflicts=True,
                unique_fields=["step", "message_id", "item_key"],
                update_fields=MESSAGE_COLUMNS,
            )

        step_metrics = None
        if metrics is not None:
            step_metrics = StepMetrics.objects.filter(step=step).first() or StepMetrics(
                step=step, first_seen_at=now
            )
            step_metrics.apply_payload(metrics)
            step_metrics.last_synced_at = now
            step_metrics.save()

        if trace is not None:
            provider_trace = ProviderTrace.objects.filter(step=step, upstream_id=trace_key(trace)).first()
            provider_trace = provider_trace or ProviderTrace(
                step=step, upstream_id=trace_key(trace), first_seen_at=now
            )
            provider_trace.apply_payload(trace)
            provider_trace.last_synced_at = now
            provider_trace.save()

        run = Run.objects.filter(pk=step.run_id).first() if step.run_id else None
        step.derive_time(metrics=step_metrics, run=run, first_message_date=first_message_date)
        step.duration_ns = step_metrics.step_ns if step_metrics else None
        step.details_synced_at = now
        step.save(update_fields=["step_time", "step_time_source", "duration_ns", "details_synced_at"])
