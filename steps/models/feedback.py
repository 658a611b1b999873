"""Feedback the team gives, and the outbox that carries it to Letta.

A vote is committed locally together with a FeedbackPush (the outbox row) in one transaction;
a Celery task, and a periodic sweeper behind it, deliver the newest push of each step. Letta
keeps neither who voted nor when; we do.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .mirrored import Step

FEEDBACK_VALUES = ("positive", "negative")


class StepVote(models.Model):
    """The team's intended feedback for a step: what we want Letta to hold."""

    step = models.OneToOneField(Step, primary_key=True, on_delete=models.CASCADE, related_name="vote")
    feedback = models.CharField(
        max_length=16, blank=True, help_text="positive, negative, or empty for no vote"
    )
    # None until a reviewer edits this step's tags here: a vote alone owns no tag list, so the
    # step's tags are Letta's (step.tags), never a copy that a pending step's empty mirror or a
    # late tag in Letta would make wrong. [] is a reviewer removing them all (Letta keeps them).
    tags = models.JSONField(
        null=True, blank=True, default=None, help_text="Tags set here; empty (null): as Letta has them."
    )
    voted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    voted_at = models.DateTimeField(null=True, blank=True)
    # Someone else changed the vote in Letta after ours: both are shown, the reviewer decides.
    conflict_feedback = models.CharField(max_length=16, blank=True)
    conflict_tags = models.JSONField(null=True, blank=True)
    conflict_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # the admin's votes list filtered by reviewer, newest first ("unreviewed" is served
            # by the primary key: NOT EXISTS per step; reviewer counts come from pushes)
            models.Index(fields=["voted_by", "-voted_at"], name="steps_stepvote_reviewer"),
            # steps waiting for the reviewer to settle a conflict
            models.Index(
                fields=["conflict_seen_at"],
                name="steps_stepvote_conflict",
                condition=Q(conflict_seen_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"vote on {self.step_id}: {self.feedback or 'none'}"

    @property
    def has_conflict(self) -> bool:
        return self.conflict_seen_at is not None


class FeedbackBatch(models.Model):
    """One bulk action (rate or tag many steps at once), for its progress display."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=64)
    # What to apply, and to which steps: {"feedback", "add_tags", "remove_tags", "step_ids" | "query"}
    params = models.JSONField(default=dict)
    total = models.PositiveIntegerField(default=0)
    applied = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # The worker applying it holds it until then (steps/feedback/bulk.py); unfinished and
    # unclaimed, the feedback sweep hands it to a worker again.
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "feedback batches"
        indexes = [
            # the feedback sweep: batches left unfinished (a handful at most)
            models.Index(
                fields=["created_at"], name="steps_feedbackbatch_open", condition=Q(finished_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} on {self.total} steps"


class FeedbackPush(models.Model):
    """The outbox: one intended state of a step's feedback and tags, to be written to Letta."""

    class Status(models.TextChoices):
        PENDING = "pending", "saving"
        IN_FLIGHT = "in_flight", "saving"
        DONE = "done", "saved upstream"
        FAILED = "failed", "failed"
        SUPERSEDED = "superseded", "replaced by a newer vote"
        CONFLICT = "conflict", "changed in Letta by someone else"
        GONE = "gone", "step deleted in Letta"  # final: asking again cannot help

    OPEN_STATUSES = (Status.PENDING, Status.IN_FLIGHT)

    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="feedback_pushes", db_index=False)
    batch = models.ForeignKey(
        FeedbackBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="pushes"
    )
    feedback = models.CharField(max_length=16, blank=True)
    # None: the reviewer did not touch the tags, and the PATCH carries none (Letta keeps its own)
    tags = models.JSONField(null=True, blank=True, default=None)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=16, default="click")
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    not_before = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    note = models.TextField(blank=True, help_text="What Letta could not take, e.g. a tag removal.")
    done_at = models.DateTimeField(null=True, blank=True)
    # Set just before the PATCH goes out: a PATCH whose answer never came back (timeout, cut-off
    # body, killed worker) may still have reached Letta, so the value stays known as ours.
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "feedback pushes"
        indexes = [
            # a step's newest push (its write-back state) and last-click-wins delivery
            models.Index(fields=["step", "-id"], name="steps_feedbackpush_step"),
            # the sweeper: undelivered pushes, oldest due first; a small partial index
            models.Index(
                fields=["not_before"],
                name="steps_feedbackpush_open",
                condition=Q(status__in=["pending", "in_flight"]),
            ),
            # reviewer_counts(): this week's reviews, a range scan read index-only; retries and
            # pushes without a user (sweeps) are never counted, so they stay out of the index
            models.Index(
                fields=["created_at", "created_by", "step"],
                name="steps_feedbackpush_reviews",
                condition=Q(created_by__isnull=False) & ~Q(source="retry"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.feedback or 'clear'} → {self.step_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES
