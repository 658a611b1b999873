"""Incremental, idempotent, resumable sync of a Letta server into the mirror (docs/letta-api.md §5).

One sync run has three phases:

1. Discovery (one worker at a time, under a lease held by the SyncRun, claims.py): page
   runs and steps with `order=asc`
   and `after=<cursor>`, persisting the cursor after every page, so a killed sync resumes
   where it stopped. Where `GET /v1/steps/` answers the unmodified-server 400 (§0), steps are
   discovered through `GET /v1/runs/{id}/steps` instead. An overlap re-scan of the newest
   page catches steps committed late behind the cursor. Each step gets its position in its
   run; agents seen for the first time are fetched by id, and all are re-listed now and then.
2. Refresh (any number of workers, each step claimed by a conditional UPDATE): steps that
   are pending, new, waiting for a trace or an approval are fetched again by id, with their
   messages, metrics and trace once terminal.
3. Re-verification: a bounded batch of the least recently synced steps, and of steps with
   feedback, is fetched again, so feedback and tags changed by someone else are noticed.

Memory stays flat: one page (or one step's details) is in memory at a time.

A claim (the lease, a step) is held while its SyncRun's heartbeat is fresh: a killed sync's work
is free again within seconds. Whatever a run leaves to a live sync or takes over from a dead
one is counted and said in its SyncRun, so "done" never hides skipped work.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ..ids import is_letta_id
from ..models import RUN_DELETED, RUN_TERMINAL_STATUSES, Agent, Run, Step, SyncCursor, SyncRun
from ..overview import rollup
from .claims import Heartbeat, Lease, LeaseLost, describe
from .mirror import note_missing_agents, upsert_agents, upsert_runs, upsert_steps
from .refresh import Pipeline, Refresher
from .upstream import (
    LettaClient,
    StepListUnavailable,
    UpstreamAuthError,
    UpstreamError,
    UpstreamNotFound,
    UpstreamProtocolError,
    UpstreamUnavailable,
)

log = logging.getLogger(__name__)

# Agents fetched by id per run when first seen on a step; the periodic listing catches the rest.
NEW_AGENTS_PER_RUN = 50
# Runs whose steps lack positions (rows from before positions existed), re-listed per run.
SEQUENCE_RUNS_PER_RUN = 20


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
    discovery_skipped: bool = False
    steps_skipped: int = 0
    steps_reclaimed: int = 0
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    @property
    def steps_per_second(self) -> float:
        elapsed = time.monotonic() - self.started
        return (self.steps_created + self.steps_refreshed) / elapsed if elapsed > 0 else 0.0


ProgressCallback = Callable[[SyncProgress], None]


def _cursor(name: str) -> SyncCursor:
    return SyncCursor.objects.get_or_create(name=name)[0]


def _page_cursor(page: list[dict]) -> str:
    """Where the next page starts: the id of the page's last row, as Letta sent it. Letta takes
    its own ids back as cursors, even one we did not mirror (see mirror._well_formed); an id too
    long for the cursor column gives way to the row before it."""
    limit = SyncCursor._meta.get_field("value").max_length
    for payload in reversed(page):
        if len(payload["id"]) <= limit:
            return payload["id"]
    raise UpstreamProtocolError(f"No row on a page of {len(page)} has an id of at most {limit} characters")


def _save_cursor(cursor: SyncCursor, value: str) -> None:
    cursor.value = value
    SyncCursor.objects.filter(name=cursor.name).update(value=value, updated_at=timezone.now())


class Syncer:
    def __init__(
        self,
        client: LettaClient,
        progress: SyncProgress,
        holder: SyncRun,
        on_progress: ProgressCallback | None = None,
    ):
        self.client = client
        self.progress = progress
        self.holder = holder  # the SyncRun in whose name claims are taken
        self.on_progress = on_progress or (lambda p: None)
        self.page_size = settings.SYNC_PAGE_SIZE
        self.started_at = timezone.now()
        self.agent_ids: set[str] = set()  # seen on this run's pages: new ones get fetched
        # (kind, id) not mirrored (mirror._well_formed): noted once a run
        self.rejected: set[tuple[str, str]] = set()
        self.rollups_flushed_at = time.monotonic()
        # called after each stored page of discovery: the refresh pipeline's pump, so that a
        # discovering sync fetches the details of what it found while it lists on
        self.after_page: Callable[[], object] = lambda: None

    def _report(self, phase: str | None = None) -> None:
        # after every page and refresh batch; the rollups of the hours it wrote, every few seconds
        if (
            phase == "done"
            or time.monotonic() - self.rollups_flushed_at >= settings.ROLLUP_SYNC_FLUSH_SECONDS
        ):
            rollup.flush()
            self.rollups_flushed_at = time.monotonic()
        if phase:
            self.progress.phase = phase
        self.on_progress(self.progress)

    def _count(self, result) -> None:
        self.progress.steps_created += len(result.created)
        self.progress.steps_updated += len(result.updated)
        self._note_rejected("step", result)

    def _note_rejected(self, kind: str, result) -> None:
        """Rows whose id is no Letta id are skipped, never fatal: an error and a note each, once
        per run (the overlap re-scan reads the newest page twice)."""
        for shown in result.rejected:
            if (kind, shown) not in self.rejected:
                self.rejected.add((kind, shown))
                self.progress.errors += 1
                self.progress.notes.append(f"Skipped a {kind} whose id is not a Letta {kind} id: {shown}")

    def _note_agents(self, page: list[dict]) -> None:
        # only well-formed ids: each becomes an upstream path (GET /v1/agents/{id})
        self.agent_ids.update(p["agent_id"] for p in page if is_letta_id("agent", p.get("agent_id")))

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
        self.sequence_runs()
        self._report("agents")
        try:
            self.sync_agents()
        except (UpstreamUnavailable, UpstreamAuthError):
            raise  # Letta is gone or refusing us: the run fails as for any other request
        except UpstreamError as exc:
            # names are a convenience: a server without the agents routes still syncs its steps
            self.progress.errors += 1
            self.progress.notes.append(f"Agent names not synced: {exc}")

    def _page_forward(self, cursor_name: str, fetch, store, lease: Lease) -> None:
        """Page `order=asc` after the saved cursor until a short page; save it after each page.
        The next page is requested while one is stored: its cursor is known as soon as the page
        arrives, so Letta's latency and our writes overlap. The saved cursor still only ever
        names a stored page, so a kill resumes exactly where the writes stopped."""
        cursor = _cursor(cursor_name)
        with ThreadPoolExecutor(1, thread_name_prefix="sync-list") as lister:
            upcoming = lister.submit(fetch, after=cursor.value or None)
            while True:
                try:
                    page = upcoming.result()
                except UpstreamNotFound:
                    if not cursor.value:
                        raise
                    # The cursor row is gone (e.g. LETTA_BASE_URL now points elsewhere): start
                    # over; upserts make the re-read harmless.
                    log.warning(
                        "Sync cursor %s=%s is unknown upstream; restarting from the beginning",
                        cursor_name,
                        cursor.value,
                    )
                    _save_cursor(cursor, "")
                    upcoming = lister.submit(fetch, after=None)
                    continue
                full = len(page) >= self.page_size
                if full:
                    upcoming = lister.submit(fetch, after=_page_cursor(page))
                try:
                    store(page)
                    self.progress.pages += 1
                    if page:
                        _save_cursor(cursor, _page_cursor(page))
                    lease.renew()
                    self._report()
                    self.after_page()
                except BaseException:
                    upcoming.cancel()
                    raise
                if not full:
                    return

    def _store_runs(self, page: list[dict]) -> None:
        self._note_rejected("run", upsert_runs(page))
        self.progress.runs_seen += len(page)
        self._note_agents(page)

    def _store_steps(self, page: list[dict], **positioning) -> None:
        self._count(upsert_steps(page, **positioning))
        self._note_agents(page)

    def _store_steps_in_order(self, page: list[dict]) -> None:
        self._store_steps(page, in_order=True)

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
            self._store_steps_in_order,
            lease,
        )
        # Overlap: created_at is the transaction start, so a slow commit can surface a step
        # behind the cursor (§5 point 2). The newest page is re-read every run and deduped.
        newest = self.client.list_steps(limit=settings.SYNC_OVERLAP_STEPS, order="desc")
        self._store_steps_in_order(newest[::-1])
        # Feedback others gave to older steps, a bounded slice per run, resuming next run.
        cursor = _cursor("feedback_after")
        page = self.client.list_steps(
            after=cursor.value or None, limit=self.page_size, order="asc", has_feedback="true"
        )
        self._store_steps(page)
        _save_cursor(cursor, _page_cursor(page) if len(page) == self.page_size else "")

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
                if self._list_run_steps(run.id) and run.is_terminal:
                    Run.objects.filter(id=run.id).update(steps_listed_at=listed_at)
                last_id = run.id
            lease.renew()
            self._report()
            self.after_page()

    def _list_run_steps(self, run_id: str) -> bool:
        """Every step of a run, from its first: Letta lists them in their order, which gives
        each its position. False when the run is gone upstream."""
        after, position = None, 0
        while True:
            try:
                page = self.client.list_run_steps(run_id, after=after, limit=self.page_size)
            except UpstreamNotFound:
                self._forget_run(run_id)
                return False
            positions = {p["id"]: position + i for i, p in enumerate(page) if p.get("run_id") == run_id}
            self._store_steps(page, positions=positions)
            position += len(page)
            self.progress.pages += 1
            if len(page) < self.page_size:
                return True
            after = page[-1]["id"]

    def sequence_runs(self) -> None:
        """Steps mirrored before positions existed get theirs from their run's step list; any
        the list no longer has go after the listed ones, so no run is asked for twice."""
        unsequenced = Step.objects.filter(run_position__isnull=True, run__isnull=False)
        run_ids = list(unsequenced.values_list("run_id", flat=True).distinct()[:SEQUENCE_RUNS_PER_RUN])
        for run_id in run_ids:
            self._list_run_steps(run_id)
            leftovers = list(unsequenced.filter(run_id=run_id).order_by("step_time", "id"))
            if leftovers:
                last = Step.objects.filter(run_id=run_id).exclude(run_position=None)
                start = max(last.values_list("run_position", flat=True), default=-1) + 1
                for offset, step in enumerate(leftovers):
                    step.run_position = start + offset
                Step.objects.bulk_update(leftovers, ["run_position"])

    # --- agents ------------------------------------------------------------------------------

    def sync_agents(self) -> None:
        """Names for the ids on steps: new ids are fetched at once, and the whole agent list
        is re-read every SYNC_AGENTS_REFRESH_SECONDS (renames, model changes, tags)."""
        cursor = _cursor("agents_listed_at")
        listed_at = _parse_time(cursor.value)
        if listed_at is None or timezone.now() - listed_at > timedelta(
            seconds=settings.SYNC_AGENTS_REFRESH_SECONDS
        ):
            started, after = timezone.now(), None
            while True:
                page = self.client.list_agents(after=after, limit=self.page_size)
                self._note_rejected("agent", upsert_agents(page))
                self.progress.pages += 1
                if len(page) < self.page_size or page[-1]["id"] == after:
                    break
                after = page[-1]["id"]
            _save_cursor(cursor, started.isoformat())
        known = set(Agent.objects.filter(id__in=self.agent_ids).values_list("id", flat=True))
        missing = []
        for agent_id in sorted(self.agent_ids - known)[:NEW_AGENTS_PER_RUN]:
            try:
                self._note_rejected("agent", upsert_agents([self.client.get_agent(agent_id)]))
            except UpstreamNotFound:
                missing.append(agent_id)
        if missing:
            note_missing_agents(missing)

    # --- phase 2: refresh (refresh.py) ----------------------------------------------

    def refresher(self) -> Refresher:
        def count(ok: bool) -> None:
            self.progress.steps_refreshed += 1
            self.progress.errors += 0 if ok else 1

        return Refresher(self.client, self.holder, fresh_since=self.started_at, on_refreshed=count)

    @contextmanager
    def refreshing(self, limit: int | None = None) -> Iterator[Pipeline]:
        """The refresh pipeline of this run, open across discovery and the refresh phase."""
        refresher = self.refresher()
        try:
            with refresher.pipeline(self.page_size, self._report, limit) as pipeline:
                yield pipeline
        finally:
            self.note_claims(refresher)

    def note_claims(self, refresher: Refresher) -> None:
        holders = SyncRun.objects.in_bulk([*refresher.reclaimed, *refresher.skipped])
        for holder_id, n in sorted(refresher.reclaimed.items()):
            self.progress.steps_reclaimed += n
            self.progress.notes.append(
                f"{n} step(s) taken over from {describe(holders.get(holder_id))}, which stopped."
            )
        for holder_id, n in sorted(refresher.skipped.items()):
            self.progress.steps_skipped += n
            self.progress.notes.append(f"{n} step(s) skipped: held by {describe(holders.get(holder_id))}.")

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
        gone = []
        for step_id in ids:
            try:
                payload = self.client.get_step(step_id)
            except UpstreamNotFound:
                gone.append(step_id)  # deleted in Letta: not our error, and kept here
                continue
            self._count(upsert_steps([payload]))
        if newly_gone := Step.objects.filter(pk__in=gone).mark_gone_upstream():
            self.progress.notes.append(
                f"{newly_gone} step(s) no longer in Letta (deleted there): kept here, marked deleted in Letta."
            )


def run_sync(
    client: LettaClient,
    *,
    trigger: str = "schedule",
    on_progress: ProgressCallback | None = None,
    refresh_limit: int | None = None,
    reverify_batch: int | None = None,
) -> SyncRun:
    """One complete sync run, recorded as a SyncRun whatever happens. Asked for by someone (the
    sync_steps command, a benchmark): it runs whatever else is running."""
    sync_run = SyncRun.objects.create(trigger=trigger, upstream_url=client.base_url)
    return _run(client, sync_run, on_progress, refresh_limit, reverify_batch)


def run_sync_unless_busy(
    client: LettaClient, *, trigger: str = "schedule", max_running: int
) -> SyncRun | None:
    """The schedule's sync: run_sync, unless `max_running` syncs are alive already. Then nothing
    is recorded (a tick every few seconds behind a long sync would bury the history) and None
    comes back at once."""
    sync_run = SyncRun.objects.start_unless_busy(max_running, trigger=trigger, upstream_url=client.base_url)
    if sync_run is None:
        log.debug("Sync skipped: %d sync(s) already running", max_running)
        return None
    return _run(client, sync_run, None, None, None)


def _run(
    client: LettaClient,
    sync_run: SyncRun,
    on_progress: ProgressCallback | None,
    refresh_limit: int | None,
    reverify_batch: int | None,
) -> SyncRun:
    progress = SyncProgress()
    if abandoned := SyncRun.objects.exclude(pk=sync_run.pk).mark_abandoned():
        progress.notes.append(
            f"{abandoned} earlier sync run(s) marked abandoned: their heartbeat had stopped."
        )
    syncer = Syncer(client, progress, sync_run, on_progress)
    try:
        with _recorded(sync_run, progress, client):
            _run_phases(syncer, Lease("discovery", sync_run), refresh_limit, reverify_batch)
    finally:
        syncer._report("done")
    return sync_run


@contextmanager
def _recorded(sync_run: SyncRun, progress: SyncProgress, client: LettaClient) -> Iterator[None]:
    """Run the body under the run's heartbeat and record how it ended: success, an upstream
    failure (recorded, not raised: the next run retries), or a bug (recorded, then raised)."""
    requests_before = client.requests_made
    try:
        with Heartbeat(sync_run):
            yield
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
        _finish(sync_run, progress, client.requests_made - requests_before)


def _run_phases(syncer: Syncer, lease: Lease, refresh_limit: int | None, reverify_batch: int | None) -> None:
    """Discovery (if no live sync holds the lease) refreshes what it finds as it goes; then
    every step due is refreshed. A sync that could not discover keeps refreshing while the
    one that does finds more, so N syncs share a backlog instead of one listing it alone."""
    progress = syncer.progress
    with syncer.refreshing(refresh_limit) as pipeline:
        if lease.acquire():
            if lease.taken_from is not None:
                progress.notes.append(
                    f"Discovery taken over from {describe(lease.taken_from)}, which stopped."
                )
            syncer.after_page = pipeline.pump_surplus
            try:
                syncer.discover(lease)
            finally:
                syncer.after_page = lambda: None
                lease.release()
        else:
            progress.mode = _cursor("mode").value
            progress.discovery_skipped = True
            progress.notes.append(f"Discovery skipped: {describe(lease.held_by)} is discovering.")
        syncer._report("details")
        pipeline.run(keep_going=lease.held_elsewhere)
    syncer.reverify(settings.SYNC_REVERIFY_BATCH if reverify_batch is None else reverify_batch)


def _finish(sync_run: SyncRun, progress: SyncProgress, requests: int) -> None:
    if SyncRun.objects.filter(pk=sync_run.pk, status=SyncRun.Status.ABANDONED).exists():
        # another sync saw our heartbeat lag and took our claims: say so rather than "success"
        progress.notes.append(
            f"Marked abandoned while still working (its heartbeat lagged); it would have ended {sync_run.status}."
        )
        sync_run.status = SyncRun.Status.ABANDONED
    sync_run.finished_at = timezone.now()
    sync_run.heartbeat_at = sync_run.finished_at
    sync_run.mode = progress.mode
    sync_run.requests = requests
    for name in (
        "pages",
        "steps_created",
        "steps_updated",
        "steps_refreshed",
        "runs_seen",
        "errors",
        "discovery_skipped",
        "steps_skipped",
        "steps_reclaimed",
    ):
        setattr(sync_run, name, getattr(progress, name))
    sync_run.notes = "\n".join(progress.notes)
    sync_run.save()


def refresh_steps(client: LettaClient, step_ids: list[str]) -> SyncRun:
    """Re-sync the given steps now (admin action), whatever their schedule, as a SyncRun of its
    own (its heartbeat holds the claims); steps another live sync holds are skipped and said."""
    progress = SyncProgress()
    sync_run = SyncRun.objects.create(trigger="admin", upstream_url=client.base_url)
    syncer = Syncer(client, progress, sync_run)
    refresher = syncer.refresher()
    with _recorded(sync_run, progress, client):
        try:
            for start in range(0, len(step_ids), settings.SYNC_PAGE_SIZE):
                batch = step_ids[start : start + settings.SYNC_PAGE_SIZE]
                claimed = refresher.claim(batch, only_if_due=False)
                refresher.note_held([i for i in batch if i not in claimed])
                refresher.refresh(claimed, refetch=True)
                rollup.flush()
        finally:
            syncer.note_claims(refresher)
    return sync_run


def prune_history(now: datetime | None = None) -> int:
    """Keep the sync history bounded (a run every 5 s is 17,000 rows a day): the newest
    SYNC_HISTORY_KEEP runs, and failed or abandoned ones up to SYNC_HISTORY_FAILURES_KEEP and
    SYNC_HISTORY_FAILURE_DAYS old. Running runs are never deleted."""
    now = now or timezone.now()
    finished = SyncRun.objects.exclude(status=SyncRun.Status.RUNNING)
    failures = finished.filter(status__in=[SyncRun.Status.FAILED, SyncRun.Status.ABANDONED])
    deleted = 0
    oldest_kept = _nth_newest_started(SyncRun.objects.all(), settings.SYNC_HISTORY_KEEP)
    if oldest_kept:
        deleted += finished.filter(started_at__lt=oldest_kept, status=SyncRun.Status.SUCCESS).delete()[0]
    failure_cutoff = now - timedelta(days=settings.SYNC_HISTORY_FAILURE_DAYS)
    oldest_failure = _nth_newest_started(failures, settings.SYNC_HISTORY_FAILURES_KEEP)
    if oldest_failure:
        failure_cutoff = max(failure_cutoff, oldest_failure)
    old_failures = failures.filter(started_at__lt=failure_cutoff)
    if oldest_kept:
        old_failures = old_failures.filter(started_at__lt=oldest_kept)
    deleted += old_failures.delete()[0]
    return deleted


def _nth_newest_started(runs, n: int) -> datetime | None:
    return next(iter(runs.order_by("-started_at").values_list("started_at", flat=True)[n - 1 : n]), None)


def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
