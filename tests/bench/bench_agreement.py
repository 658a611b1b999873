"""A queue's agreement over 10,000 reviews, as a ratio against baselines measured in the same run.

    make bench                 (or: python -m tests.bench.bench_agreement --reviews 10000 --repeat 7)

The queue: 5,000 steps reviewed twice each (k = 2) by 12 reviewers, a rubric of five items (thumbs,
a 1-5 scale, three labels, yes/no, free text); reviewers agree about three times in four.

- agreement_report: what the agreement page and `GET /api/v1/queues/{id}/agreement/` compute: the
  queue's reviews read from PostgreSQL, then alpha, percent and n per item, the reviewer-by-reviewer
  table and per-reviewer figures. Baseline: reading the same rows and nothing else (one SELECT of
  the columns it needs), so the ratio is what the figures add to the unavoidable read.
- the maths alone (from rows in memory). Baseline: ``krippendorff.alpha`` called the way its
  documentation shows, on a reviewers x steps matrix with NaN for "not reviewed", for the same
  items (alpha only: no percent, n, pairs or reviewer figures).

Its data lives in one transaction that is rolled back: the database (BENCH_AGREEMENT_DATABASE_URL,
default letta_dashboard_bench_agreement, created and migrated when missing) is left as it was.
Medians of several runs; the target is the issue's: agreement over 10,000 reviews under 200 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

BENCH_DB = os.environ.get(
    "BENCH_AGREEMENT_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/letta_dashboard_bench_agreement"
)
os.environ["DATABASE_URL"] = BENCH_DB
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

REVIEWERS = 12
TARGET_MS = 200
RUBRIC = [
    {"name": "verdict", "kind": "thumbs"},
    {"name": "accuracy", "kind": "scale", "choices": [1, 2, 3, 4, 5]},
    {"name": "tone", "kind": "categorical", "choices": ["friendly", "neutral", "curt"]},
    {"name": "cites_sources", "kind": "boolean"},
    {"name": "comment", "kind": "text", "required": False},
]


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def scores(rng: random.Random, truth: dict) -> dict:
    """One reviewer's scores: the step's "true" values, each changed about one time in four."""
    out = {}
    for name, value in truth.items():
        if rng.random() < 0.25:
            value = {
                "verdict": lambda: rng.choice(["positive", "negative"]),
                "accuracy": lambda v=value: min(5, max(1, v + rng.choice([-1, 1]))),
                "tone": lambda: rng.choice(["friendly", "neutral", "curt"]),
                "cites_sources": lambda v=value: not v,
            }[name]()
        out[name] = value
    out["comment"] = rng.choice(["", "", "fine", "check the dates"])
    return out


def build_queue(reviews: int, seed: int = 3):
    """A queue with `reviews` reviews (two a step) through the models, in bulk."""
    from django.contrib.auth import get_user_model

    from steps.models import Step
    from steps.review.models import Queue, QueueItem, Review, Rubric, RubricItem

    rng = random.Random(seed)
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bench-reviewer-{i}") for i in range(REVIEWERS)
    )
    rubric = Rubric.objects.create(name="bench", locked_at=datetime.now(UTC))
    RubricItem.objects.bulk_create(
        RubricItem(rubric=rubric, position=i, **item) for i, item in enumerate(RUBRIC)
    )
    queue = Queue.objects.create(name="bench", rubric=rubric, reviewers_per_item=2)
    count = reviews // 2
    base = datetime(2026, 12, 1, tzinfo=UTC)
    steps = Step.objects.bulk_create(
        Step(id=f"step-00000000-0000-4000-8000-{i:012d}", step_time=base + timedelta(seconds=i))
        for i in range(count)
    )
    items = QueueItem.objects.bulk_create(
        QueueItem(queue=queue, step=step, position=i, state="done", reviews_count=2)
        for i, step in enumerate(steps)
    )
    rows = []
    for item in items:
        truth = {
            "verdict": rng.choice(["positive", "positive", "negative"]),
            "accuracy": rng.randint(1, 5),
            "tone": rng.choice(["friendly", "friendly", "neutral", "curt"]),
            "cites_sources": rng.random() < 0.7,
        }
        for reviewer in rng.sample(users, 2):
            rows.append(
                Review(item=item, reviewer=reviewer, scores=scores(rng, truth), seconds=rng.uniform(3, 40))
            )
    Review.objects.bulk_create(rows, batch_size=2000)
    return queue


def library_baseline(data, items):
    """krippendorff.alpha the documented way: a reviewers x units matrix of codes, NaN when missing."""
    import krippendorff
    import numpy as np

    units = sorted(data.positions)
    column = {unit: j for j, unit in enumerate(units)}
    reviewers = sorted(data.done)
    row = {r: i for i, r in enumerate(reviewers)}
    results = {}
    for item in items:
        ratings = data.ratings[item.name]
        codes = {v: k for k, v in enumerate(sorted({str(v) for by in ratings.values() for v in by.values()}))}
        matrix = np.full((len(reviewers), len(units)), np.nan)
        for unit, by in ratings.items():
            for reviewer, value in by.items():
                matrix[row[reviewer], column[unit]] = value if item.kind == "scale" else codes[str(value)]
        level = "ordinal" if item.kind == "scale" else "nominal"
        results[item.name] = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
    return results


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reviews", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--only", default="", help="run only when one of these comma-separated words is 'agreement'"
    )
    args, _ = parser.parse_known_args()  # `make bench` passes the same BENCH_ARGS to every bench
    if args.only and "agreement" not in args.only.lower():
        return

    import django
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.utils import OperationalError

    subprocess.run(
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", BENCH_DB.rsplit("/", 1)[1]], capture_output=True
    )
    django.setup()
    try:
        connection.ensure_connection()
    except OperationalError as error:
        print(
            f"bench_agreement: skipped, no database at {BENCH_DB.rsplit('@', 1)[-1]} ({error.__class__.__name__})"
        )
        return
    call_command("migrate", verbosity=0)

    from steps.review import figures
    from steps.review.models import Review

    try:
        with transaction.atomic():
            queue = build_queue(args.reviews)
            data = figures.read_reviews(queue)
            compared = [item for item, _ in data.compared(pairwise=False)]
            report = figures.agreement_report(queue, data)
            check = library_baseline(data, compared)
            for item in compared:  # the same figure both ways, or the ratio means nothing
                assert abs(report["items"][item.name]["alpha"] - check[item.name]) < 1e-9, item.name

            def bare_read():
                rows = Review.objects.filter(item__queue_id=queue.pk).values_list(
                    "item_id", "item__position", "reviewer_id", "scores", "seconds"
                )
                return list(rows.iterator(chunk_size=5000))

            read_ms = median_ms(bare_read, args.repeat)
            report_ms = median_ms(lambda: figures.agreement_report(queue), args.repeat)
            maths_ms = median_ms(lambda: figures.agreement_report(queue, data), args.repeat)
            library_ms = median_ms(lambda: library_baseline(data, compared), args.repeat)
            raise Rollback
    except Rollback:
        pass

    print(
        f"queue: {data.count:,} reviews of {len(data.positions):,} steps by {len(data.done)} reviewers, "
        f"{len(compared)} compared items (+ free text)"
    )
    for name, figures_ in report["items"].items():
        print(
            f"  {name:14} alpha {figures_['alpha']:.3f}  agreement {figures_['percent']:.1f}%  n {figures_['n']:,}"
        )
    print(f"baseline (the queue's reviews read, one SELECT):        {read_ms:8.1f} ms")
    print(
        f"agreement_report (read + every figure of the page):      {report_ms:8.1f} ms   ratio {report_ms / read_ms:.2f}"
    )
    print(f"baseline (krippendorff.alpha on a reviewers x steps matrix, alpha only): {library_ms:8.1f} ms")
    print(
        f"the maths alone (rows in memory; alpha, percent, n, pairs, per reviewer): {maths_ms:8.1f} ms   "
        f"ratio {maths_ms / library_ms:.2f}"
    )
    print(
        f"target: agreement over {data.count:,} reviews under {TARGET_MS} ms -> "
        f"{'OK' if report_ms < TARGET_MS else 'OVER'} (median of {args.repeat})"
    )


if __name__ == "__main__":
    main()
