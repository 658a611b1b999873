"""Export throughput and memory, against a bare keyset walk measured in the same run.

    python -m tests.bench.bench_export --steps 100000
    BENCH_DATABASE_URL=postgres://.../letta_export_1m python -m tests.bench.bench_export --steps 1000000

Exports the newest N steps of BENCH_DATABASE_URL (created, migrated and seeded with
``manage.py seed_steps`` first when it holds fewer). Each case runs in a process of its own, so its peak RSS is its own:

- baseline: the bare keyset walk the export makes (the step query, chunk after chunk), producing
  nothing. The ratio "x baseline" is what reading messages, traces and writing the file cost on top.
- csv, jsonl, jsonl+traces, finetune: the body of ``stream_export`` read to the end, as a WSGI
  server reads it.

Memory, two ways: RSS (sampled after every chunk: start, peak, and the growth between the first
tenth of the rows and the end, which is ~0 when memory is flat) and, in a second pass, the Python
heap peak (tracemalloc) after a tenth of the rows and at the end: flat memory means a ratio near 1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/letta_export_bench")
CASES = ("baseline", "csv", "jsonl", "jsonl+traces", "finetune")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE_SIZE


def chunks(case: str, steps: int):
    """The case's output, chunk by chunk (bytes; the baseline yields the row count of a chunk)."""
    from steps.export.stream import stream_export
    from steps.export.walk import keyset_chunks
    from steps.models import Step

    newest = Step.objects.order_by("-step_time", "-id").values_list("step_time", flat=True)
    cutoff = newest[steps - 1 : steps].first() or newest.last()
    qs = Step.objects.filter(step_time__gte=cutoff)
    if case == "baseline":
        return (rows for rows in keyset_chunks(qs, "-time", 1000))
    fmt, _, traces = case.partition("+")
    return stream_export(qs, fmt, include_traces=bool(traces)).streaming_content


def chunk_size(case: str) -> int:
    from steps.export.stream import FORMATS, TRACES_CHUNK

    fmt, _, traces = case.partition("+")
    return 1000 if case == "baseline" else TRACES_CHUNK if traces else FORMATS[fmt].chunk


def run_case(case: str, steps: int, traced: bool) -> dict:
    import tracemalloc

    import django

    django.setup()
    from django.db import connection

    connection.ensure_connection()
    # the chunk after which a tenth of the rows has been read (a CSV's first chunk is its header)
    tenth = max(1, steps // 10 // chunk_size(case)) + (case == "csv")
    result: dict = {"case": case, "steps": steps}
    # pass 1: speed and RSS
    start_rss = peak_rss = tenth_rss = rss()
    produced = 0
    started, cpu = time.perf_counter(), time.process_time()
    for index, chunk in enumerate(chunks(case, steps), 1):
        produced += 0 if isinstance(chunk, list) else len(chunk)
        peak_rss = max(peak_rss, rss())
        if index == tenth:
            tenth_rss = rss()
    result["seconds"] = time.perf_counter() - started
    result["cpu"] = time.process_time() - cpu  # this process's share; the rest is waiting on PostgreSQL
    result["bytes"] = produced
    result["rss_start"], result["rss_peak"], result["rss_growth"] = start_rss, peak_rss, rss() - tenth_rss
    if traced:
        # pass 2: the Python heap (tracemalloc slows everything down, so it is timed apart)
        tracemalloc.start()
        for index, _ in enumerate(chunks(case, steps), 1):
            if index == tenth:
                result["heap_tenth"] = tracemalloc.get_traced_memory()[1]
        result["heap_peak"] = tracemalloc.get_traced_memory()[1]
        result.setdefault("heap_tenth", result["heap_peak"])
        tracemalloc.stop()
    return result


def ensure_seeded(steps: int) -> None:
    """Create and migrate the bench database if needed, and seed it up to `steps` steps
    (``seed_steps``, the scale bench's command; seeding is timed by that command, not here)."""
    import django
    from django.core.management import call_command
    from django.core.management.base import CommandError

    name = BENCH_DB.rsplit("/", 1)[1]
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], capture_output=True)
    django.setup()
    call_command("migrate", verbosity=0)
    from steps.models import Step

    have = Step.objects.count()
    if have >= steps:
        return
    print(f"{name} holds {have:,} steps; seeding {steps - have:,} more (once)...", flush=True)
    try:
        call_command("seed_steps", count=steps - have, append=bool(have))
    except CommandError as error:
        raise SystemExit(f"Seed {name} first (manage.py seed_steps --count {steps}): {error}") from error


def mb(n: int | float) -> str:
    return f"{n / 2**20:,.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=100_000, help="export the newest N steps")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the heap pass (halves the time)")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # one case, in a child process
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = BENCH_DB
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    sys.path.insert(0, str(ROOT))
    if args.case:
        print(json.dumps(run_case(args.case, args.steps, not args.no_tracemalloc)))
        return
    ensure_seeded(args.steps)

    print(
        f"Exporting the newest {args.steps:,} steps of {BENCH_DB.rsplit('/', 1)[1]}, each case in its own process"
    )
    results = []
    for case in args.cases.split(","):
        command = [
            sys.executable,
            "-m",
            "tests.bench.bench_export",
            "--case",
            case,
            "--steps",
            str(args.steps),
        ]
        if args.no_tracemalloc:
            command.append("--no-tracemalloc")
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"{case} failed:\n{done.stderr[-3000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        r = results[-1]
        print(f"  {case}: {r['seconds']:.1f} s", flush=True)

    base = next((r for r in results if r["case"] == "baseline"), None)
    print()
    print(
        f"{'case':<14} {'steps/s':>9} {'x base':>7} {'CPU s':>6} {'MB out':>8} {'MB/s':>6} "
        f"{'RSS start':>9} {'RSS peak':>9} {'RSS grew':>9} {'heap 10%':>9} {'heap 100%':>9} {'ratio':>6}"
    )
    for r in results:
        rate = r["steps"] / r["seconds"]
        slower = f"{r['seconds'] / base['seconds']:.1f}" if base else "-"
        heap = (
            f"{mb(r['heap_tenth']):>9} {mb(r['heap_peak']):>9} {r['heap_peak'] / max(r['heap_tenth'], 1):>6.2f}"
            if "heap_peak" in r
            else f"{'-':>9} {'-':>9} {'-':>6}"
        )
        print(
            f"{r['case']:<14} {rate:>9,.0f} {slower:>7} {r.get('cpu', 0):>6.1f} {mb(r['bytes']):>8} {r['bytes'] / r['seconds'] / 2**20:>6.1f} "
            f"{mb(r['rss_start']):>9} {mb(r['rss_peak']):>9} {mb(r['rss_growth']):>9} {heap}"
        )
    print(
        "\nCPU s: Python time of the exporting process; the rest of the wall time is PostgreSQL and waiting."
    )
    print(
        "MB are MiB. 'RSS grew': from a tenth of the rows to the end. 'ratio': heap peak at the end / at a tenth."
    )


if __name__ == "__main__":
    main()
