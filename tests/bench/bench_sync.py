"""Sync throughput against the simulator's raw serving rate, and memory, at two sizes.

    make bench-sync                                 quick: 1 k and 5 k steps
    make bench-sync BENCH_ARGS="--steps 100000"     the issue's figures: 10 k and 100 k steps

For each size (a tenth of --steps, then --steps) a frozen simulator world is served by its own
process (`letta_simulator --indexed-lists`, so list pages cost the same at any depth), and:

- raw: the requests a full sync makes (every run and step list page, then metrics, messages
  until an empty page, and the trace of each terminal step), with the same client, keep-alive
  connections and concurrency (SYNC_FETCH_CONCURRENCY) as the sync, storing nothing. Its steps
  per second is the simulator's raw serving rate on this machine, measured in the same run.
- sync: `run_sync` into an empty PostgreSQL database; steps/s, sync/raw rate (the target is
  >= 0.8) and the requests it made per step.
- memory: the process's RSS growth over the sync (peak minus before, sampled every 20 ms) and,
  with --tracemalloc, the Python heap peak (tracemalloc slows the sync, so its throughput
  figures are then not comparable). Flat memory: the same figures at both sizes.
"""

import argparse
import os
import resource
import subprocess
import sys
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .cpu import CpuSplit

ROOT = Path(__file__).resolve().parents[2]
# Its own variable: this bench empties its database, never the seeded one of BENCH_DATABASE_URL.
BENCH_DB = os.environ.get(
    "BENCH_SYNC_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/letta_dashboard_bench"
)
os.environ["DATABASE_URL"] = BENCH_DB
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
sys.path.insert(0, str(ROOT))

# Steps per run of the simulator's generated history (seed 7): sizes the world for --steps.
STEPS_PER_RUN = 1.73
PAGE = 100


@dataclass
class Result:
    steps: int
    raw_seconds: float
    raw_requests: int
    sync_seconds: float
    sync_requests: int
    rss_growth: int
    rss_peak: int
    heap_peak: int | None
    once: str = ""
    derived: dict | None = None
    scaled: list = field(default_factory=list)  # sync_scaleout.ScaleOut, one per worker count
    fingerprint: dict | None = None
    raw_cpu: str = ""  # CPU ms per step of the simulator, PostgreSQL and the fetching process
    sync_cpu: str = ""

    def row(self, label: str) -> str:
        raw_rate, sync_rate = self.steps / self.raw_seconds, self.steps / self.sync_seconds
        heap = f"{self.heap_peak / 2**20:>8.1f} MB" if self.heap_peak is not None else f"{'-':>11}"
        return (
            f"{label:>6} {self.steps:>7} {raw_rate:>9.0f} {sync_rate:>9.0f} {sync_rate / raw_rate:>9.2f} "
            f"{self.sync_requests / self.steps:>9.2f} {self.rss_growth / 2**20:>8.1f} MB "
            f"{self.rss_peak / 2**20:>7.0f} MB {heap}"
        )


HEADER = (
    f"{'size':>6} {'steps':>7} {'raw st/s':>9} {'sync st/s':>9} {'sync/raw':>9} {'req/step':>9} "
    f"{'RSS growth':>11} {'RSS peak':>10} {'heap peak':>11}"
)


def start_simulator(runs: int) -> tuple[subprocess.Popen, str, int]:
    """A frozen world of `runs` runs in its own process; waits for its 'listening' line."""
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "letta_simulator",
            "--port",
            "0",
            "--initial-runs",
            str(runs),
            "--new-run-every",
            "0",
            "--indexed-lists",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    said = []
    while "listening on" not in (line := process.stdout.readline()):
        said.append(line)  # "Letta simulator listening on <url> (<r> runs, <s> steps, ...)"
        if not line:
            process.kill()
            raise SystemExit("the simulator did not start:\n" + "".join(said))
    url = line.split("listening on ", 1)[1].split()[0]
    steps = int(line.split(" runs, ", 1)[1].split()[0])
    return process, url, steps


def reset_database() -> None:
    """Every table emptied by one TRUNCATE; the audit trail's append-only triggers (which refuse
    it) are switched off around it, as a database owner could (tests/db_flush.py does the same)."""
    from django.db import connection, transaction

    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    quoted = ", ".join(connection.ops.quote_name(t) for t in tables)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY")
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


