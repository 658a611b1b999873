"""How far a queue is: overall from the counters its writes keep, live reservations and each
reviewer's figures from its own items and reviews (bounded by the queue, never the step table)."""

from __future__ import annotations

import statistics
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.utils import timezone

from .models import Queue, QueueItem, Review


def queue_progress(queue: Queue, now=None) -> dict:
    """{"total", "done", "adjudicate", "in_review", "waiting", "reviews", "reviewers": [...]}:
    `in_review` are items someone holds a live reservation on, `waiting` the rest still open.
    Each reviewer: {"id", "username", "done", "median_seconds", "holding"}, most done first."""
    now = now or timezone.now()
    queue.refresh_from_db(fields=["items_total", "items_done", "items_adjudicate"])
    # review_item_next: the queue's waiting items, then the live reservations among them
    held = list(
        QueueItem.objects.filter(queue=queue, state=QueueItem.State.WAITING, reserved_until__gt=now)
        .order_by()  # the model's ordering would join the queue table
        .values_list("reserved_by_id", flat=True)
    )
    per_reviewer: dict[int, list] = defaultdict(list)
    for reviewer_id, seconds in Review.objects.filter(item__queue=queue).values_list(
        "reviewer_id", "seconds"
    ):
        per_reviewer[reviewer_id].append(seconds)
    holding: dict[int, int] = defaultdict(int)
    for reviewer_id in held:
        if reviewer_id is not None:
            holding[reviewer_id] += 1
    ids = set(per_reviewer) | set(holding)
    names = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
    reviewers = []
    for reviewer_id in ids:
        timed = [s for s in per_reviewer.get(reviewer_id, []) if s is not None]
        reviewers.append(
            {
                "id": reviewer_id,
                "username": names.get(reviewer_id, ""),
                "done": len(per_reviewer.get(reviewer_id, [])),
                "median_seconds": round(statistics.median(timed), 1) if timed else None,
                "holding": holding.get(reviewer_id, 0),
            }
        )
    reviewers.sort(key=lambda r: (-r["done"], r["username"]))
    open_items = queue.items_total - queue.items_done - queue.items_adjudicate
    return {
        "total": queue.items_total,
        "done": queue.items_done,
        "adjudicate": queue.items_adjudicate,
        "in_review": len(held),
        "waiting": max(open_items - len(held), 0),
        "reviews": sum(r["done"] for r in reviewers),
        "reviewers": reviewers,
    }
