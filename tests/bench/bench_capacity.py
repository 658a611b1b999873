"""Capacity: N signed-in reviewers, each doing about one thing a second, against gunicorn served
as `make run` serves it (steps/management/commands/serve.py: WEB_OPTIONS), on a seeded database.

    make bench BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/letta_bench_1m
    BENCH_DATABASE_URL=... python -m tests.bench.bench_capacity --reviewers 10,20,50 --seconds 90

Each reviewer, on its own keep-alive connection, picks an action, waits for the answer, then
thinks 0.5-1.5 s (about one action a second): a list page with one of the filters people use
(none, search, failed, unreviewed, a sort, a tool), the same as an htmx partial (a filter
changed on the page), the next page of one, a step page, a compare with the run's previous
step, the overview (7 and 30 days), and a vote. Besides these, a baseline: the list's live
poll with live updates off, which signs the request in, checks nothing else and answers at
once, so its p95 is what the machine's noise costs any request under the same load.

Prints p50/p95/p99 per kind and over all actions (the baseline apart), errors, and each p95
as a ratio against its goal (p95 < 150 ms with 20 reviewers, < 300 ms with 50, no error).
It also prints the CPU time gunicorn (and the Celery worker, and this process's own reviewer
clients, which share the same cores) spent per request, from /proc: a figure the machine's other
load hardly moves, and what decides how many requests 2 cores serve.
With --waits it samples pg_stat_activity every 50 ms: what the database's busy backends wait on.

The database is left as it was, bar the append-only audit trail and the bench's users: each
reviewer votes on steps nobody rated (no vote here or in Letta) and clears each vote with its
next one; at the end any vote left is cleared, the bench's StepVote and FeedbackPush rows are
deleted and the rollups of the hours it touched are recomputed (equal to before, since every
vote was cleared). The audit events the votes wrote stay (append-only by design); the count is
printed. Votes are enqueued to BENCH_BROKER_URL (Redis db 9 by default), which is emptied at the
end. A Celery worker runs as `make run` runs the default queue's (--no-worker: none), with
Letta unreachable, so pushes fail fast and wait for a retry instead of reaching anything.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

from .cpu import CpuSplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "")
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/9")
if BENCH_DB:
    os.environ["DATABASE_URL"] = BENCH_DB
os.environ["CELERY_BROKER_URL"] = BROKER
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

GOALS_MS = {20: 150.0, 50: 300.0}  # p95 over all actions, issue 19
# action -> weight (how often a reviewer does it, in 100)
MIX = {
    "list": 22,
    "list htmx": 10,
    "next page": 10,
    "step": 20,
    "compare": 10,
    "overview": 8,
    "vote": 12,
    "baseline": 8,
}
LIST_FILTERS = ["", "q={common_word}", "status=failed", "unreviewed=on", "sort=-tokens", "tool=web_search"]
VOTE_STEPS_PER_REVIEWER = 60
PAGE_SIZE = 50


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # 10 first: how many reviewers this machine serves within the goal, when 20 are too many
    parser.add_argument(
        "--reviewers", default="10,20,50", help="comma-separated reviewer counts, one run each"
    )
    parser.add_argument("--seconds", type=float, default=90.0, help="length of each run")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between a reviewer's actions")
    parser.add_argument("--no-worker", action="store_true", help="no Celery worker beside gunicorn")
    parser.add_argument(
        "--web",
        default="",
        help="gunicorn's processes and threads instead of make run's, e.g. '--workers 4 --threads 2'",
    )
    parser.add_argument("--waits", action="store_true", help="sample pg_stat_activity's wait events")
    parser.add_argument(
        "--statements",
        action="store_true",
        help="PostgreSQL's costliest statements per run (needs pg_stat_statements preloaded, with track_planning)",
    )
    parser.add_argument(
        "--only", default="", help="run only when one of these comma-separated words is 'capacity'"
    )
    # not --json: `make bench` hands the same BENCH_ARGS to the page bench, whose file this would overwrite
    parser.add_argument("--capacity-json", help="also write the results to this file")
    args, _ = parser.parse_known_args()  # `make bench` passes BENCH_ARGS to every bench
    return args


# --- setup: users and the paths they ask for ----------------------------------------------------


def reviewers(count: int) -> list[tuple[str, str]]:
    import secrets

    from axes.utils import reset
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from steps.access.roles import REVIEWER

    group, _ = Group.objects.get_or_create(name=REVIEWER)
    password = secrets.token_urlsafe(24)
    hashed = make_password(password)  # one hash for all: 50 PBKDF2 rounds would be a minute
    found = []
    for i in range(1, count + 1):
        user, _ = get_user_model().objects.get_or_create(username=f"bench-reviewer-{i:02d}")
        user.password = hashed
        user.save(update_fields=["password"])
        user.groups.add(group)
        reset(username=user.username)
        found.append((user.username, password))
    return found


def paths(reviewer_count: int) -> dict:
    """The steps, cursors and filters the reviewers ask for, read once (not timed)."""
    from django.db.models import OuterRef, Subquery

    from steps.filters import StepFilterForm, encode_cursor
    from steps.models import Step, StepVote
    from steps.seeding import catalog

    words = {"common_word": catalog.COMMON_WORD}
    filters = [f.format(**words) for f in LIST_FILTERS]
    next_pages = []
    for query in filters:
        form = StepFilterForm(dict(p.split("=", 1) for p in query.split("&") if p))
        sort = form.sort_order()
        row = form.filter(Step.objects.for_list()).ordered(sort)[PAGE_SIZE - 1 : PAGE_SIZE].first()
        if row is not None:
            next_pages.append(f"{query}&cursor={encode_cursor(sort, row)}".lstrip("&"))
    previous = Step.objects.filter(run_id=OuterRef("run_id"), run_position=OuterRef("run_position") - 1)
    recent = (
        Step.objects.filter(run_position__gt=1)
        .order_by("-step_time")
        .annotate(previous=Subquery(previous.values("id")[:1]))
        .values_list("id", "previous")[:2000]
    )
    pairs = [(step, prev) for step, prev in recent if prev]
    # votes go to steps nobody rated, newest first, a separate set for each reviewer
    voted = StepVote.objects.values("step_id")
    unrated = Step.objects.filter(feedback="").exclude(id__in=voted).order_by("-step_time")
    vote_ids = list(unrated.values_list("id", flat=True)[: reviewer_count * VOTE_STEPS_PER_REVIEWER])
    if len(vote_ids) < reviewer_count * 2 or not pairs:
        raise SystemExit("Too few steps to bench: seed more first (manage.py seed_steps --count N).")
    return {"filters": filters, "next_pages": next_pages, "pairs": pairs, "vote_ids": vote_ids}


# --- the load ----------------------------------------------------------------------------------


class Reviewer(threading.Thread):
    def __init__(self, base_url, login, plan, votes, stop_at, think, results, rng):
        super().__init__(daemon=True)
        self.base_url, self.login, self.plan, self.votes = base_url, login, plan, votes
        self.stop_at, self.think, self.results, self.rng = stop_at, think, results, rng
        self.open_vote: str | None = None  # a step this reviewer voted on and will clear next
        self.cast: set[str] = set()
        self.client = None

    def sign_in(self) -> None:
        from tests.bench.server import Browser

        browser = Browser(self.base_url)
        browser.login(*self.login)
        self.client = browser.client
        self.client.timeout = 30

    def run(self) -> None:
        kinds, weights = list(MIX), list(MIX.values())
        time.sleep(self.rng.uniform(0, self.think))  # reviewers do not start in step
        while time.monotonic() < self.stop_at:
            kind = self.rng.choices(kinds, weights)[0]
            method, path, data, headers = self.request(kind)
            started = time.perf_counter()
            try:
                response = self.client.request(method, path, data=data, headers=headers)
                status = response.status_code
            except Exception as exc:  # noqa: BLE001 - a timeout or a reset is an error to count
                status = type(exc).__name__
            ms = (time.perf_counter() - started) * 1000
            expected = 286 if kind == "baseline" else 200
            self.results.append((kind, ms, status == expected, status))
            time.sleep(max(0.0, self.rng.uniform(0.5, 1.5) * self.think - ms / 1000))

    def request(self, kind: str):
        plan, rng = self.plan, self.rng
        htmx = {"HX-Request": "true"}
        if kind in ("list", "list htmx"):
            query = rng.choice(plan["filters"])
            return "GET", "/" + (f"?{query}" if query else ""), None, htmx if kind == "list htmx" else {}
        if kind == "next page":
            return "GET", "/?" + rng.choice(plan["next_pages"]), None, {}
        if kind == "step":
            return "GET", f"/steps/{rng.choice(plan['pairs'])[0]}/", None, {}
        if kind == "compare":
            step, previous = rng.choice(plan["pairs"])
            return "GET", f"/compare/{previous}/{step}/", None, {}
        if kind == "overview":
            return "GET", rng.choice(["/overview/", "/overview/?period=30d"]), None, {}
        if kind == "baseline":
            return "GET", "/steps/live/", None, htmx
        # a vote from a list row: the first click rates the step, the next click (the reviewer's
        # next vote) clears it, so every step ends as it started
        if self.open_vote:
            step, self.open_vote = self.open_vote, None
        else:
            step = self.open_vote = self.votes[len(self.cast) % len(self.votes)]
            self.cast.add(step)
        headers = htmx | {"X-CSRFToken": self.client.cookies.get("csrftoken", "")}
        return "POST", f"/steps/{step}/vote/", {"value": "positive", "compact": "1"}, headers


class Statements:
    """PostgreSQL's own account of a run, from pg_stat_statements: the statements that cost the
    most execution plus planning time, per call and per request of the mix. That is where the
    PostgreSQL CPU per request goes (to preload it: shared_preload_libraries =
    'pg_stat_statements' and pg_stat_statements.track_planning = on, then a restart)."""

    QUERY = (
        "SELECT calls, total_exec_time, total_plan_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) "
        "FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "ORDER BY total_exec_time + total_plan_time DESC"
    )

    def __init__(self, dsn: str):
        import psycopg

        self.conn = psycopg.connect(dsn, autocommit=True)
        self.conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        try:
            self.conn.execute("SELECT 1 FROM pg_stat_statements LIMIT 1")
        except psycopg.errors.ObjectNotInPrerequisiteState as exc:
            raise SystemExit(f"--statements: {exc} (see `Statements` in {__file__})") from exc

    def reset(self) -> None:
        self.conn.execute("SELECT pg_stat_statements_reset()")

    def report(self, requests: int, top: int = 12) -> list[str]:
        rows = self.conn.execute(self.QUERY).fetchall()
        execute, plan = sum(r[1] for r in rows), sum(r[2] for r in rows)
        lines = [
            f"  pg_stat_statements: execution {execute / requests:.1f} + planning {plan / requests:.1f} ms "
            f"per request, {sum(r[0] for r in rows) / requests:.1f} statements per request; the costliest:",
            f"    {'calls':>6} {'exec ms':>8} {'plan ms':>8} {'per req':>8}  statement",
        ]
        for calls, total_exec, total_plan, query in rows[:top]:
            lines.append(
                f"    {calls:6d} {total_exec / calls:8.2f} {total_plan / calls:8.2f} "
                f"{(total_exec + total_plan) / requests:8.2f}  {query}"
            )
        return lines


class WaitSampler(threading.Thread):
    """What the database's active backends wait on, sampled every 50 ms (pg_stat_activity)."""

    def __init__(self, dsn: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.dsn, self.stop = dsn, stop
        self.samples = 0
        self.events: Counter = Counter()
        self.lock_queries: Counter = Counter()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stop.wait(0.05):
                rows = conn.execute(
                    "SELECT coalesce(wait_event_type, 'CPU'), coalesce(wait_event, 'running'), "
                    "left(regexp_replace(query, '\\s+', ' ', 'g'), 70) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()"
                ).fetchall()
                self.samples += 1
                for kind, event, query in rows:
                    self.events[f"{kind}:{event}"] += 1
                    if kind == "Lock":
                        self.lock_queries[query] += 1

    def report(self) -> list[str]:
        lines = [f"  pg_stat_activity, {self.samples} samples: backends seen per wait event"]
        lines += [f"    {n:6d}  {event}" for event, n in self.events.most_common(10)]
        if self.lock_queries:
            lines.append("  waiting on a lock:")
            lines += [f"    {n:6d}  {q}" for q, n in self.lock_queries.most_common(6)]
        return lines


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summarise(count: int, seconds: float, results: list, load: tuple, cpu: dict) -> dict:
    by_kind: dict[str, list[float]] = defaultdict(list)
    errors: Counter = Counter()
    for kind, ms, ok, status in results:
        by_kind[kind].append(ms)
        if not ok:
            errors[(kind, status)] += 1
    actions = [ms for kind, ms, _, _ in results if kind != "baseline"]
    goal = GOALS_MS[20] if count <= 20 else GOALS_MS[50]  # 10 reviewers: held to the 20's goal
    baseline_p95 = percentile(by_kind["baseline"], 95)
    out = {
        "reviewers": count,
        "seconds": seconds,
        "requests": len(results),
        "per_second": round(len(results) / seconds, 1),
        "load_before": load,
        "goal_p95_ms": goal,
        "errors": sum(errors.values()),
        "error_kinds": {f"{k} {s}": n for (k, s), n in errors.items()},
        "kinds": {},
    }
    print(f"\n{count} reviewers, {seconds:.0f} s: {len(results):,} requests ({out['per_second']}/s)")
    print(f"{'kind':<12} {'n':>6} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'errors':>7}  p95/goal")
    for kind in [*MIX, "all"]:
        values = actions if kind == "all" else by_kind.get(kind, [])
        if not values:
            continue
        figures = {
            "n": len(values),
            "p50": round(percentile(values, 50), 1),
            "p95": round(percentile(values, 95), 1),
            "p99": round(percentile(values, 99), 1),
            "errors": sum(n for (k, _), n in errors.items() if kind in ("all", k) and k != "baseline"),
        }
        figures["ratio"] = round(figures["p95"] / goal, 2)
        out["kinds"][kind] = figures
        print(
            f"{kind:<12} {figures['n']:>6} {figures['p50']:>9.1f} {figures['p95']:>9.1f} "
            f"{figures['p99']:>9.1f} {figures['errors']:>7}  {figures['ratio']:.2f}x of {goal:.0f} ms"
        )
    all_p95 = out["kinds"].get("all", {}).get("p95", 0.0)
    out["baseline_p95"] = round(baseline_p95, 1)
    out["all_over_baseline"] = round(all_p95 / baseline_p95, 1) if baseline_p95 else None
    out["cpu_ms_per_request"] = {k: round(v * 1000 / max(1, len(results)), 1) for k, v in cpu.items()}
    out["cpu_share_of_one_core"] = {k: round(v / seconds, 2) for k, v in cpu.items()}
    per_request = out["cpu_ms_per_request"]
    machine = round(sum(per_request.values()), 1)
    out["cpu_ms_per_request_all"] = machine
    print(
        "CPU per request: "
        + ", ".join(f"{k} {v} ms" for k, v in per_request.items())
        + f"; {machine} ms in all, so these {os.cpu_count()} cores serve at most about "
        + f"{round(os.cpu_count() * 1000 / max(machine, 0.1))} requests/s of this mix "
        + f"(the web alone: {round(os.cpu_count() * 1000 / max(per_request['web'], 0.1))})"
    )
    verdict = "MET" if all_p95 < goal and not out["errors"] else "NOT MET"
    print(
        f"goal: p95 {all_p95:.0f} ms / {goal:.0f} ms = {all_p95 / goal:.2f}x, {out['errors']} errors: {verdict}; "
        f"baseline p95 {baseline_p95:.1f} ms (all actions' p95 = {out['all_over_baseline']}x the baseline's)"
    )
    for (kind, status), n in errors.most_common(8):
        print(f"  !!! {n} x {kind}: {status}")
    return out


def run_load(count, args, base_url, logins, plan, pids: dict) -> dict:
    rng = random.Random(count)
    results: list = []
    votes = plan["vote_ids"]
    share = len(votes) // count
    stop = threading.Event()
    sampler = WaitSampler(BENCH_DB, stop) if args.waits else None
    statements = Statements(BENCH_DB) if args.statements else None
    started = time.monotonic()
    crowd = [
        Reviewer(
            base_url,
            logins[i],
            plan,
            votes[i * share : (i + 1) * share],
            0,
            args.think,
            results,
            random.Random(rng.random()),
        )
        for i in range(count)
    ]
    for reviewer in crowd:
        reviewer.sign_in()
    print(
        f"{count} reviewers signed in ({time.monotonic() - started:.1f} s); {args.seconds:.0f} s of load..."
    )
    load = os.getloadavg()
    # the reviewers' own HTTP clients run here, on the same 2 cores: what they cost is printed
    cpu = CpuSplit(pids, own="bench clients").start()
    if statements:
        statements.reset()
    stop_at = time.monotonic() + args.seconds
    if sampler:
        sampler.start()
    for reviewer in crowd:
        reviewer.stop_at = stop_at
        reviewer.start()
    for reviewer in crowd:
        reviewer.join()
    cpu = cpu.stop()
    stop.set()
    said = statements.report(len(results)) if statements else []
    # the second click of a vote still open: every step ends as it started
    for reviewer in crowd:
        if reviewer.open_vote:
            headers = {"HX-Request": "true", "X-CSRFToken": reviewer.client.cookies.get("csrftoken", "")}
            url = f"/steps/{reviewer.open_vote}/vote/"
            try:
                reviewer.client.post(url, data={"value": "positive"}, headers=headers)
            except (httpx.RemoteProtocolError, httpx.ReadError):
                # gunicorn closes a keep-alive connection idle for 2 s (a reviewer that finished
                # first waits for the slowest): closed or reset before an answer, the request
                # never reached it; send it again
                reviewer.client.post(url, data={"value": "positive"}, headers=headers)
        reviewer.client.close()
    out = summarise(count, args.seconds, results, tuple(round(x, 2) for x in load), cpu)
    if sampler:
        sampler.join()
        print("\n".join(sampler.report()))
        out["waits"] = dict(sampler.events.most_common(10))
        out["lock_waits"] = dict(sampler.lock_queries.most_common(6))
    if said:
        print("\n".join(said))
    out["voted_steps"] = sorted({s for r in crowd for s in r.cast})
    return out


# --- gunicorn and the worker as `make run` starts them, and the cleanup ------------------------


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    from django.conf import settings

    argv = [sys.executable, "-m", "celery", "-A", "dashboard", "worker", "-l", "warning"]
    argv += ["-Q", settings.CELERY_TASK_DEFAULT_QUEUE, "-n", f"bench-capacity-{os.getpid()}@%h"]
    argv += ["--concurrency", "2"]  # serve.py: the default queue's worker
    with open(log, "a") as out:
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=out)


