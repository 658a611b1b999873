"""Team review against a seeded database: making queues, reserving the next step, submitting, the
live-queue hook on a sync batch, and a queue's progress; with the EXPLAIN of the reservation query.

    BENCH_DATABASE_URL=postgres://.../letta_bench_1m .venv/bin/python -m tests.bench.bench_review

The database is one `manage.py seed_steps` filled. Everything runs in one transaction that is rolled
back at the end: the bench's users, queues, reviews and verdict votes never stay (commits are not
timed; on a local PostgreSQL each is well under a millisecond).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "")
if BENCH_DB:
    os.environ["DATABASE_URL"] = BENCH_DB
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, (time.perf_counter() - start) * 1000


def line(name: str, values: list[float], note: str = "") -> None:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    print(
        f"{name:<52} median {statistics.median(values):8.2f} ms   p95 {p95:8.2f} ms   n={len(values)} {note}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queue-size", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=200, help="next/submit rounds measured")
    args, _ = parser.parse_known_args()
    if not BENCH_DB:
        print("bench_review: set BENCH_DATABASE_URL to a database seed_steps filled; skipped.")
        return

    import django

    django.setup()
    from django.conf import settings
    from django.db import transaction

    from steps.models import Step

    steps_count = Step.objects.count()
    if steps_count < args.queue_size:
        sys.exit(f"bench_review: the database has {steps_count} steps; seed at least {args.queue_size}.")
    print(f"bench_review: {steps_count:,} steps, queue of {args.queue_size:,} items, {args.repeat} rounds")
    settings.REVIEW_SNAPSHOT_MAX = args.queue_size
    try:
        with transaction.atomic():
            run(args)
            raise RolledBack
    except RolledBack:
        print("\n(rolled back: the database is as it was)")


class RolledBack(Exception):
    pass


def run(args) -> None:
    from django.core.exceptions import ValidationError
    from django.db import connection, transaction
    from django.db.models import Exists, OuterRef, Q
    from django.utils import timezone

    from steps.models import Step
    from steps.review import progress, queues, reserve, rubrics, submit
    from steps.review.live import join_live_queues
    from steps.review.models import Queue, QueueItem, Review
    from tests.factories import UserFactory

    users = [UserFactory(username=f"bench-reviewer-{i}") for i in range(3)]
    made: list[int] = []
    rubric = rubrics.rubric_from_items([{"name": "verdict", "kind": "thumbs"}], name="bench", created_by=None)
    common = {"rubric": rubric, "reservation_minutes": 30, "created_by": None}

    durations = []
    for i in range(5):
        live, ms = timed(
            queues.create_queue,
            name=f"bench live {i}",
            query="status=failed",
            mode="live",
            reviewers_per_item=2,
            **common,
        )
        made.append(live.pk)
        durations.append(ms)
    line("create a live queue (status=failed)", durations, "(no scan)")

    ids = list(Step.objects.order_by("-step_time", "-id").values_list("pk", flat=True)[: args.queue_size])
    snap, ms = timed(
        queues.create_queue,
        name="bench snapshot",
        query="",
        mode="snapshot",
        reviewers_per_item=2,
        step_ids=ids,
        **common,
    )
    made.append(snap.pk)
    line(f"create a snapshot of {len(ids):,} chosen steps", [ms])
    by_filter, ms = timed(
        queues.create_queue,
        name="bench filter",
        # the last 30 days' failed steps: at 1 M seeded steps all failed ones (~10,000) pass the cap
        query="status=failed&period=30d",
        mode="snapshot",
        reviewers_per_item=2,
        **common,
    )
    made.append(by_filter.pk)
    line(f"create a snapshot from status=failed&period=30d ({by_filter.items_total:,} steps)", [ms])
    start = time.perf_counter()
    try:
        with transaction.atomic():
            queues.create_queue(name="too big", query="", mode="snapshot", reviewers_per_item=2, **common)
    except ValidationError:
        line("refuse a snapshot of every step (reads the cap + 1)", [(time.perf_counter() - start) * 1000])

    # reviewer 0 works half the queue first: with k = 2 those items stay waiting, so every later
    # reservation walks past them (the worst case of the NOT EXISTS over the queue's index)
    half = list(QueueItem.objects.filter(queue=snap).order_by("position")[: args.queue_size // 2])
    Review.objects.bulk_create(
        Review(item=item, reviewer=users[0], scores={"verdict": "positive"}) for item in half
    )
    QueueItem.objects.filter(pk__in=[i.pk for i in half]).update(reviews_count=1)

    nexts, submits, resumes = [], [], []
    for _ in range(args.repeat):
        item, ms = timed(reserve.next_item, snap, users[0])
        nexts.append(ms)
        _, ms = timed(reserve.next_item, snap, users[0])
        resumes.append(ms)
        _, ms = timed(submit.submit_review, item, users[0], {"verdict": "negative"})
        submits.append(ms)
    line("next_item, after 5,000 own reviews still waiting", nexts)
    line("next_item again (resume the held item)", resumes)
    line("submit_review (first of two)", submits)
    finals = []
    for _ in range(args.repeat):
        item = reserve.next_item(snap, users[1])
        _, ms = timed(submit.submit_review, item, users[1], {"verdict": "negative"})
        finals.append(ms)
    line("submit_review (second: resolve + outbox push)", finals)

    batch = list(Step.objects.order_by("?").values_list("pk", flat=True)[:100])
    hooks = []
    for _ in range(20):
        _, ms = timed(join_live_queues, batch)
        hooks.append(ms)
    live_count = Queue.objects.filter(mode="live", archived_at__isnull=True).count()
    line(f"live hook: a 100-step batch, {live_count} live queues", hooks)

    figures = []
    for _ in range(20):
        _, ms = timed(progress.queue_progress, snap)
        figures.append(ms)
    line("queue_progress", figures)

    now = timezone.now()
    candidates = (
        QueueItem.objects.filter(queue=snap, state="waiting")
        .filter(Q(reserved_until__isnull=True) | Q(reserved_until__lt=now))
        .exclude(Exists(Review.objects.filter(item=OuterRef("pk"), reviewer=users[0])))
        .order_by("position")
        .values_list("pk", flat=True)[:20]
    )
    sql, params = candidates.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        print("\nEXPLAIN the reservation's candidates (as reviewer 0):")
        for (row,) in cursor.fetchall():
            print("   ", row)


if __name__ == "__main__":
    main()
