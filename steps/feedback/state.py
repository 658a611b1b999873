"""A step's feedback as the review UI and the API show it: the team's vote, Letta's, and the
write-back state of its newest push."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Count, Max, Q
from django.utils import timezone

from ..models import FeedbackPush, StepVote


class VoteState:
    """A step's feedback as the UI shows it: the team's intended vote (StepVote), falling back
    to what Letta holds, and the write-back state of the step's newest FeedbackPush."""

    def __init__(self, step, vote=None, push=None):
        self.step, self.vote, self.push = step, vote, push

    @property
    def feedback(self) -> str:
        return self.vote.feedback if self.vote else (self.step.feedback or "")

    @property
    def tags(self) -> list[str]:
        """The tags set here, else (never edited here: a vote alone owns no tags) Letta's."""
        if self.vote and self.vote.tags is not None:
            return list(self.vote.tags)
        return list(self.step.tags or [])

    @property
    def conflict(self) -> bool:
        return bool(self.vote and self.vote.has_conflict)

    @property
    def state(self) -> str:
        """ "" (never written here), saving, retrying, saved, failed, conflict or gone (the step
        was deleted in Letta: the vote cannot be sent)."""
        if self.conflict:
            return "conflict"
        push = self.push
        if push is None:
            return ""
        if push.is_open:
            return "retrying" if push.attempts else "saving"
        if push.status == FeedbackPush.Status.GONE:
            # back in Letta since: a vote that can be sent again, as after any failure
            return "gone" if self.step.gone_upstream_at else "failed"
        if push.status == "failed":
            return "failed"
        # done; or a conflict already settled by taking Letta's vote (the vote matches it now)
        return "saved"

    @property
    def failure(self) -> str:
        """Why the newest push failed, for the "failed" state."""
        if self.push and self.push.status == FeedbackPush.Status.GONE:
            return "Letta did not have this step when the vote was sent; it is back now."
        return self.push.last_error if self.push else ""

    @property
    def is_open(self) -> bool:
        return self.state in ("saving", "retrying")

    @property
    def poll_ms(self) -> int:
        """How soon the widget asks again while a push is open: quickly at first (a push takes a
        few tens of milliseconds, so "saved" shows at once), then backing off to once a second;
        every 3 s while Letta is unreachable."""
        if self.state == "retrying":
            return 3000
        age = (timezone.now() - self.push.created_at).total_seconds() if self.push else 0
        return 150 if age < 2 else 500 if age < 10 else 1000

    @property
    def tags_stuck_upstream(self) -> list[str]:
        """Tags Letta keeps although a reviewer removed them all here: its API cannot clear a
        tag list."""
        removed_here = self.vote is not None and self.vote.tags == []
        return list(self.step.tags or []) if removed_here else []


def vote_states(steps) -> dict[str, VoteState]:
    """VoteState of each step, in two queries whatever the number of steps."""
    ids = [s.pk for s in steps]
    if not ids:
        return {}
    votes = {v.step_id: v for v in StepVote.objects.filter(step_id__in=ids).select_related("voted_by")}
    # newest push per step: MAX(id) per step, served by the (step, -id) index
    newest = FeedbackPush.objects.filter(step_id__in=ids).values("step_id").annotate(m=Max("id")).values("m")
    pushes = {p.step_id: p for p in FeedbackPush.objects.filter(id__in=newest)}
    return {s.pk: VoteState(s, votes.get(s.pk), pushes.get(s.pk)) for s in steps}


def vote_state(step) -> VoteState:
    return vote_states([step])[step.pk]


def reviewer_counts(now: datetime | None = None) -> list[dict]:
    """Steps each reviewer rated today and this week (distinct steps, from the outbox).

    From FeedbackPush rather than StepVote: StepVote keeps only the latest voter of a step, so a
    colleague re-rating it would erase the first reviewer's work from the count. Retries resend
    a vote and are not reviews.
    """
    now = timezone.localtime(now or timezone.now())
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    rows = (
        FeedbackPush.objects.filter(created_at__gte=week, created_by__isnull=False)
        .exclude(source="retry")
        .values("created_by__username")
        .annotate(
            week=Count("step", distinct=True),
            today=Count("step", distinct=True, filter=Q(created_at__gte=today)),
        )
        .order_by("-week", "created_by__username")
    )
    return [{"username": r["created_by__username"], "today": r["today"], "week": r["week"]} for r in rows]


# The list's "reviews per reviewer" panel, kept this long in Django's default cache (this
# process's memory): its aggregate over the week's pushes was 1.7 ms of PostgreSQL on every full
# list page (pg_stat_statements, capacity bench) and grows with the week's votes. A reviewer's
# own count may lag their vote this long.
REVIEWER_COUNTS_MAX_AGE = 10


def recent_reviewer_counts() -> list[dict]:
    """reviewer_counts(), computed at most once per REVIEWER_COUNTS_MAX_AGE seconds per web
    process, and again when the day changes."""
    return cache.get_or_set(
        f"reviewer-counts:{timezone.localdate()}", reviewer_counts, REVIEWER_COUNTS_MAX_AGE
    )
