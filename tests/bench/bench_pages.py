"""Every page of the dashboard over real HTTP against a seeded database, next to its own bare SQL.

    make bench BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/letta_bench_1m
    make bench BENCH_DATABASE_URL=... BENCH_ARGS="--only list,search --repeat 3 --json out.json"

The database is one filled by `manage.py seed_steps --count 1000000` (never an empty one: the
bench needs steps to ask for). It is only read, apart from the bench user it signs in as.
The cases are the table in tests/bench/cases.py. For each one it prints:

- cold: the first request a freshly started gunicorn worker serves for the page, after one
  warm-up request to /login/ (so Python imports and the database connection are not counted):
  Django's per-process caches (facets, tags, compiled templates) are empty. PostgreSQL's shared
  buffers and the OS page cache are NOT dropped (that needs root and says nothing about the app).
- warm: the median of the following requests on the same keep-alive connection;
- the bytes sent (and, when the response is compressed, the bytes after decompression);
- the page's main SQL alone (median, rows fetched, no ORM objects), measured in the same run,
  and the ratio of the warm HTTP time to it;
- for list queries, the EXPLAIN, with a loud FLAG when a big table is read by a Seq Scan.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "")
if BENCH_DB:
    os.environ["DATABASE_URL"] = BENCH_DB
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

COLD_MEANING = (
    "cold = first request to a freshly started gunicorn worker (after one warm-up GET /login/): "
    "Django's per-process caches empty; PostgreSQL and OS caches not dropped. "
    "warm = median of the next requests on the same keep-alive connection."
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="comma-separated words: cases whose name has one")
    parser.add_argument("--repeat", type=int, default=5, help="warm requests and SQL runs per case")
    parser.add_argument(
        "--budget", type=float, default=5.0, help="seconds of warm requests per case, at most"
    )
    parser.add_argument("--no-cold", action="store_true", help="one server for all cases (faster, no cold)")
    parser.add_argument("--explain", choices=("all", "flagged", "none"), default="all")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--list", action="store_true", help="print the cases and exit")
    args, _ = parser.parse_known_args()  # `make bench` passes BENCH_ARGS to every bench
    return args


def kb(n: int | None) -> str:
    return "?" if n is None else f"{n / 1024:.1f} KB"


def machine(step_count: int) -> dict:
    from django.db import connection

    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
        cursor.execute("SELECT pg_database_size(current_database())")
        db_size = cursor.fetchone()[0]
        sizes = {}
        for table in ("steps_step", "steps_message", "steps_providertrace", "steps_stepvote"):
            cursor.execute("SELECT pg_total_relation_size(%s)", [table])
            sizes[table] = cursor.fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "ram_gb": round(mem_kb / 1024**2, 1),
        "python": platform.python_version(),
        "postgresql": pg,
        "database": connection.settings_dict["NAME"],
        "database_bytes": db_size,
        "table_bytes": sizes,
        "steps": step_count,
    }


def bench_user() -> tuple[str, str]:
    from axes.utils import reset
    from django.contrib.auth import get_user_model

    password = secrets.token_urlsafe(24)
    user, _ = get_user_model().objects.get_or_create(username="bench")
    user.set_password(password)
    user.save(update_fields=["password"])
    reset(username="bench")
    return "bench", password


def run_case(case, data, server, browser, args) -> tuple[dict, object]:
    from tests.bench import sql as bench_sql
    from tests.bench.cases import goal_ms
    from tests.bench.server import Browser

    path, name = case.path.format(**data), case.name.format(**data)
    result = {"name": name, "path": path, "kind": case.kind, "goal_ms": goal_ms(case)}
    if not args.no_cold:
        cookies = browser.client.cookies
        browser.close()
        server.restart()
        browser = Browser(server.base_url, cookies)
        browser.fetch("/login/")
    if case.kind == "export":
        return run_export(case, path, result, server, browser), browser
    first = browser.fetch(path, htmx=case.htmx)
    if first.status == 404 and case.optional:
        result["status"] = "not built"
        print(f"{name:<36} not built (404 here; measured once merged)")
        return result, browser
    result["status"] = first.status
    if first.status != 200:
        print(f"{name:<36} !!! HTTP {first.status} for {path}")
        return result, browser
    warm, started = [], time.perf_counter()
    for _ in range(args.repeat):
        warm.append(browser.fetch(path, htmx=case.htmx).ms)
        if len(warm) >= 2 and time.perf_counter() - started > args.budget:
            break
    result |= {
        "cold_ms" if not args.no_cold else "first_ms": round(first.ms, 1),
        "warm_ms": round(statistics.median(warm), 1),
        "wire_bytes": first.wire_bytes,
        "body_bytes": first.body_bytes,
        "encoding": first.encoding,
    }
    measure_sql(case, path, data, result, args, bench_sql)
    print_line(result)
    return result, browser


def measure_sql(case, path, data, result, args, bench_sql) -> None:
    qs = bench_sql.queryset_for(case, path, data)
    if qs is None:
        return
    first_ms, median_ms, rows = bench_sql.time_sql(qs, args.repeat, args.budget)
    result |= {"sql_first_ms": round(first_ms, 2), "sql_ms": round(median_ms, 2), "sql_rows": rows}
    if result.get("warm_ms") and median_ms:
        result["ratio"] = round(result["warm_ms"] / median_ms, 1)
    if case.kind in ("list", "export"):
        plan, seq_scans = bench_sql.explain(qs)
        result["plan"] = plan
        result["seq_scans"] = seq_scans
        if seq_scans:
            print(f"!!! FLAG: {result['name']}: Seq Scan on {', '.join(seq_scans)} !!!")
        if args.explain == "all" or (args.explain == "flagged" and seq_scans):
            print("\n".join("      " + line for line in plan.splitlines()))


def run_export(case, path, result, server, browser) -> dict:
    from tests.bench import sql as bench_sql

    rss_before, _ = server.worker_memory_kb()
    status, ms, lines, size = browser.stream_lines(path)
    if status == 404 and case.optional:
        result["status"] = "not built"
        print(f"{result['name']:<36} not built (404 here; measured once merged)")
        return result
    _, peak = server.worker_memory_kb()
    rows = max(lines - 1, 0)  # the CSV header
    result |= {
        "status": status,
        "cold_ms": round(ms, 1),
        "rows": rows,
        "rows_per_s": round(rows / (ms / 1000)) if ms else None,
        "wire_bytes": size,
        "rss_before_mb": round(rss_before / 1024, 1),
        "peak_rss_mb": round(peak / 1024, 1),
    }
    qs = bench_sql.list_queryset(path)
    plan, seq_scans = bench_sql.explain(qs)
    result |= {"plan": plan, "seq_scans": seq_scans}
    print(
        f"{result['name']:<36} HTTP {status}  {ms:9.1f} ms  {rows:,} rows  {result['rows_per_s'] or 0:,} rows/s  "
        f"{kb(size)}  worker RSS {result['rss_before_mb']} MB -> peak {result['peak_rss_mb']} MB"
    )
    return result


def print_line(r: dict) -> None:
    cold = r.get("cold_ms", r.get("first_ms"))
    size = kb(r["wire_bytes"]) + (f" ({r['encoding']}, {kb(r['body_bytes'])} raw)" if r["encoding"] else "")
    sql = f"sql {r['sql_ms']:8.2f} ms  x{r.get('ratio', 0):6.1f}" if "sql_ms" in r else " " * 27
    flag = f"  SEQ SCAN: {','.join(r['seq_scans'])}" if r.get("seq_scans") else ""
    label = "cold" if "cold_ms" in r else "first"
    print(f"{r['name']:<36} {label} {cold:8.1f}  warm {r['warm_ms']:8.1f} ms  {sql}  {size}{flag}")


def summary(results: list[dict], cold: bool) -> None:
    print("\n" + "=" * 118)
    first = "cold ms" if cold else "first ms"
    print(
        f"{'case':<36} {first:>9} {'warm ms':>9} {'sql ms':>9} {'http/sql':>9} {'bytes':>11} {'raw':>11}  "
        f"{'goal':>5} {'x goal':>6}  plan"
    )
    print("-" * 118)
    met = missed = 0
    for r in results:
        if r.get("status") == "not built":
            print(f"{r['name']:<36} {'not built':>9}")
            continue
        if r["kind"] == "export" and "rows" in r:
            print(
                f"{r['name']:<36} {r['cold_ms']:>9.1f} {'':>9} {'':>9} {'':>9} {kb(r['wire_bytes']):>11} "
                f"{'':>11}  {r['rows']:,} rows, {r['rows_per_s']:,} rows/s, peak RSS {r['peak_rss_mb']} MB"
            )
            continue
        if "warm_ms" not in r:
            print(f"{r['name']:<36} HTTP {r.get('status')}")
            continue
        cold = r.get("cold_ms", r.get("first_ms", 0))
        sql = f"{r['sql_ms']:>9.2f}" if "sql_ms" in r else f"{'-':>9}"
        ratio = f"{r['ratio']:>9.1f}" if "ratio" in r else f"{'-':>9}"
        raw = kb(r["body_bytes"]) if r["encoding"] else ""
        plan = (
            ("SEQ SCAN " + ",".join(r["seq_scans"]))
            if r.get("seq_scans")
            else ("index" if "plan" in r else "")
        )
        goal = r.get("goal_ms")
        # against the goal: the worse of cold and warm (the issue asks for both)
        against = f"{goal:>5.0f} {max(cold, r['warm_ms']) / goal:>6.2f}" if goal else f"{'':>5} {'':>6}"
        if goal:
            met, missed = (met + 1, missed) if max(cold, r["warm_ms"]) < goal else (met, missed + 1)
        print(
            f"{r['name']:<36} {cold:>9.1f} {r['warm_ms']:>9.1f} {sql} {ratio} {kb(r['wire_bytes']):>11} {raw:>11}  "
            f"{against}  {plan}"
        )
    flagged = [r for r in results if r.get("seq_scans")]
    print("-" * 118)
    print(
        f"Goals (issue 19, tests.bench.cases.goal_ms; cold and warm both under): {met} met, {missed} not met."
    )
    if flagged:
        print(f"!!! {len(flagged)} LIST QUERIES READ A BIG TABLE WITH A SEQ SCAN: ")
        for r in flagged:
            print(f"!!!   {r['name']}: {', '.join(r['seq_scans'])}")
    else:
        print("Every list query is served by an index (no Seq Scan on steps, messages, traces, votes).")
    print(COLD_MEANING)


def main() -> None:
    args = parse_args()
    from tests.bench.cases import select

    cases = select(args.only)
    if args.list:
        for case in cases:
            print(f"{case.name:<36} {case.path}")
        return
    if not BENCH_DB:
        print(
            "bench_pages: skipped. Set BENCH_DATABASE_URL to a database seeded with "
            "`manage.py seed_steps --count 1000000`, e.g.\n"
            "  make bench BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/letta_bench_1m"
        )
        return
    if not cases:
        print(f"bench_pages: no case matches --only {args.only!r} (see --list)")
        return

    import django

    django.setup()
    from django.core.management import call_command

    from steps.models import Step
    from tests.bench.data import bench_data
    from tests.bench.server import Browser, Gunicorn, server_env

    started = time.monotonic()
    step_count = Step.objects.count()
    info = machine(step_count)
    print(
        f"bench_pages: {step_count:,} steps in {info['database']} ({info['database_bytes'] / 1e9:.1f} GB), "
        f"PostgreSQL {info['postgresql']}, {info['cpus']} CPUs, {info['ram_gb']} GB RAM, Python {info['python']}"
    )
    print(COLD_MEANING)
    call_command("collectstatic", interactive=False, verbosity=0)
    username, password = bench_user()
    data = bench_data(step_count)
    print(f"setup (data for the cases, deep cursors): {time.monotonic() - started:.1f} s\n")

    log = Path(tempfile.gettempdir()) / f"bench-gunicorn-{os.getpid()}.log"
    server = Gunicorn(server_env(BENCH_DB), log)
    server.start()
    browser = Browser(server.base_url)
    results = []
    try:
        browser.login(username, password)
        for case in cases:
            result, browser = run_case(case, data, server, browser, args)
            results.append(result)
    finally:
        browser.close()
        server.stop()
    if args.json:  # first: the figures are kept even if printing fails
        Path(args.json).write_text(
            json.dumps({"machine": info, "cold": COLD_MEANING, "cases": results}, indent=2)
        )
    summary(results, cold=not args.no_cold)
    print(f"bench_pages: {len(results)} cases in {time.monotonic() - started:.0f} s (gunicorn log: {log})")
    if args.json:
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
