"""Phase 2 of the sync: bring individual steps up to date and decide when to look again.

Steps are claimed in batches by a conditional UPDATE naming this worker's SyncRun, so two
live workers never refresh the same step, and a killed worker's steps are free again as soon
as its heartbeat stops (steps/models/syncing.py); the HTTP requests of a batch run on a few threads
(Letta's latency, not our CPU, is what a real server costs), while every database write
stays on the calling thread.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from . import facets
from .mirror import DETAIL_STEP_FIELDS, store_step_details
from .models import Run, Step, SyncRun, mark_dirty, unclaimed
from .upstream import LettaClient, UpstreamAuthError, UpstreamError, UpstreamUnavailable

log = logging.getLogger(__name__)

# (base delay s, cap s, attempts) for each reason a step is looked at again.
PENDING_BACKOFF = (2.0, 60.0, 500)  # a step stays pending while its LLM call runs
TRACE_BACKOFF = (5.0, 120.0, 6)  # traces are written fire-and-forget after success (§4)
APPROVAL_BACKOFF = (30.0, 1800.0, 24)  # the approval answer can come much later (§5)
ERROR_BACKOFF = (30.0, 3600.0, 20)
SETTLE_DELAY = 30.0  # terminal steps are read once more: tokens and stop_reason settle (§5)

# What a refresh writes back in its final UPDATE (details are written by store_step_details).
REFRESH_FIELDS = [
    *Step.synced_fields(),
    *DETAIL_STEP_FIELDS,
    "refresh_due_at",
    "refresh_attempts",
    "trace_state",
    "last_sync_error",
]


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    return min(cap, base * 2 ** min(attempt, 20))


@dataclass
class Fetched:
    """What Letta said about one step; `messages is None` means details were not fetched."""

    step: dict | None = None
    metrics: dict | None = None
    messages: list[dict] | None = None
    trace: dict | None = None
    error: UpstreamError | None = None


class Refresher:
    def __init__(
        self,
        client: LettaClient,
        holder: SyncRun,
        *,
        fresh_since: datetime,
        on_refreshed: Callable[[bool], None],
    ):
        self.client = client
        self.holder = holder  # the SyncRun whose heartbeat keeps our claims ours
        self.fresh_since = fresh_since  # steps synced since then need no re-read by id
        self.on_refreshed = on_refreshed  # called with ok=True/False after each step
        self.concurrency = max(1, settings.SYNC_FETCH_CONCURRENCY)
        # dead sync run id -> steps of it we took over; live sync run id -> due steps it held
        self.reclaimed: Counter[int] = Counter()
        self.skipped: Counter[int] = Counter()

    # --- claiming ------------------------------------------------------------------------

    def claim(self, step_ids: list[str], *, only_if_due: bool = True) -> list[str]:
        """Take these steps for this worker; return the ones it got.

        One conditional UPDATE: a step claimed by someone else, or no longer due because
        another worker finished it after we read the due list, is not matched.
        """
        now = timezone.now()
        steps = Step.objects.due_for_refresh(now) if only_if_due else Step.objects.filter(unclaimed())
        taken = steps.filter(pk__in=step_ids).update(claimed_by=self.holder)
        if not taken:
            return []
        return list(Step.objects.filter(pk__in=step_ids, claimed_by=self.holder).values_list("id", flat=True))

    def note_held(self, step_ids: list[str]) -> None:
        """Of these steps, count those a live sync holds (we leave them to it)."""
        self._count_held(Step.objects.filter(pk__in=step_ids))

    def refresh_due(self, limit: int | None, batch_size: int, on_batch: Callable[[], None]) -> None:
        # Only what was due when the phase began: a step rescheduled a few seconds ahead
        # (trace retry, settle) waits for the next run instead of keeping this one going.
        phase_start = timezone.now()
        done = 0
        while limit is None or done < limit:
            size = batch_size if limit is None else min(batch_size, limit - done)
            due_now = Step.objects.due_for_refresh(phase_start).order_by("refresh_due_at")
            due = list(due_now.values_list("id", "claimed_by_id")[:size])
            if not due:
                break
            claimed = self.claim([step_id for step_id, _ in due])
            # due_for_refresh only lists free steps: one still naming a sync run names a dead one
            self.reclaimed.update(holder for step_id, holder in due if holder and step_id in claimed)
            self.refresh(claimed)
            done += len(claimed)
            on_batch()
        # steps due when the phase began that a live sync still holds
        self._count_held(Step.objects.filter(refresh_due_at__lte=phase_start))

    def _count_held(self, steps) -> None:
        """Of `steps`, count those another live sync holds, per holder: work we left to it."""
        held = steps.exclude(unclaimed()).exclude(claimed_by=self.holder).values("claimed_by")
        for row in held.annotate(n=Count("pk")):
            self.skipped[row["claimed_by"]] += row["n"]

    # --- one batch -----------------------------------------------------------------------

    def refresh(self, step_ids: list[str], *, refetch: bool | None = None) -> None:
        """Refresh claimed steps; every claim is released, whatever happens."""
        steps = Step.objects.in_bulk(step_ids)
        ordered = [steps[i] for i in step_ids if i in steps]
        runs = Run.objects.in_bulk({s.run_id for s in ordered if s.run_id})
        fatal: UpstreamError | None = None
        # facet counts (columns, tags, tools) move once per batch, when it ends
        with facets.tracking(step_ids, tools=True), ThreadPoolExecutor(self.concurrency) as pool:
            fetches = pool.map(lambda s: self._fetch(s, refetch), ordered)
            for step, fetched in zip(ordered, fetches, strict=True):
                if isinstance(fetched.error, UpstreamUnavailable | UpstreamAuthError):
                    fatal = fatal or fetched.error
                    Step.objects.filter(pk=step.pk, claimed_by=self.holder).update(claimed_by=None)
                    continue
                self._apply(step, fetched, runs.get(step.run_id))
        if fatal:
            raise fatal  # Letta is unreachable or refusing us: end the run, keep the schedule

    def _fetch(self, step: Step, refetch: bool | None) -> Fetched:
        """HTTP only (runs on a pool thread): no database access here."""
        fetched = Fetched()
        try:
            if refetch or (refetch is None and step.last_synced_at < self.fresh_since):
                fetched.step = self.client.get_step(step.id)
            status = (fetched.step or step.payload).get("status")
            if status != "pending":
                fetched.metrics = self.client.get_metrics(step.id)
                fetched.messages = list(self.client.iter_messages(step.id))
                fetched.trace = self.client.get_trace(step.id)
        except UpstreamError as exc:
            fetched.error = exc
        return fetched

    def _apply(self, step: Step, fetched: Fetched, run: Run | None) -> None:
        now = timezone.now()
        with transaction.atomic():
            if fetched.step is not None:
                status_before = step.status
                if step.apply_payload(fetched.step):
                    mark_dirty([step.step_time])  # status, tokens or error changed: its hour's rollups
                step.last_synced_at = now
                if step.status != status_before:
                    step.refresh_attempts = 0
            if fetched.error is not None:
                step.last_sync_error = str(fetched.error)[:2000]
                self._schedule(step, ERROR_BACKOFF, now)
                log.warning("Could not sync step %s: %s", step.id, fetched.error)
            elif fetched.messages is None:
                step.last_sync_error = ""
                self._schedule(step, PENDING_BACKOFF, now)
            else:
                step.last_sync_error = ""
                had_details = step.details_synced_at is not None
                store_step_details(
                    step,
                    metrics=fetched.metrics,
                    messages=fetched.messages,
                    trace=fetched.trace,
                    run=run,
                    now=now,
                    save_step=False,
                )
                self._schedule_after_details(
                    step, trace_found=fetched.trace is not None, had_details=had_details, now=now
                )
            # Only while the claim is still ours: had our heartbeat lagged and another sync taken
            # the step over, its write (and its claim) wins; ours was the same upstream data.
            Step.objects.filter(pk=step.pk, claimed_by=self.holder).update(
                claimed_by=None, **{f: getattr(step, f) for f in REFRESH_FIELDS}
            )
        self.on_refreshed(fetched.error is None)

    # --- scheduling ----------------------------------------------------------------------

    def _schedule(self, step: Step, policy: tuple[float, float, int], now: datetime) -> bool:
        base, cap, attempts = policy
        if step.refresh_attempts >= attempts:
            step.refresh_due_at = None
            return False
        step.refresh_due_at = now + timedelta(seconds=backoff_delay(step.refresh_attempts, base, cap))
        step.refresh_attempts += 1
        return True

    def _schedule_after_details(
        self, step: Step, *, trace_found: bool, had_details: bool, now: datetime
    ) -> None:
        if trace_found or step.traces.exists():
            step.trace_state = Step.TraceState.FOUND
        elif self._schedule(step, TRACE_BACKOFF, now):
            step.trace_state = Step.TraceState.RETRYING
            return
        else:
            step.trace_state = Step.TraceState.ABSENT
        if step.needs_approval and self._schedule(step, APPROVAL_BACKOFF, now):
            return
        if had_details:
            step.refresh_due_at, step.refresh_attempts = None, 0
        else:
            step.refresh_due_at = now + timedelta(seconds=SETTLE_DELAY)
