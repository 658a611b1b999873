"""Where the sync's memory goes as the backlog grows (issue 19, "memory stays flat").

    BENCH_SYNC_DATABASE_URL=postgres://.../<db> .venv/bin/python -m tests.bench.sync_memory 10000 --no-trace

One `run_sync` into an emptied database (as bench_sync's, which it reuses) against a frozen
simulator; at checkpoints (fractions of the steps refreshed) it prints the RSS, the count of
Python objects, pymalloc's blocks and glibc's malloc figures (heap size, in use, kept free),
and at the end the growth of object counts by type and, without --no-trace, tracemalloc's
growth by allocation site (slow: a 20 k run takes many minutes). Flat objects and blocks with
a growing heap and free memory mean the allocator, not the sync's data structures.
"""

import argparse
import collections
import ctypes
import gc
import sys
import time
import tracemalloc

from tests.bench import bench_sync  # sets DATABASE_URL from BENCH_SYNC_DATABASE_URL


def rss() -> int:
    return bench_sync.rss()


class MallInfo2(ctypes.Structure):
    _fields_ = [
        (n, ctypes.c_size_t)
        for n in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


_libc = ctypes.CDLL("libc.so.6")
_libc.mallinfo2.restype = MallInfo2


def malloc_stats() -> str:
    m = _libc.mallinfo2()
    return (
        f"glibc: heap {m.arena / 2**20:.1f} MB (in use {m.uordblks / 2**20:.1f}, free {m.fordblks / 2**20:.1f}), "
        f"mmapped {m.hblkhd / 2**20:.1f} MB; pymalloc blocks {sys.getallocatedblocks()}"
    )


def type_counts():
    return collections.Counter(type(o).__name__ for o in gc.get_objects())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("steps", type=int)
    p.add_argument("--no-trace", action="store_true")
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--checkpoints", default="0.25,0.5,1.0")
    p.add_argument("--trim", type=float, default=0, help="malloc_trim(0) every N seconds from on_progress")
    args = p.parse_args()

    import subprocess

    import django

    subprocess.run(
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", bench_sync.BENCH_DB.rsplit("/", 1)[1]],
        capture_output=True,
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from steps.sync import run_sync
    from steps.sync.upstream import LettaClient

    runs = max(1, round(args.steps / bench_sync.STEPS_PER_RUN))
    sim, url, steps = bench_sync.start_simulator(runs)
    print(f"simulator: {steps} steps", flush=True)
    try:
        bench_sync.reset_database()
        sampler = bench_sync.RssSampler()
        sampler.start()
        marks = [float(x) for x in args.checkpoints.split(",")]
        snaps = []
        if not args.no_trace:
            tracemalloc.start(args.frames)
        t0 = time.perf_counter()

        def take(label):
            c = type_counts()
            s = tracemalloc.take_snapshot() if not args.no_trace else None
            snaps.append((label, s, c, rss(), gc.get_count(), len(gc.garbage)))
            print(
                f"[{time.perf_counter() - t0:6.1f}s] {label}: rss {rss() / 2**20:.1f} MB "
                f"(peak {sampler.peak / 2**20:.1f}) traced "
                f"{(tracemalloc.get_traced_memory()[0] / 2**20) if not args.no_trace else 0:.1f} MB "
                f"objects {sum(c.values())}; {malloc_stats()}",
                flush=True,
            )

        trim = {"last": time.monotonic(), "n": 0, "cpu": 0.0}

        def on_progress(progress):
            if args.trim and time.monotonic() - trim["last"] >= args.trim:
                c0 = time.thread_time()
                _libc.malloc_trim(0)
                trim["cpu"] += time.thread_time() - c0
                trim["n"] += 1
                trim["last"] = time.monotonic()
            done = progress.steps_refreshed
            while marks and done >= marks[0] * steps * 0.9:
                take(f"refreshed {done} ({progress.phase}, created {progress.steps_created})")
                marks.pop(0)

        with LettaClient(url) as client:
            sync_run = run_sync(client, trigger="bench", reverify_batch=0, on_progress=on_progress)
        take("end")
        if trim["n"]:
            print(
                f"malloc_trim: {trim['n']} calls, {trim['cpu'] * 1000 / trim['n']:.2f} ms CPU each",
                flush=True,
            )
        sampler.stop()
        print(
            f"status {sync_run.status} {sync_run.error_message[:200]}; {time.perf_counter() - t0:.1f}s; "
            f"RSS growth {(sampler.peak - sampler.before) / 2**20:.1f} MB, peak {sampler.peak / 2**20:.1f} MB",
            flush=True,
        )
        if len(snaps) >= 2:
            first, last = snaps[0], snaps[-1]
            print(f"\n=== object type count growth {first[0]} -> {last[0]}")
            diff = last[2].copy()
            diff.subtract(first[2])
            for name, n in diff.most_common(25):
                print(f"{n:>10} {name}")
            if first[1] is not None:
                for key in ("traceback", "lineno"):
                    print(f"\n=== tracemalloc growth by {key}: {first[0]} -> {last[0]}")
                    stats = last[1].compare_to(first[1], key)
                    for stat in stats[:20]:
                        print(f"{stat.size_diff / 1024:>10.1f} KiB  {stat.count_diff:>8} blocks")
                        lines = (
                            stat.traceback.format(limit=args.frames)
                            if key == "traceback"
                            else [str(stat.traceback)]
                        )
                        for line in lines:
                            print("      " + line)
    finally:
        sim.terminate()
        sim.wait()


if __name__ == "__main__":
    main()
