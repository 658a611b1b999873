"""Sync throughput and memory, as ratios against baselines measured in the same run.

    make bench-sync            (or: python -m tests.bench.bench_sync --runs 300)

- throughput: a full sync from the simulator (separate process) into PostgreSQL, against the
  baseline of making exactly the same HTTP requests with the same client and storing nothing.
  The ratio is what the mirror costs on top of talking to Letta.
- memory: Python heap peak (tracemalloc) of a sync of N runs and of 4N runs. Flat memory
  means a ratio near 1, however many steps there are.
"""

import argparse
import os
import socket
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Its own variable: this bench empties its database, never the seeded one of BENCH_DATABASE_URL.
BENCH_DB = os.environ.get(
    "BENCH_SYNC_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/letta_dashboard_bench"
)
os.environ["DATABASE_URL"] = BENCH_DB
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_simulator(runs: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "letta_simulator",
            "--port",
            str(port),
            "--initial-runs",
            str(runs),
            "--new-run-every",
            "0",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(300):
        try:
            httpx.get(f"{url}/_simulator/state", timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the simulator did not start")


def reset_database() -> None:
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)


def raw_fetch(url: str, step_ids: list[str]) -> float:
    """The baseline: the requests a full sync makes, with nothing stored."""
    from steps.upstream import LettaClient

    start = time.perf_counter()
    with LettaClient(url) as client:
        after = None
        while page := client.list_runs(after=after, limit=100):
            after = page[-1]["id"]
            if len(page) < 100:
                break
        after = None
        while page := client.list_steps(after=after, limit=100):
            after = page[-1]["id"]
            if len(page) < 100:
                break
        for step_id in step_ids:
            client.get_metrics(step_id)
            list(client.iter_messages(step_id))
            client.get_trace(step_id)
    return time.perf_counter() - start


def full_sync(url: str) -> tuple[float, int, int, int]:
    from steps.models import Step
    from steps.sync import run_sync
    from steps.upstream import LettaClient

    reset_database()
    tracemalloc.start()
    start = time.perf_counter()
    with LettaClient(url) as client:
        sync_run = run_sync(client, trigger="bench", reverify_batch=0)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert sync_run.status == "success", sync_run.error_message
    return elapsed, Step.objects.count(), sync_run.requests, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=250, help="simulated runs (about 2.5 steps each)")
    args, _ = parser.parse_known_args()

    import django
    from django.core.management import call_command

    subprocess.run(
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", BENCH_DB.rsplit("/", 1)[1]], capture_output=True
    )
    django.setup()
    call_command("migrate", verbosity=0)

    from steps.models import Step

    results = {}
    for label, runs in (("N", args.runs), ("4N", args.runs * 4)):
        simulator, url = start_simulator(runs)
        try:
            elapsed, steps, requests, peak = full_sync(url)
            ids = list(Step.objects.values_list("id", flat=True))
            baseline = raw_fetch(url, [i for i in ids if Step.objects.get(pk=i).status != "pending"])
        finally:
            simulator.terminate()
            simulator.wait()
        results[label] = (runs, steps, requests, elapsed, baseline, peak)

    print(
        f"{'':4} {'runs':>6} {'steps':>6} {'requests':>8} {'sync s':>8} {'steps/s':>8} "
        f"{'raw fetch s':>11} {'sync/raw':>8} {'heap peak':>10}"
    )
    for label, (runs, steps, requests, elapsed, baseline, peak) in results.items():
        print(
            f"{label:4} {runs:>6} {steps:>6} {requests:>8} {elapsed:>8.2f} {steps / elapsed:>8.0f} "
            f"{baseline:>11.2f} {elapsed / baseline:>8.2f} {peak / 2**20:>8.1f} MB"
        )
    small, large = results["N"], results["4N"]
    print(
        f"\nmemory: heap peak 4N / N = {large[5] / small[5]:.2f} for {large[1] / small[1]:.1f}x the steps "
        f"(1.0 = flat)"
    )
    print(
        f"throughput: the sync takes {small[3] / small[4]:.2f}x / {large[3] / large[4]:.2f}x the time of "
        f"the same requests with nothing stored"
    )


if __name__ == "__main__":
    main()
