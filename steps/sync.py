"""Incremental, idempotent, resumable sync of a Letta server into the mirror (letta-api.md §5).

One sync run has three phases:

1. Discovery (one worker at a time, under a lease): page runs and steps with `order=asc`
   and `after=<cursor>`, persisting the cursor after every page, so a killed sync resumes
   where it stopped. Where `GET /v1/steps/` answers the unmodified-server 400 (§0), steps are
   discovered through `GET /v1/runs/{id}/steps` instead. An overlap re-scan of the newest
   page catches steps committed late behind the cursor.
2. Refresh (any number of workers, each step claimed by a conditional UPDATE): steps that
   are pending, new, waiting for a trace or an approval are fetched again by id, with their
   messages, metrics and trace once terminal.
3. Re-verification: a bounded batch of the least recently synced steps, and of steps with
   feedback, is fetched again, so feedback and tags changed by someone else are noticed.

Memory stays flat: one page (or one step's details) is in memory at a time.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .mirror import upsert_runs, upsert_steps
from .models import RUN_DELETED, RUN_TERMINAL_STATUSES, Run, Step, SyncCursor, SyncRun
from .refresh import Refresher
from .upstream import (
    LettaClient,
    StepListUnavailable,
    UpstreamError,
    UpstreamNotFound,
)

log = logging.getLogger(__name__)

LEASE_SECONDS = 120


@dataclass
class SyncProgress:
    """Counters of one sync run, shown live by `manage.py sync_steps` and saved on SyncRun."""

    mode: str = ""
    pages: int = 0
    steps_created: int = 0
    steps_updated: int = 0
    steps_refreshed: int = 0
    runs_seen: int = 0
    errors: int = 0
    phase: str = ""
    started: float = field(default_factory=time.monotonic)

    @property
    def steps_per_second(self) -> float:
        elapsed = time.monotonic() - self.started
        return (self.steps_created + self.steps_refreshed) / elapsed if elapsed > 0 else 0.0


ProgressCallback = Callable[[SyncProgress], None]


class Lease:
    """A named lease in SyncCursor, taken by a conditional UPDATE and renewed while working.

    Only one discovery runs at a time; a killed holder's lease simply expires.
    """

    def __init__(self, name: str, seconds: int = LEASE_SECONDS):
        self.name, self.seconds, self.owner = name, seconds, uuid.uuid4().hex

    def acquire(self) -> bool:
        SyncCursor.objects.get_or_create(name=self.name)
        now = timezone.now()
        taken = (
            SyncCursor.objects.filter(name=self.name)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now) | Q(lease_owner=self.owner))
            .update(lease_owner=self.owner, leased_until=now + timedelta(seconds=self.seconds))
        )
        return taken == 1

    def renew(self) -> None:
        if not self.acquire():
            raise LeaseLost(f"another sync took over the {self.name} lease")

    def release(self) -> None:
        SyncCursor.objects.filter(name=self.name, lease_owner=self.owner).update(
            lease_owner="", leased_until=None
        )


class LeaseLost(Exception):
    pass


def _cursor(name: str) -> SyncCursor:
    return SyncCursor.objects.get_or_create(name=name)[0]


def _save_cursor(cursor: SyncCursor, value: str) -> None:
    cursor.value = value
    SyncCursor.objects.filter(name=cursor.name).update(value=value, updated_at=timezone.now())


class Syncer:
    def __init__(
        self, client: LettaClient, progress: SyncProgress, on_progress: ProgressCallback | None = None
    ):
        self.client = client
        self.progress = progress
        self.on_progress = on_progress or (lambda p: None)
        self.page_size = settings.SYNC_PAGE_SIZE
        self.started_at = timezone.now()

    def _report(self, phase: str | None = None) -> None:
        if phase:
            self.progress.phase = phase
        self.on_progress(self.progress)

    def _count(self, result) -> None:
        self.progress.steps_created += len(result.created)
        self.progress.steps_updated += len(result.updated)

    # --- phase 1: discovery ------------------------------------------------------------

    def discover(self, lease: Lease) -> None:
        self._report("runs")
        self.discover_runs(lease)
        try:
            self._report("steps")
            self.discover_from_step_list(lease)
            self.progress.mode = SyncRun.Mode.STEP_LIST
        except StepListUnavailable:
            log.info("GET /v1/steps/ is unavailable on this server; discovering steps through runs")
            self.progress.mode = SyncRun.Mode.RUNS
            self.discover_from_runs(lease)
        _save_cursor(_cursor("mode"), self.progress.mode)

    def _page_forward(self, cursor_name: str, fetch, store, lease: Lease) -> None:
        """Page `order=asc` after the saved cursor until a short page; save it after each page."""
        cursor = _cursor(cursor_name)
        while True:
            try:
                page = fetch(after=cursor.value or None)
            except UpstreamNotFound:
                if not cursor.value:
                    raise
                # The cursor row is gone (e.g. LETTA_BASE_URL now points elsewhere): start over;
                # upserts make the re-read harmless.
                log.warning(
                    "Sync cursor %s=%s is unknown upstream; restarting from the beginning",
                    cursor_name,
                    cursor.value,
                )
                _save_cursor(cursor, "")
                continue
            store(page)
            self.progress.pages += 1
            if page:
                _save_cursor(cursor, page[-1]["id"])
            lease.renew()
            self._report()
            if len(page) < self.page_size:
                return

    def _store_runs(self, page: list[dict]) -> None:
        upsert_runs(page)
        self.progress.runs_seen += len(page)

    def _store_steps(self, page: list[dict]) -> None:
        self._count(upsert_steps(page))

    def discover_runs(self, lease: Lease) -> None:
        self._page_forward(
            "runs_after",
            lambda after: self.client.list_runs(after=after, limit=self.page_size),
            self._store_runs,
            lease,
        )
        self._store_runs(self.client.list_runs(limit=settings.SYNC_OVERLAP_STEPS, order="desc"))
        # Runs still going change status and gain steps; look at them again by id.
        open_runs = Run.objects.exclude(status__in=RUN_TERMINAL_STATUSES).order_by("created_at")
        for run_id in open_runs.values_list("id", flat=True)[: settings.SYNC_REFRESH_BATCH]:
            try:
                self._store_runs([self.client.get_run(run_id)])
            except UpstreamNotFound:
                self._forget_run(run_id)

    def _forget_run(self, run_id: str) -> None:
        # Deleting a run upstream keeps its steps (run_id set null, §2.1); stop asking for it.
        Run.objects.filter(id=run_id).update(status=RUN_DELETED, steps_listed_at=timezone.now())

    def discover_from_step_list(self, lease: Lease) -> None:
        self._page_forward(
            "steps_after",
            lambda after: self.client.list_steps(after=after, limit=self.page_size, order="asc"),
            self._store_steps,
            lease,
        )
        # Overlap: created_at is the transaction start, so a slow commit can surface a step
        # behind the cursor (§5 point 2). The newest page is re-read every run and deduped.
        self._store_steps(self.client.list_steps(limit=settings.SYNC_OVERLAP_STEPS, order="desc"))
        # Feedback others gave to older steps, a bounded slice per run, resuming next run.
        cursor = _cursor("feedback_after")
        page = self.client.list_steps(
            after=cursor.value or None, limit=self.page_size, order="asc", has_feedback="true"
        )
        self._store_steps(page)
        _save_cursor(cursor, page[-1]["id"] if len(page) == self.page_size else "")

    def discover_from_runs(self, lease: Lease) -> None:
        """Runs-mode: list the steps of every run not yet listed complete, each run once."""
        pending_runs = Run.objects.filter(~Q(status__in=RUN_TERMINAL_STATUSES) | Q(steps_listed_at=None))
        last_id = ""
        while True:
            batch = list(pending_runs.filter(id__gt=last_id).order_by("id")[: self.page_size])
            if not batch:
                return
            for run in batch:
                listed_at = timezone.now()
                after = None
                while True:
                    try:
                        page = self.client.list_run_steps(run.id, after=after, limit=self.page_size)
                    except UpstreamNotFound:
                        self._forget_run(run.id)
                        break
                    self._store_steps(page)
                    self.progress.pages += 1
                    if len(page) < self.page_size:
                        break
                    after = page[-1]["id"]
                if run.is_terminal:
                    Run.objects.filter(id=run.id).update(steps_listed_at=listed_at)
                last_id = run.id
            lease.renew()
            self._report()

    # --- phase 2: refresh (steps/refresh.py) ----------------------------------------------

    def refresher(self) -> Refresher:
        def count(ok: bool) -> None:
            self.progress.steps_refreshed += 1
            self.progress.errors += 0 if ok else 1

        return Refresher(self.client, fresh_since=self.started_at, on_refreshed=count)

    def refresh_due(self, limit: int | None = None) -> None:
        self._report("details")
        self.refresher().refresh_due(limit, self.page_size, on_batch=self._report)

    # --- phase 3: re-verification --------------------------------------------------------

    def reverify(self, batch: int) -> None:
        """Re-read a slice of the mirror by id: feedback-bearing steps first (a clear is
        invisible to has_feedback=true), then the least recently synced of all."""
        self._report("verify")
        not_seen_this_run = Step.objects.filter(last_synced_at__lt=self.started_at)
        with_feedback = not_seen_this_run.exclude(feedback="").order_by("last_synced_at")
        ids = list(with_feedback.values_list("id", flat=True)[: batch // 2])
        stale = not_seen_this_run.least_recently_synced().values_list("id", flat=True)[:batch]
        ids += [i for i in stale if i not in ids][: batch - len(ids)]
        for step_id in ids:
            try:
                payload = self.client.get_step(step_id)
            except UpstreamNotFound as exc:
                Step.objects.filter(pk=step_id).update(
                    last_synced_at=timezone.now(), last_sync_error=str(exc)[:2000]
                )
                self.progress.errors += 1
                continue
            self._count(upsert_steps([payload]))


def run_sync(
    client: LettaClient,
    *,
    trigger: str = "schedule",
    on_progress: ProgressCallback | None = None,
    refresh_limit: int | None = None,
    reverify_batch: int | None = None,
) -> SyncRun:
    """One complete sync run, recorded as a SyncRun whatever happens."""
    progress = SyncProgress()
    sync_run = SyncRun.objects.create(trigger=trigger, upstream_url=client.base_url)
    syncer = Syncer(client, progress, on_progress)
    lease = Lease("discovery")
    requests_before = client.requests_made
    try:
        if lease.acquire():
            try:
                syncer.discover(lease)
            finally:
                lease.release()
        else:
            progress.mode = _cursor("mode").value
        syncer.refresh_due(limit=refresh_limit)
        syncer.reverify(settings.SYNC_REVERIFY_BATCH if reverify_batch is None else reverify_batch)
        sync_run.status = SyncRun.Status.SUCCESS
    except (UpstreamError, LeaseLost) as exc:
        sync_run.status = SyncRun.Status.FAILED
        sync_run.error_message = str(exc)[:4000]
        progress.errors += 1
        log.warning("Sync failed: %s", exc)
    except Exception as exc:
        sync_run.status = SyncRun.Status.FAILED
        sync_run.error_message = f"Internal error: {type(exc).__name__}: {exc}"[:4000]
        progress.errors += 1
        raise
    finally:
        sync_run.finished_at = timezone.now()
        sync_run.mode = progress.mode
        sync_run.requests = client.requests_made - requests_before
        for name in ("pages", "steps_created", "steps_updated", "steps_refreshed", "runs_seen", "errors"):
            setattr(sync_run, name, getattr(progress, name))
        sync_run.save()
        syncer._report("done")
    return sync_run


def refresh_steps(client: LettaClient, step_ids: list[str]) -> int:
    """Re-sync the given steps now (admin action), whatever their schedule; returns how many."""
    refresher = Syncer(client, SyncProgress()).refresher()
    done = 0
    for start in range(0, len(step_ids), settings.SYNC_PAGE_SIZE):
        claimed = refresher.claim(step_ids[start : start + settings.SYNC_PAGE_SIZE], only_if_due=False)
        refresher.refresh(claimed, refetch=True)
        done += len(claimed)
    return done
