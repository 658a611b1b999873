"""Phase 2 of the sync: bring individual steps up to date and decide when to look again.

Steps are claimed in batches by a conditional UPDATE naming this worker's SyncRun, so two
live workers never refresh the same step, and a killed worker's steps are free again as soon
as its heartbeat stops (steps/models/syncing.py); the HTTP requests of a batch run on a few threads
(Letta's latency, not our CPU, is what a real server costs), while every database write
stays on the calling thread.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from .. import facets
from ..models import ProviderTrace, Run, Step, SyncRun, mark_dirty, unclaimed
from . import bulk
from .hooks import announce_new_steps
from .mirror import DETAIL_STEP_FIELDS, StepDetails, store_details
from .upstream import LettaClient, UpstreamAuthError, UpstreamError, UpstreamNotFound, UpstreamUnavailable

log = logging.getLogger(__name__)

# (base delay s, cap s, attempts) for each reason a step is looked at again.
PENDING_BACKOFF = (2.0, 60.0, 500)  # a step stays pending while its LLM call runs
TRACE_BACKOFF = (5.0, 120.0, 6)  # traces are written fire-and-forget after success (§4)
APPROVAL_BACKOFF = (30.0, 1800.0, 24)  # the approval answer can come much later (§5)
ERROR_BACKOFF = (30.0, 3600.0, 20)

# What a refresh writes back in its final UPDATE (details are written by store_details):
# a step not read again by id changed only its bookkeeping, a re-read one its columns too.
DETAIL_REFRESH_FIELDS = [
    *DETAIL_STEP_FIELDS,
    "refresh_due_at",
    "refresh_attempts",
    "trace_state",
    "last_sync_error",
]
REFRESH_FIELDS = [*Step.synced_fields(), *DETAIL_REFRESH_FIELDS]


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    return min(cap, base * 2 ** min(attempt, 20))


@dataclass
class Batch:
    """Claimed steps whose requests are on the pool."""

    step_ids: list[str]  # as claimed (a step deleted meanwhile has no row in `steps`)
    steps: list[Step]
    fetches: list[Future[Fetched]]


@dataclass
class Fetched:
    """What Letta said about one step; `messages is None` means details were not fetched."""

    step: dict | None = None
    metrics: dict | None = None
    messages: list[dict] | None = None
    trace: dict | None = None
    error: UpstreamError | None = None
    gone: bool = False  # Letta answered 404 for the step itself


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
        with transaction.atomic():
            # a holder whose heartbeat stopped is abandoned as its steps are taken, not later
            holders = (
                Step.objects.filter(pk__in=step_ids).exclude(claimed_by=self.holder).values("claimed_by")
            )
            SyncRun.objects.filter(pk__in=holders).mark_abandoned(now, taken_over_by=self.holder)
            taken = steps.filter(pk__in=step_ids).update(claimed_by=self.holder)
        if not taken:
            return []
        return list(Step.objects.filter(pk__in=step_ids, claimed_by=self.holder).values_list("id", flat=True))

    def note_held(self, step_ids: list[str]) -> None:
        """Of these steps, count those a live sync holds (we leave them to it)."""
        self._count_held(Step.objects.filter(pk__in=step_ids))

    def pipeline(self, batch_size: int, on_batch: Callable[[], None], limit: int | None = None) -> Pipeline:
        return Pipeline(self, batch_size, on_batch, limit)

    def refresh_due(
        self,
        limit: int | None,
        batch_size: int,
        on_batch: Callable[[], None],
        keep_going: Callable[[], bool] = lambda: False,
    ) -> None:
        """Refresh every step due when the phase began, and new steps as they are discovered,
        a claimed batch at a time (Pipeline.run)."""
        with self.pipeline(batch_size, on_batch, limit) as pipeline:
            pipeline.run(keep_going)

    def _claim_due(self, phase_start: datetime, size: int) -> list[str] | None:
        """The next batch of due steps, claimed; None when nothing is due any more.

        Due: what was due when the phase began, and steps discovered since (new: never read in
        detail, no attempt yet). A step rescheduled a few seconds ahead (a trace not written
        yet, a pending step's next look, the settle read) waits for the next run instead of
        keeping this one going."""
        due = self._due(phase_start, size)
        if not due:
            return None
        claimed = self.claim([step_id for step_id, _ in due])
        # due_for_refresh only lists free steps: one still naming a sync run names a dead one
        self.reclaimed.update(holder for step_id, holder in due if holder and step_id in claimed)
        return claimed

    def _due(self, phase_start: datetime, size: int) -> list[tuple[str, int | None]]:
        """Up to `size` (id, holder) of due steps, oldest due first: what was due when the phase
        began, then new steps. Two index ranges (steps_step_refresh_due up to the phase start,
        steps_step_undetailed_due): one condition with OR would walk every settle read and
        retry due since, a scan that grows with the backlog (100 k steps: 0.5x instead of 0.6x)."""
        free = Step.objects.due_for_refresh(timezone.now())
        fields = ("id", "claimed_by_id")
        due = list(
            free.filter(refresh_due_at__lte=phase_start)
            .order_by("refresh_due_at")
            .values_list(*fields)[:size]
        )
        if len(due) < size:
            new = free.filter(
                details_synced_at__isnull=True, refresh_attempts=0, refresh_due_at__gt=phase_start
            )
            due += new.order_by("refresh_due_at").values_list(*fields)[: size - len(due)]
        return due

    def backlog_over(self, phase_start: datetime, steps: int) -> bool:
        """Whether more than `steps` due steps wait unclaimed (reads at most steps + 1 ids)."""
        return len(self._due(phase_start, steps + 1)) > steps

    def _count_held(self, steps) -> None:
        """Of `steps`, count those another live sync holds, per holder: work we left to it."""
        held = steps.exclude(unclaimed()).exclude(claimed_by=self.holder).values("claimed_by")
        for row in held.annotate(n=Count("pk")):
            self.skipped[row["claimed_by"]] += row["n"]

    # --- one batch -----------------------------------------------------------------------

    def refresh(self, step_ids: list[str], *, refetch: bool | None = None) -> None:
        """Refresh claimed steps; every claim is released, whatever happens."""
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="sync-fetch") as pool:
            self._finish(self._start(step_ids, refetch, pool))

    def _start(self, step_ids: list[str], refetch: bool | None, pool: ThreadPoolExecutor) -> Batch:
        """Load the claimed steps and put their requests on the pool."""
        steps = Step.objects.in_bulk(step_ids)
        ordered = [steps[i] for i in step_ids if i in steps]
        return Batch(step_ids, ordered, [pool.submit(self._fetch, step, refetch) for step in ordered])

    def _release(self, batch: Batch) -> None:
        for future in batch.fetches:
            future.cancel()
        Step.objects.filter(pk__in=batch.step_ids, claimed_by=self.holder).update(claimed_by=None)

    def _finish(self, batch: Batch) -> None:
        """Wait for a batch's requests and write it: a few statements for the whole batch."""
        try:
            fetched = [future.result() for future in batch.fetches]
            fatal = self._write(list(zip(batch.steps, fetched, strict=True)))
        except BaseException:
            self._release(batch)
            raise
        if fatal:
            raise fatal  # Letta is unreachable or refusing us: end the run, keep the schedule

    def _fetch(self, step: Step, refetch: bool | None) -> Fetched:
        """HTTP only (runs on a pool thread): no database access here."""
        fetched = Fetched()
        try:
            if refetch or (refetch is None and self._listing_stale(step)):
                try:
                    fetched.step = self.client.get_step(step.id)
                except UpstreamNotFound:
                    fetched.gone = True
                    return fetched
            status = (fetched.step or step.payload).get("status")
            if status != "pending":
                fetched.metrics = self.client.get_metrics(step.id)
                fetched.messages = list(self.client.iter_messages(step.id))
                fetched.trace = self.client.get_trace(step.id)
        except UpstreamError as exc:
            fetched.error = exc
        return fetched

    def _listing_stale(self, step: Step) -> bool:
        """Whether the step's row must be read again by id before its details. Not when it was
        listed in this run; nor for a new step's first read, whichever sync listed it and when:
        its listing is what scheduled it (another worker's discovery, in a scale-out). A step
        looked at again (pending, retried, settling) is read again."""
        if step.last_synced_at >= self.fresh_since:
            return False
        return step.details_synced_at is not None or step.refresh_attempts > 0

    def _write(self, results: list[tuple[Step, Fetched]]) -> UpstreamError | None:
        """Write a batch of fetched steps; return the first error that should end the run."""
        now = timezone.now()
        fatal, released, written, details = None, [], [], []
        for step, fetched in results:
            if isinstance(fetched.error, UpstreamUnavailable | UpstreamAuthError):
                fatal = fatal or fetched.error
                released.append(step.pk)  # not looked at: its schedule stays as it was
                continue
            written.append((step, fetched))
        refetched = [step for step, fetched in written if fetched.step is not None or fetched.gone]
        ids = [step.pk for step, _ in written]
        runs = Run.objects.in_bulk({step.run_id for step, _ in written if step.run_id})
        # facet counts (columns, tags, tools) move once per batch, with it
        with transaction.atomic(), facets.tracking(ids, tools=True):
            if released:
                Step.objects.filter(pk__in=released, claimed_by=self.holder).update(claimed_by=None)
            for step, fetched in written:
                if fetched.step is not None:
                    status_before = step.status
                    if step.apply_payload(fetched.step):
                        mark_dirty([step.step_time])  # status, tokens or error changed: its hour's rollups
                    step.last_synced_at = now
                    if step.status != status_before:
                        step.refresh_attempts = 0
                if fetched.gone:
                    # Deleted in Letta: kept as last seen, messages included, and not scheduled
                    # again (re-verification asks now and then; a listing showing it clears it).
                    step.gone_upstream_at = step.gone_upstream_at or now
                    step.last_synced_at, step.last_sync_error = now, ""
                    step.refresh_due_at, step.refresh_attempts = None, 0
                elif fetched.error is not None:
                    step.last_sync_error = str(fetched.error)[:2000]
                    self._schedule(step, ERROR_BACKOFF, now)
                    log.warning("Could not sync step %s: %s", step.id, fetched.error)
                elif fetched.messages is None:
                    step.last_sync_error = ""
                    self._schedule(step, PENDING_BACKOFF, now)
                else:
                    step.last_sync_error = ""
                    details.append(
                        StepDetails(
                            step, fetched.metrics, fetched.messages, fetched.trace, runs.get(step.run_id)
                        )
                    )
            had_details = {item.step.pk for item in details if item.step.details_synced_at is not None}
            store_details(details, now)
            traced = self._traced([item.step.pk for item in details if item.trace is None])
            for item in details:
                self._schedule_after_details(
                    item.step,
                    trace_found=item.trace is not None or item.step.pk in traced,
                    had_details=item.step.pk in had_details,
                    now=now,
                )
            self._save(written, refetched)
            announce_new_steps([item.step.pk for item in details if item.step.pk not in had_details])
        for _, fetched in written:
            self.on_refreshed(fetched.error is None)
        return fatal

    def _save(self, written: list[tuple[Step, Fetched]], refetched: list[Step]) -> None:
        """One UPDATE per kind of step, releasing the claims. Only where the claim is still
        ours: had our heartbeat lagged and another sync taken a step over, its write (and its
        claim) wins; ours was the same upstream data."""
        refetched_ids = {step.pk for step in refetched}
        rest = [step for step, _ in written if step.pk not in refetched_ids]
        for steps, fields in ((refetched, REFRESH_FIELDS), (rest, DETAIL_REFRESH_FIELDS)):
            for step in steps:
                step.claimed_by = None
            bulk.update_each(Step, steps, [*fields, "claimed_by"], claimed_by=self.holder.pk)

    @staticmethod
    def _traced(step_ids: list[str]) -> set[str]:
        """Of these steps, those with a trace stored earlier (Letta's `200 null` is not 'none')."""
        if not step_ids:
            return set()
        return set(ProviderTrace.objects.filter(step_id__in=step_ids).values_list("step_id", flat=True))

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
        if trace_found:
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
            # read once more later: tokens and stop_reason settle (§5)
            step.refresh_due_at = now + timedelta(seconds=settings.SYNC_SETTLE_SECONDS)


class Pipeline:
    """Claimed batches whose requests are in flight while the batch before them is written, so
    Letta's latency and our database writes overlap. At most two batches are held in memory,
    however many steps are due. `pump()` moves it one batch on (discovery calls it after each
    page, so a discovering sync refreshes what it found as it goes); `run()` until nothing is
    due; leaving the block hands back whatever is claimed and not written."""

    # While another sync discovers, one with nothing due looks again this often, and gives up
    # once nothing has come for this long (a discovery that stalls must not hold it forever).
    IDLE_SECONDS = 0.25
    IDLE_LIMIT_SECONDS = 5.0

    def __init__(
        self, refresher: Refresher, batch_size: int, on_batch: Callable[[], None], limit: int | None
    ):
        self.refresher, self.batch_size, self.on_batch, self.limit = refresher, batch_size, on_batch, limit
        self.phase_start = timezone.now()
        self.claimed = 0
        self.in_flight: deque[Batch] = deque()
        self.pool = ThreadPoolExecutor(refresher.concurrency, thread_name_prefix="sync-fetch")

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            while self.in_flight:  # an error or a kill: hand back what was claimed, unfetched
                self.refresher._release(self.in_flight.popleft())
        finally:
            self.pool.shutdown(cancel_futures=True)
        # steps due when the phase began that a live sync still holds
        self.refresher._count_held(Step.objects.filter(refresh_due_at__lte=self.phase_start))

    def pump(self) -> bool:
        """Claim the next due batch and put its requests on the pool; write the oldest batch
        once another is in flight (or nothing more was claimed). False when nothing was due."""
        claimed = None
        if self.limit is None or self.claimed < self.limit:
            size = self.batch_size if self.limit is None else min(self.batch_size, self.limit - self.claimed)
            claimed = self.refresher._claim_due(self.phase_start, size)
        if claimed is not None:
            self.in_flight.append(self.refresher._start(claimed, None, self.pool))
            self.claimed += len(claimed)
        if self.in_flight and (len(self.in_flight) > 1 or claimed is None):
            self.refresher._finish(self.in_flight.popleft())
            self.on_batch()
        return claimed is not None

    def pump_surplus(self) -> bool:
        """pump() only when more than two batches wait unclaimed: a discovering sync leaves the
        steps it finds to the syncs that could not discover, and helps when they fall behind
        (alone, it pumps after every page once it is two batches ahead)."""
        if self.refresher.backlog_over(self.phase_start, 2 * self.batch_size):
            return self.pump()
        return False

    def run(self, keep_going: Callable[[], bool] = lambda: False) -> None:
        """Pump until nothing is due and nothing is in flight; while `keep_going()` says more
        is coming (another sync is discovering), wait for it instead of ending."""
        last_work = time.monotonic()
        while True:
            if self.pump() or self.in_flight:
                last_work = time.monotonic()
                continue
            if self.limit is not None and self.claimed >= self.limit:
                return
            if time.monotonic() - last_work > self.IDLE_LIMIT_SECONDS or not keep_going():
                return
            time.sleep(self.IDLE_SECONDS)
