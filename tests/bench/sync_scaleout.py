"""The sync scaled out: sync worker processes started as production starts them, sharing one
PostgreSQL and one Redis, on the backlog of a frozen simulator world (bench_sync.py drives it).

Each worker is `celery -A dashboard worker -Q sync --concurrency 1` (docker-compose's
sync-worker, `--scale sync-worker=N`), with SYNC_MAX_CONCURRENT=N. This module plays beat: a
`steps.tasks.sync_steps` tick every --tick seconds, expiring after one interval, as
dashboard/celery.py sends them. The clock runs from the first tick until every terminal step
has its details.

Two knobs differ from a deployment, the same ones the one-process figure leaves out:
SYNC_REVERIFY_BATCH=0 (no re-reads of old steps by id) and a settle delay longer than the run
(the second read of each step 30 s after its details is a designed re-read, not duplicated
work). With them, every step's metrics, messages and trace are asked for exactly once if the
claims work, and the simulator's tally (GET /_simulator/tally) says whether they were.

Exactness: the mirror's fingerprint (steps, messages, metrics, traces, tools; what upstream
data decides) must equal the one-process sync's, and the counters derived from it (facet counts,
hourly rollups) must equal a recount from the tables.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .cpu import CpuSplit, tree_rss

ROOT = Path(__file__).resolve().parents[2]
# A settle delay no run reaches: a step's second read is a schedule, not a duplicate fetch.
NO_SETTLE_SECONDS = "86400"


@dataclass
class Workers:
    """Sync worker processes (each a Celery parent and its one pool child)."""

    processes: list[subprocess.Popen]
    logs: list[Path]
    rss_start: list[int] = field(default_factory=list)
    rss_peak: list[int] = field(default_factory=list)


def start_workers(count: int, env: dict[str, str], workdir: Path) -> Workers:
    processes, logs = [], []
    for number in range(1, count + 1):
        log = workdir / f"sync-worker-{number}.log"
        argv = [sys.executable, "-m", "celery", "-A", "dashboard", "worker", "-l", "info"]
        argv += ["-Q", "sync", "-n", f"bench-sync{number}@%h", "--concurrency", "1"]
        with open(log, "wb") as out:
            processes.append(subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))
        logs.append(log)
    deadline = time.monotonic() + 120
    for process, log in zip(processes, logs, strict=True):
        while b" ready." not in log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                stop_workers(Workers(processes, logs))
                raise SystemExit(f"a sync worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
    workers = Workers(processes, logs)
    workers.rss_start = [tree_rss(p.pid) for p in processes]
    workers.rss_peak = list(workers.rss_start)
    return workers


def stop_workers(workers: Workers) -> None:
    for process in workers.processes:
        if process.poll() is None:
            process.terminate()  # warm shutdown: the running sync ends its batch
    for process in workers.processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Beat(threading.Thread):
    """Sends the schedule's tick every `interval` seconds, as celery beat does."""

    def __init__(self, interval: float):
        super().__init__(daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        from dashboard.celery import app

        while True:
            app.send_task("steps.tasks.sync_steps", queue="sync", expires=max(self.interval, 1))
            if self.stopped.wait(self.interval):
                return


def purge_sync_queue() -> None:
    from dashboard.celery import app

    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge("sync")


class WaitSampler:
    """What the workers' PostgreSQL sessions are doing, sampled (pg_stat_activity): running,
    waiting on a lock (a counter row, a claim), or waiting for the worker (ClientRead: Python)."""

    def __init__(self):
        self.samples: Counter[str] = Counter()

    def sample(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
            for state, kind, event in cursor.fetchall():
                if state == "idle":
                    continue
                self.samples["running" if kind is None else f"{state}: {kind}:{event}"] += 1

    def top(self, n: int = 5) -> str:
        total = sum(self.samples.values()) or 1
        return ", ".join(f"{what} {count / total:.0%}" for what, count in self.samples.most_common(n))


def run_summary() -> list[str]:
    """Each SyncRun of the scale-out: discovered or not, steps refreshed, seconds."""
    from steps.models import SyncRun

    lines = []
    for run in SyncRun.objects.order_by("pk"):
        seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0
        role = "refresh only" if run.discovery_skipped else f"discovered {run.steps_created}"
        lines.append(f"#{run.pk} {role}, refreshed {run.steps_refreshed} in {seconds:.1f} s")
    return lines


def detail_progress() -> tuple[int | None, int]:
    """(steps mirrored, terminal steps still without details), polled every 0.25 s, so read from
    an index while work is left: a count over the whole table (0.5 GB of heap at 100 k steps)
    four times a second was most of PostgreSQL's CPU per step at that size, paid by the bench,
    not the sync. The partial index of undetailed steps holds those still scheduled; once it
    says none, exact counts (every step, any undetailed one) decide. None: not counted yet."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM steps_step WHERE refresh_due_at IS NOT NULL "
            "AND details_synced_at IS NULL AND status <> 'pending'"
        )
        if undetailed := cursor.fetchone()[0]:
            return None, undetailed
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE details_synced_at IS NULL AND status <> 'pending') "
            "FROM steps_step"
        )
        return cursor.fetchone()


@dataclass
class ScaleOut:
    workers: int
    seconds: float
    tally: dict
    rss_growth: list[int]
    rss_peak: list[int]
    fingerprint: dict
    derived: dict[str, str]
    dirty_left: int
    waits: str = ""
    runs: list[str] = field(default_factory=list)
    cpu: str = ""  # CPU ms per step: simulator, workers, PostgreSQL, this process


def scale_out(
    url: str, steps: int, count: int, tick: float, reset, simulator_pid: int | None = None
) -> ScaleOut:
    """`count` sync workers on an emptied database until every terminal step has details."""
    reset()
    purge_sync_queue()
    httpx.delete(f"{url}/_simulator/tally")
    env = os.environ | {
        "LETTA_BASE_URL": url,
        "SYNC_MAX_CONCURRENT": str(count),
        "SYNC_INTERVAL_SECONDS": str(tick),
        "SYNC_REVERIFY_BATCH": "0",
        "SYNC_SETTLE_SECONDS": NO_SETTLE_SECONDS,
    }
    env.pop("LETTA_SIMULATOR_NONCE", None)
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as workdir:
        workers = start_workers(count, env, Path(workdir))
        beat = Beat(tick)
        try:
            waits = WaitSampler()
            pids = {"simulator": simulator_pid} if simulator_pid else {}
            cpu = CpuSplit(pids | {"workers": [p.pid for p in workers.processes]}).start()
            start = time.perf_counter()
            beat.start()
            deadline = time.monotonic() + max(600, steps / 5)
            while True:
                mirrored, undetailed = detail_progress()
                waits.sample()
                for i, process in enumerate(workers.processes):
                    workers.rss_peak[i] = max(workers.rss_peak[i], tree_rss(process.pid))
                if mirrored is not None and mirrored >= steps and undetailed == 0:
                    break
                if time.monotonic() > deadline or any(p.poll() is not None for p in workers.processes):
                    tails = "\n".join(log.read_text()[-2000:] for log in workers.logs)
                    raise SystemExit(
                        f"scale-out stalled at {mirrored} steps, {undetailed} undetailed\n{tails}"
                    )
                time.sleep(0.25)
            seconds = time.perf_counter() - start
            cpu.stop()
            # now: a worker stopping finishes its run, whose retries (a trace Letta has not got
            # yet is asked for again 5 s later, TRACE_BACKOFF) are a schedule, not duplicates
            tally = read_tally(url)
        finally:
            beat.stopped.set()
            stop_workers(workers)
    from steps.models import DirtyHour

    dirty_left = DirtyHour.objects.count()
    return ScaleOut(
        workers=count,
        seconds=seconds,
        tally=tally,
        rss_growth=[peak - start for peak, start in zip(workers.rss_peak, workers.rss_start, strict=True)],
        rss_peak=workers.rss_peak,
        fingerprint=fingerprint(),
        derived=derived_exactness(),
        dirty_left=dirty_left,
        waits=waits.top(),
        runs=run_summary(),
        cpu=cpu.per(steps),
    )


def read_tally(url: str) -> dict:
    """The simulator's tally, with the steps whose metrics were asked for more than once, and
    which of those Letta has no trace for (their details are asked again on TRACE_BACKOFF's
    schedule, 5 s, 10 s, ... later, by design: traces are written after the step)."""
    from steps.models import Step

    tally = httpx.get(f"{url}/_simulator/tally", params={"repeated": "step_metrics"}).json()
    again = {subject.split("?")[0] for subject in tally.get("step_metrics", {}).pop("repeated_subjects", [])}
    untraced = set(
        Step.objects.filter(pk__in=again).exclude(trace_state="found").values_list("pk", flat=True)
    )
    tally["again"] = {"steps": len(again), "trace_retries": len(untraced)}
    return tally


def once(tally: dict) -> str:
    """'exactly once', or what was asked for more than once and why, from read_tally."""
    again = tally.get("again", {"steps": 0, "trace_retries": 0})
    pages = tally.get("list_steps", {}).get("repeated", 0)
    others = again["steps"] - again["trace_retries"]
    said = (
        "exactly once" if not others else f"{others} steps' details fetched twice or more (DUPLICATED WORK)"
    )
    if again["trace_retries"]:
        said += (
            f"; {again['trace_retries']} steps with no trace in Letta asked again on the trace-retry schedule"
        )
    if pages:
        said += f"; {pages} step list page(s) read again (the newest, re-scanned each run by design)"
    return said


# What upstream data decides, per table (ids and structure; not times of our own clock).
FINGERPRINT_SQL = {
    "steps": "SELECT id, status, run_position, details_synced_at IS NOT NULL, trace_state FROM steps_step "
    "ORDER BY 1",
    "messages": "SELECT step_id, message_id, item_key, position FROM steps_message ORDER BY 1, 2, 3",
    "metrics": "SELECT step_id, step_ns FROM steps_stepmetrics ORDER BY 1",
    "traces": "SELECT step_id, upstream_id FROM steps_providertrace ORDER BY 1, 2",
    "tools": "SELECT step_id, tool_name FROM steps_steptool ORDER BY 1, 2",
}


def fingerprint() -> dict[str, tuple[int, str]]:
    """Per table: (rows, digest of its sorted rows)."""
    from django.db import connection

    result = {}
    with connection.cursor() as cursor:
        for name, sql in FINGERPRINT_SQL.items():
            cursor.execute(sql)
            digest, rows = hashlib.sha256(), 0
            while batch := cursor.fetchmany(10_000):
                rows += len(batch)
                for row in batch:
                    digest.update(repr(row).encode())
            result[name] = (rows, digest.hexdigest()[:12])
    return result


def derived_exactness() -> dict[str, str]:
    """Facet counts and hourly rollups as the sync left them (after the sweep's flush of marks
    left behind), against a recount from the tables."""
    from django.db import connection

    from steps import facets
    from steps.overview import rollup

    def rows(sql: str) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return sorted(cursor.fetchall(), key=repr)

    facet_sql = "SELECT dimension, value, steps FROM steps_facetcount WHERE steps <> 0"
    rollup_sql = (
        "SELECT hour, agent_id, model, provider_name, status, error_type, hidden, steps, prompt_tokens, "
        "completion_tokens, duration_ns FROM steps_hourlyrollup WHERE steps <> 0"
    )
    daily_sql = rollup_sql.replace("steps_hourlyrollup", "steps_dailyrollup")
    rollup.flush()
    kept = {"facet counts": rows(facet_sql), "hourly rollups": rows(rollup_sql), "daily": rows(daily_sql)}
    facets.rebuild()
    rollup.rebuild()
    recounted = {
        "facet counts": rows(facet_sql),
        "hourly rollups": rows(rollup_sql),
        "daily": rows(daily_sql),
    }
    verdicts = {}
    for name in kept:
        differ = len(set(kept[name]) ^ set(recounted[name]))
        verdicts[name] = "exact" if not differ else f"{differ} rows differ from a recount"
    return verdicts