def stop_process(process: subprocess.Popen | None) -> None:
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def clean_up(voted: set[str], usernames: list[str]) -> None:
    """Leave the seeded data as it was: the bench's votes and pushes gone, their hours recomputed."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from steps.audit.models import AuditEvent
    from steps.models import FeedbackPush, Step, StepVote, mark_dirty
    from steps.overview.rollup import flush

    users = list(get_user_model().objects.filter(username__in=usernames).values_list("pk", flat=True))
    with transaction.atomic():
        pushes = FeedbackPush.objects.filter(created_by__in=users)
        pushes.delete()
        still = StepVote.objects.filter(step_id__in=voted).exclude(feedback="").count()
        StepVote.objects.filter(step_id__in=voted).delete()
        mark_dirty(Step.objects.filter(pk__in=voted).values_list("step_time", flat=True))
    hours = flush()
    events = AuditEvent.objects.filter(actor_id__in=users).count()
    print(
        f"cleanup: {len(voted)} steps voted on and cleared ({still} left rated by a lost click, cleared now); "
        f"their StepVote and FeedbackPush rows deleted, {hours} hours of rollups recomputed. "
        f"{events:,} audit events of the bench's reviewers stay (append-only)."
    )


def flush_broker() -> None:
    import redis

    redis.Redis.from_url(BROKER).flushdb()  # the bench's own db: the pushes nobody will deliver


def main() -> None:
    args = parse_args()
    if args.only and "capacity" not in args.only.lower():
        return
    if not BENCH_DB:
        print(
            "bench_capacity: skipped. Set BENCH_DATABASE_URL to a database seeded with "
            "`manage.py seed_steps --count 1000000`."
        )
        return
    import django

    django.setup()
    from django.core.management import call_command

    from steps.management.commands.serve import WEB_OPTIONS
    from steps.models import Step
    from tests.bench.server import Gunicorn, server_env

    counts = [int(c) for c in args.reviewers.split(",") if c.strip()]
    started = time.monotonic()
    steps = Step.objects.count()
    call_command("collectstatic", interactive=False, verbosity=0)
    logins = reviewers(max(counts))
    plan = paths(max(counts))
    print(
        f"bench_capacity: {steps:,} steps in {BENCH_DB.rsplit('/', 1)[-1]}, {os.cpu_count()} CPUs, "
        f"gunicorn {args.web or ' '.join(WEB_OPTIONS[:4])}, {'no worker' if args.no_worker else 'a Celery worker'}; "
        f"setup {time.monotonic() - started:.1f} s"
    )
    env = server_env(BENCH_DB) | {"CELERY_BROKER_URL": BROKER, "LETTA_BASE_URL": "http://127.0.0.1:9"}
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    log = Path(tempfile.gettempdir()) / f"bench-capacity-{os.getpid()}.log"
    web = tuple(args.web.split()) or WEB_OPTIONS[:4]
    server = Gunicorn(env, log, options=(*web, "--access-logfile", str(log.with_suffix(".access"))))
    worker = None
    runs, voted = [], set()
    try:
        server.start()
        worker = None if args.no_worker else start_worker(env, log)
        for count in counts:
            pids = {"web": server.process.pid, **({"worker": worker.pid} if worker else {})}
            out = run_load(count, args, server.base_url, logins, plan, pids)
            voted |= set(out.pop("voted_steps"))
            runs.append(out)
    finally:
        server.stop()
        stop_process(worker)
        clean_up(voted, [name for name, _ in logins])
        flush_broker()
    if args.capacity_json:
        Path(args.capacity_json).write_text(json.dumps({"steps": steps, "runs": runs}, indent=2))
    print(f"bench_capacity: done in {time.monotonic() - started:.0f} s (gunicorn log: {log})")


if __name__ == "__main__":
    main()
