"""Votes changed in Letta by someone else, as the sync sees them (the push sees the same before
writing: steps/feedback/outbox.py).

Here, not in steps/feedback: the feedback push uses the sync's client (steps.sync.upstream), so the
sync must not import feedback back; both read the outbox through the models.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.utils import timezone

from ..models import FeedbackPush, StepVote

RECENT_PUSH_GRACE = timedelta(seconds=60)

PUSH_COLUMNS = ("id", "step_id", "status", "sent_at", "done_at", "feedback", "tags")


def sent_among(pushes) -> list[tuple[str, list[str] | None]]:
    """Every (vote, tags) Letta may hold for a step because we wrote it, from that step's pushes
    (rows of PUSH_COLUMNS): the last write it confirmed, and each one sent after it whose answer
    never came back (steps.feedback.outbox.values_we_sent reads them for one step). Tags are
    None where the push sent none."""
    pushes = sorted(pushes, key=lambda push: push["id"])
    last = max((p["id"] for p in pushes if p["status"] == FeedbackPush.Status.DONE), default=0)
    ours = [p for p in pushes if p["id"] == last or (p["id"] > last and p["sent_at"] is not None)]
    return [(p["feedback"], None if p["tags"] is None else list(p["tags"])) for p in ours]


def note_upstream_changes(step_ids: Iterable[str]) -> int:
    """Flag steps whose Letta vote now differs from ours without us having written it.

    Called by the sync for steps whose feedback or tags changed upstream, a page at a time:
    three queries for the page, however many steps changed. Skipped while a push is
    undelivered or just delivered: the sync may have read Letta a moment before it.
    """
    now = timezone.now()
    votes = StepVote.objects.filter(step_id__in=list(step_ids), conflict_seen_at__isnull=True).select_related(
        "step"
    )
    # Tags we never set (None), or set to none, cannot be a conflict: Letta never clears tags (§1.5).
    differing = [
        vote
        for vote in votes
        if vote.step.feedback != vote.feedback or (vote.tags and vote.step.tags != vote.tags)
    ]
    pushes: dict[str, list[dict]] = {}
    for push in FeedbackPush.objects.filter(step_id__in=[v.step_id for v in differing]).values(*PUSH_COLUMNS):
        pushes.setdefault(push["step_id"], []).append(push)
    flagged = []
    for vote in differing:
        step, step_pushes = vote.step, pushes.get(vote.step_id, [])
        # Letta holding a value we sent ourselves (confirmed or not) is not someone else's change.
        if any(
            step.feedback == sent and (not tags or step.tags == tags)
            for sent, tags in sent_among(step_pushes)
        ):
            continue
        if any(
            p["status"] in FeedbackPush.OPEN_STATUSES
            or (p["done_at"] is not None and p["done_at"] >= now - RECENT_PUSH_GRACE)
            for p in step_pushes
        ):
            continue
        vote.conflict_feedback, vote.conflict_tags, vote.conflict_seen_at = (
            step.feedback,
            list(step.tags),
            now,
        )
        flagged.append(vote)
    StepVote.objects.bulk_update(flagged, ["conflict_feedback", "conflict_tags", "conflict_seen_at"])
    return len(flagged)
