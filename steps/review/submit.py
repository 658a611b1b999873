"""A reviewer's submission, skip and undo. Each is one function in one transaction, so an audit
record can be added to it in one place.

Exactly once: the item row is locked while its reviews are counted, and Review is unique per
(item, reviewer), so a double submit or a retry after a lost response finds the first review and
returns it (created False); the k-th review resolves the item in the same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import audit
from ..access import VIEWER_REFUSED, RoleRequired, can_review
from . import rubrics
from .models import Queue, QueueItem, Review, Skip
from .reserve import can_work, release
from .verdict import resolve


class NotReviewable(Exception):
    """The item cannot take this reviewer's review now (the API answers 409); says why."""


MAX_SECONDS = timedelta(hours=12)
NOT_YOURS = "Another reviewer holds this step right now; ask for your next one."
DONE_ALREADY = "This step has all its reviews already."
REFUSED = "You are not a reviewer of this queue."


def _check(queue: Queue, user) -> None:
    if not can_work(queue, user):
        raise RoleRequired(REFUSED if can_review(user) else VIEWER_REFUSED)


def submit_review(
    item: QueueItem, user, scores: dict, note: str = "", started_at: datetime | None = None
) -> tuple[Review, bool]:
    """Save the user's review of the item once. Returns (review, created): a second call for the
    same item and user returns the first review unchanged. Raises ValidationError for bad scores,
    NotReviewable when another reviewer holds the item or it needs no more reviews."""
    queue = Queue.objects.select_related("rubric").get(pk=item.queue_id)
    _check(queue, user)
    existing = Review.objects.filter(item_id=item.pk, reviewer=user).first()
    if existing is not None:
        return existing, False
    clean = rubrics.validate_scores(queue.rubric, scores, pairwise=queue.kind == Queue.Kind.PAIRWISE)
    note = rubrics.clean_note(note)
    now = timezone.now()
    try:
        with transaction.atomic():
            locked = QueueItem.objects.select_for_update().get(pk=item.pk)
            existing = Review.objects.filter(item=locked, reviewer=user).first()
            if existing is not None:
                return existing, False
            if locked.state != QueueItem.State.WAITING:
                raise NotReviewable(DONE_ALREADY)
            held_by_other = (
                locked.reserved_by_id not in (None, user.pk)
                and locked.reserved_until is not None
                and locked.reserved_until > now
            )
            if held_by_other:
                raise NotReviewable(NOT_YOURS)
            if started_at is None and locked.reserved_by_id == user.pk:
                started_at = locked.reserved_at
            if started_at is not None and not now - MAX_SECONDS <= started_at <= now:
                started_at = None  # a client's clock or a tab left open for days: not time spent
            seconds = (now - started_at).total_seconds() if started_at else None
            review = Review.objects.create(
                item=locked,
                reviewer=user,
                scores=clean,
                note=note,
                started_at=started_at,
                submitted_at=now,
                seconds=seconds,
            )
            locked.reviews_count = Review.objects.filter(item=locked).count()
            if locked.reserved_by_id == user.pk:
                locked.reserved_by, locked.reserved_until, locked.reserved_at = None, None, None
            locked.save(update_fields=["reviews_count", "reserved_by", "reserved_until", "reserved_at"])
            Skip.objects.filter(item=locked, reviewer=user).delete()
            audit.record(user, "review.submit", _audit_target(locked, queue), None, _answers(review, queue))
            if locked.reviews_count >= queue.reviewers_per_item:
                resolve(locked)
            return review, True
    except IntegrityError:
        # SQLite without row locks: a concurrent twin got there first; its review stands
        existing = Review.objects.filter(item_id=item.pk, reviewer=user).first()
        if existing is None:
            raise
        return existing, False


def skip(item: QueueItem, user) -> None:
    """Pass on the item for now: the reservation is given back and the item comes back to this
    reviewer only after every item they have not skipped."""
    queue = Queue.objects.get(pk=item.queue_id)
    _check(queue, user)
    with transaction.atomic():
        release(item, user)
        Skip.objects.update_or_create(item_id=item.pk, reviewer=user, defaults={"skipped_at": timezone.now()})


def undo_last(queue: Queue, user) -> QueueItem | None:
    """Take back the user's last review in this queue and reserve its item for them again, so
    their next item is that one. None when they have no review here; a ValidationError saying
    why when the item is decided already (its verdict may be in Letta)."""
    _check(queue, user)
    last = (
        Review.objects.filter(reviewer=user, item__queue=queue)
        .order_by("-submitted_at", "-pk")
        .values_list("pk", "item_id")
        .first()
    )
    if last is None:
        return None
    review_id, item_id = last
    now = timezone.now()
    with transaction.atomic():
        item = QueueItem.objects.select_for_update().get(pk=item_id)
        if item.state != QueueItem.State.WAITING:
            raise ValidationError(
                "Your last review cannot be undone: its step is decided already"
                + (
                    " and its verdict went to Letta."
                    if item.state == QueueItem.State.DONE
                    else " (a manager decides it)."
                )
            )
        if item.reserved_by_id not in (None, user.pk) and item.reserved_until and item.reserved_until > now:
            raise ValidationError("Your last review cannot be undone: another reviewer holds its step now.")
        undone = Review.objects.get(pk=review_id)
        undone.delete()
        audit.record(user, "review.undo", _audit_target(item, queue), _answers(undone, queue), None)
        item.reviews_count = Review.objects.filter(item=item).count()
        item.reserved_by, item.reserved_at = user, now
        item.reserved_until = now + timedelta(minutes=queue.reservation_minutes)
        item.save(update_fields=["reviews_count", "reserved_by", "reserved_until", "reserved_at"])
        # one reservation at a time: the item they had moved on to goes back to the others
        QueueItem.objects.filter(queue=queue, reserved_by=user).exclude(pk=item.pk).update(
            reserved_by=None, reserved_until=None, reserved_at=None
        )
    return item


def _audit_target(item: QueueItem, queue: Queue) -> tuple[str, str, str]:
    """A queue review is recorded against its step (the trail links it), named with its queue."""
    return ("step", item.step_id, f"{item.step_id} in queue {queue.name}")


def _answers(review: Review, queue: Queue) -> dict:
    return {"queue": queue.pk, "scores": review.scores, "note": review.note}
