"""Who gets which item next. A reservation is a claim on the item row taken with a conditional
UPDATE and checked by its row count (as the sync claims steps): on PostgreSQL two reviewers
asking at the same instant cannot both win one item (the second UPDATE waits for the first and
re-reads the row), and SQLite serialises writers anyway."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from ..access import can_review
from .models import Queue, QueueItem, Review, Skip

CANDIDATES = 20  # items read per round; a lost race moves on to the next one


def can_work(queue: Queue, user) -> bool:
    """A reviewer (or manager) on an open queue: any of them, or the assigned ones."""
    if not can_review(user) or queue.archived_at is not None:
        return False
    return queue.access == Queue.Access.ANY or queue.assigned.filter(pk=user.pk).exists()


def _free(now: datetime) -> Q:
    return Q(reserved_until__isnull=True) | Q(reserved_until__lt=now)


def _claim(item_id: int, user, now: datetime, until: datetime) -> bool:
    """Take the item unless someone else holds a live reservation on it (one statement)."""
    return bool(
        QueueItem.objects.filter(_free(now) | Q(reserved_by=user), pk=item_id, state=QueueItem.State.WAITING)
        .exclude(Exists(Review.objects.filter(item=OuterRef("pk"), reviewer=user)))
        .update(reserved_by=user, reserved_until=until, reserved_at=now)
    )


def held_by(queue: Queue, user, now: datetime | None = None) -> QueueItem | None:
    """The item the user holds a live reservation on in this queue, if any (review_item_reserved)."""
    now = now or timezone.now()
    return (
        QueueItem.objects.filter(
            queue=queue, reserved_by=user, reserved_until__gt=now, state=QueueItem.State.WAITING
        )
        .exclude(Exists(Review.objects.filter(item=OuterRef("pk"), reviewer=user)))
        .order_by("position")
        .first()
    )


def next_item(queue: Queue, user, now: datetime | None = None) -> QueueItem | None:
    """Reserve the user's next item and return it, or None when nothing is left for them.

    The item they hold comes back first (a reload, a second tab), its reservation renewed. Then
    the first waiting item in queue order that nobody else holds and they have neither reviewed
    nor skipped; items they skipped come back last, the earliest skipped first. They never get
    an item they reviewed."""
    now = now or timezone.now()
    until = now + timedelta(minutes=queue.reservation_minutes)
    held = held_by(queue, user, now)
    if held is not None:
        QueueItem.objects.filter(pk=held.pk, reserved_by=user).update(reserved_until=until)
        held.reserved_until = until
        return held
    reviewed = Review.objects.filter(item=OuterRef("pk"), reviewer=user)
    skipped = Skip.objects.filter(item=OuterRef("pk"), reviewer=user)
    # the (queue, state, position) index walks the waiting items in order
    waiting = QueueItem.objects.filter(queue=queue, state=QueueItem.State.WAITING).filter(_free(now))
    waiting = waiting.exclude(Exists(reviewed))
    rounds = [
        waiting.exclude(Exists(skipped)).order_by("position"),
        waiting.filter(Exists(skipped))
        .annotate(skipped_at=Subquery(skipped.values("skipped_at")[:1]))
        .order_by("skipped_at", "position"),
    ]
    for candidates in rounds:
        after = None
        while True:
            page = candidates if after is None else candidates.exclude(pk__in=after)
            ids = list(page.values_list("pk", flat=True)[:CANDIDATES])
            if not ids:
                break
            for item_id in ids:
                if _claim(item_id, user, now, until):
                    return QueueItem.objects.select_related("step", "step_b").get(pk=item_id)
            # every one was taken meanwhile: read again (they are no longer free)
            after = (after or []) + ids
    return None


def release(item: QueueItem, user) -> bool:
    """Give back the user's reservation on the item (another reviewer may take it at once)."""
    return bool(
        QueueItem.objects.filter(pk=item.pk, reserved_by=user).update(
            reserved_by=None, reserved_until=None, reserved_at=None
        )
    )
