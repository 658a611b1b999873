"""Retention: delete steps older than N days, with everything that hangs off them.

In batches of a few hundred steps, each its own short transaction: a batch locks only its
own rows (skipping any a sync holds right now), so the sync and the pages go on while a
prune runs, and a prune stopped half-way has deleted whole steps only. The facet counts
move in the same transaction as each batch.

Pruned steps do not come back: discovery reads Letta's lists forward from a saved cursor,
and re-verification only re-reads steps still in the mirror.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from . import facets
from .models import Run, Step


@dataclass
class PruneResult:
    cutoff: datetime
    steps: int = 0
    # rows deleted per model label, children included (messages, traces, votes, ...)
    rows: Counter = field(default_factory=Counter)


def cutoff_for(days: int, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=days)


def old_steps(cutoff: datetime):
    # steps_step_time, read from its old end
    return Step.objects.filter(step_time__lt=cutoff)


def prune_steps(
    older_than_days: int,
    *,
    batch_size: int = 500,
    progress: Callable[[str], None] = lambda line: None,
    now: datetime | None = None,
) -> PruneResult:
    """Delete steps whose time is more than `older_than_days` days ago, and their messages,
    metrics, traces, votes, feedback pushes, reviews and share links; then their runs once
    no step of them is left."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    result = PruneResult(cutoff_for(older_than_days, now))
    started = time.monotonic()
    while batch := _prune_batch(result, batch_size):
        result.steps += batch
        rate = result.steps / max(time.monotonic() - started, 1e-6)
        progress(f"{result.steps} steps deleted ({rate:.0f} steps/s), {_children(result.rows)}")
    return result


def count_old(older_than_days: int, now: datetime | None = None) -> int:
    return old_steps(cutoff_for(older_than_days, now)).count()


def _prune_batch(result: PruneResult, batch_size: int) -> int:
    with transaction.atomic():
        # SKIP LOCKED: a step a sync is writing now is left for the next batch or run
        batch = old_steps(result.cutoff).order_by("step_time", "id").select_for_update(skip_locked=True)
        ids = list(batch.values_list("id", flat=True)[:batch_size])
        if not ids:
            return 0
        run_ids = set(Step.objects.filter(pk__in=ids, run__isnull=False).values_list("run_id", flat=True))
        with facets.tracking(ids, tools=True):
            # Django's collector deletes each child table with one DELETE ... WHERE step_id IN
            # (and any model another app later hangs off Step); only() keeps payloads unread
            _, per_model = Step.objects.filter(pk__in=ids).only("id").delete()
        result.rows.update(per_model)
        # a run goes with its last step (steps_step_run_position finds any step left)
        emptied = Run.objects.filter(pk__in=run_ids).exclude(
            Exists(Step.objects.filter(run_id=OuterRef("pk")))
        )
        _, per_model = emptied.delete()
        result.rows.update(per_model)
    return len(ids)


def _children(rows: Counter) -> str:
    shown = {label.rsplit(".", 1)[-1]: n for label, n in rows.items() if n and label != "steps.Step"}
    return ", ".join(f"{n} {name}" for name, n in sorted(shown.items())) or "no other rows"