def raw_fetch(url: str, concurrency: int) -> tuple[float, int]:
    """The baseline: the requests of a full sync, storing nothing. (seconds, requests)"""
    from steps.sync.upstream import LettaClient

    def details(step_id: str) -> None:
        client.get_metrics(step_id)
        for _ in client.iter_messages(step_id):
            pass
        client.get_trace(step_id)

    start = time.perf_counter()
    with LettaClient(url) as client, ThreadPoolExecutor(concurrency) as pool:
        after = None
        while page := client.list_runs(after=after, limit=PAGE, order="asc"):
            after = page[-1]["id"]
            if len(page) < PAGE:
                break
        after, fetching = None, []
        while page := client.list_steps(after=after, limit=PAGE, order="asc"):
            # details of one page in flight while the next is listed, like the sync's pipeline
            for future in fetching:
                future.result()
            terminal = [step["id"] for step in page if step.get("status") != "pending"]
            fetching = [pool.submit(details, step_id) for step_id in terminal]
            after = page[-1]["id"]
            if len(page) < PAGE:
                break
        for future in fetching:
            future.result()
    return time.perf_counter() - start, client.requests_made


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


class RssSampler(threading.Thread):
    """Peak resident memory while the sync runs (ru_maxrss only ever grows: useless per pass)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.before = self.peak = rss()
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.02):
            self.peak = max(self.peak, rss())

    def stop(self) -> None:
        self.stopped.set()
        self.join()
        self.peak = max(self.peak, rss())


def full_sync(url: str, heap: bool):
    from steps.sync import run_sync
    from steps.sync.upstream import LettaClient

    reset_database()
    httpx.delete(f"{url}/_simulator/tally")
    sampler = RssSampler()
    sampler.start()
    if heap:
        tracemalloc.start()
    start = time.perf_counter()
    with LettaClient(url) as client:
        sync_run = run_sync(client, trigger="bench", reverify_batch=0)
    elapsed = time.perf_counter() - start
    heap_peak = tracemalloc.get_traced_memory()[1] if heap else None
    tracemalloc.stop()
    sampler.stop()
    assert sync_run.status == "success", sync_run.error_message
    return elapsed, sync_run, sampler, heap_peak


def measure(target_steps: int, heap: bool, concurrency: int, workers: list[int], tick: float) -> Result:
    from steps.models import Step

    from .sync_scaleout import derived_exactness, fingerprint, once, read_tally, scale_out

    runs = max(1, round(target_steps / STEPS_PER_RUN))
    print(f"  {runs} runs: starting the simulator ...", flush=True)
    simulator, url, steps = start_simulator(runs)
    try:
        print(f"  {steps} steps: raw requests ...", flush=True)
        raw_cpu = CpuSplit({"simulator": simulator.pid}).start()
        raw_seconds, raw_requests = raw_fetch(url, concurrency)
        raw_cpu.stop()
        print(f"  raw {raw_seconds:.1f} s, CPU per step {raw_cpu.per(steps)}; sync ...", flush=True)
        sync_cpu = CpuSplit({"simulator": simulator.pid}).start()
        elapsed, sync_run, sampler, heap_peak = full_sync(url, heap)
        sync_cpu.stop()
        print(f"  sync {elapsed:.1f} s, CPU per step {sync_cpu.per(steps)}", flush=True)
        assert Step.objects.count() == steps, (Step.objects.count(), steps)
        result = Result(
            steps=steps,
            raw_seconds=raw_seconds,
            raw_requests=raw_requests,
            sync_seconds=elapsed,
            sync_requests=sync_run.requests,
            rss_growth=sampler.peak - sampler.before,
            rss_peak=sampler.peak,
            heap_peak=heap_peak,
            once=once(read_tally(url)),
            fingerprint=fingerprint(),
            derived=derived_exactness(),
            raw_cpu=raw_cpu.per(steps),
            sync_cpu=sync_cpu.per(steps),
        )
        for count in workers:
            print(f"  {count} sync worker processes ...", flush=True)
            scaled = scale_out(url, steps, count, tick, reset_database, simulator.pid)
            print(f"  {count} workers {scaled.seconds:.1f} s, CPU per step {scaled.cpu}", flush=True)
            result.scaled.append(scaled)
    finally:
        simulator.terminate()
        simulator.wait()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=5000, help="the larger size; the smaller is a tenth")
    parser.add_argument("--tracemalloc", action="store_true", help="also the Python heap peak (slower sync)")
    parser.add_argument(
        "--workers",
        default="2",
        help="sync worker process counts for the scale-out case, comma-separated (0: none)",
    )
    parser.add_argument("--tick", type=float, default=1.0, help="seconds between the scale-out's beat ticks")
    parser.add_argument("--only-large", action="store_true", help="skip the smaller size")
    args, _ = parser.parse_known_args()

    import django
    from django.conf import settings
    from django.core.management import call_command

    subprocess.run(
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", BENCH_DB.rsplit("/", 1)[1]], capture_output=True
    )
    django.setup()
    call_command("migrate", verbosity=0)
    warn_without_autovacuum()
    concurrency = settings.SYNC_FETCH_CONCURRENCY

    workers = [int(n) for n in args.workers.split(",") if int(n) > 0]
    sizes = [("small", max(1, args.steps // 10)), ("large", args.steps)][1 if args.only_large else 0 :]
    results = {}
    for label, steps in sizes:
        print(f"{label}: about {steps} steps", flush=True)
        results[label] = measure(steps, args.tracemalloc, concurrency, workers, args.tick)

    print(f"\nsync against the simulator's raw serving rate ({concurrency} requests in flight, same run)")
    print(HEADER)
    for label, result in results.items():
        print(result.row(label))
    large = results["large"]
    small = results.get("small", large)
    print(
        f"\nthroughput: the sync serves {large.steps / large.sync_seconds:.0f} steps/s, "
        f"{large.raw_seconds / large.sync_seconds:.2f}x the raw rate at {large.steps} steps (target >= 0.8); "
        f"details fetched {large.once}; derived counters: {describe(large.derived)}"
    )
    for label, result in results.items():
        print(f"CPU ms per step, {label}: raw {result.raw_cpu}; sync {result.sync_cpu}")
    print_scale_out(results)
    print(
        f"memory: RSS growth {small.rss_growth / 2**20:.1f} MB at {small.steps} steps, "
        f"{large.rss_growth / 2**20:.1f} MB at {large.steps} ({large.steps / small.steps:.0f}x the steps; flat = equal)"
        + (
            f"; heap peak {small.heap_peak / 2**20:.1f} / {large.heap_peak / 2**20:.1f} MB"
            if small.heap_peak is not None and large.heap_peak is not None
            else ""
        )
    )


def warn_without_autovacuum() -> None:
    """The sync fills emptied tables; their statistics follow only if autovacuum analyzes them
    as they grow (PostgreSQL's default). With it off, plans made for empty tables stay: at
    100 k steps a batch's message lookup was a sequential scan (93 ms; 2 ms after ANALYZE), and
    PostgreSQL's CPU per step doubled. Say so rather than measure a machine no deployment is."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        if cursor.fetchone()[0] != "on":
            print(
                "WARNING: PostgreSQL's autovacuum is off here: the sync's tables keep the statistics of "
                "empty tables and its figures are not a deployment's (ALTER SYSTEM SET autovacuum = on; "
                "SELECT pg_reload_conf())",
                flush=True,
            )


def describe(verdicts: dict | None) -> str:
    return ", ".join(f"{name} {verdict}" for name, verdict in (verdicts or {}).items())


def print_scale_out(results: dict[str, Result]) -> None:
    from .sync_scaleout import once

    if not any(result.scaled for result in results.values()):
        return
    print("\nscale-out: sync worker processes (celery -Q sync), one PostgreSQL and Redis, same simulator")
    print(
        f"{'size':>6} {'steps':>7} {'workers':>7} {'st/s':>7} {'x raw':>6} {'goal':>5}  {'RSS growth per worker':<24} fetched"
    )
    for label, result in results.items():
        raw_rate = result.steps / result.raw_seconds
        for scaled in result.scaled:
            rate = result.steps / scaled.seconds
            goal = 0.95 if scaled.workers > 1 else 0.8
            growth = " / ".join(f"{g / 2**20:.0f} MB" for g in scaled.rss_growth)
            print(
                f"{label:>6} {result.steps:>7} {scaled.workers:>7} {rate:>7.0f} {rate / raw_rate:>6.2f} "
                f"{goal:>5.2f}  {growth:<24} {once(scaled.tally)}"
            )
            same = scaled.fingerprint == result.fingerprint
            print(
                f"{'':>22} mirror {'identical to' if same else 'DIFFERS from'} the one-process sync's"
                + ("" if same else f" ({scaled.fingerprint} vs {result.fingerprint})")
                + f"; derived counters: {describe(scaled.derived)}; {scaled.dirty_left} dirty hours left"
            )
            print(f"{'':>22} PostgreSQL sessions (sampled): {scaled.waits}")
            print(f"{'':>22} CPU ms per step: {scaled.cpu}")
            print(f"{'':>22} sync runs: " + "; ".join(scaled.runs))


if __name__ == "__main__":
    main()
