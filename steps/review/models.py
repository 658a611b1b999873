"""Review queues: what is reviewed (items), against what (rubrics), by whom (reviews)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ..models import FeedbackPush, Step

USER = settings.AUTH_USER_MODEL


class Rubric(models.Model):
    """Named items a reviewer scores. Once a queue has used a rubric it is locked: an edit makes
    the next version (same lineage), so the scores already given keep the questions they answered."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    # the first version of this rubric (null on the first itself): versions share it
    lineage = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    locked_at = models.DateTimeField(null=True, blank=True, help_text="Set when a queue first uses it.")
    archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["name", "-version"]
        indexes = [
            # the rubric list (API and the editor), by name, newest version first
            models.Index(fields=["name", "-version", "id"], name="review_rubric_by_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})" if self.version > 1 else self.name


class RubricItem(models.Model):
    class Kind(models.TextChoices):
        THUMBS = "thumbs", "Thumbs (👍/👎, Letta's feedback)"
        CATEGORICAL = "categorical", "Labels"
        SCALE = "scale", "Scale"
        BOOLEAN = "boolean", "Yes / no"
        TEXT = "text", "Free text"

    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    # the key of this item in a review's scores and the API, e.g. "accuracy"
    name = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    description = models.TextField(blank=True)
    required = models.BooleanField(default=True)
    # categorical: its labels (strings); scale: its integer points, lowest first; otherwise empty
    choices = models.JSONField(default=list, blank=True)
    # scale: a word for each point, in the order of `choices` (may be shorter, or empty)
    choice_labels = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["rubric", "position"]
        constraints = [
            models.UniqueConstraint(fields=["rubric", "name"], name="review_rubricitem_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Queue(models.Model):
    class Mode(models.TextChoices):
        SNAPSHOT = "snapshot", "Snapshot: these steps"
        LIVE = "live", "Live: matching steps join as they sync"

    class Kind(models.TextChoices):
        SINGLE = "single", "One step at a time"
        PAIRWISE = "pairwise", "Pairs of steps, side by side"

    class Access(models.TextChoices):
        ANY = "any", "Any reviewer"
        ASSIGNED = "assigned", "Assigned reviewers only"

    name = models.CharField(max_length=200)
    instructions = models.TextField(blank=True, help_text="Shown to reviewers; plain text, rendered safely.")
    # the step list's query string the queue was made from (filters and sort), for live joins and links
    query = models.CharField(max_length=2000, blank=True)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.SNAPSHOT)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SINGLE)
    rubric = models.ForeignKey(Rubric, on_delete=models.PROTECT, related_name="queues")
    reviewers_per_item = models.PositiveSmallIntegerField(default=1)
    access = models.CharField(max_length=16, choices=Access.choices, default=Access.ANY)
    assigned = models.ManyToManyField(USER, blank=True, related_name="assigned_queues")
    reservation_minutes = models.PositiveSmallIntegerField(default=30)
    # the verdict of the queue's thumbs item becomes the step's feedback in Letta (through the outbox)
    write_feedback = models.BooleanField(default=True)
    # names of categorical items whose verdict becomes a Letta tag "item:value"
    tag_items = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True)
    # progress, kept by the writes that change it, so no page counts a queue's items
    items_total = models.PositiveIntegerField(default=0)
    items_done = models.PositiveIntegerField(default=0)
    items_adjudicate = models.PositiveIntegerField(default=0)
    # the position the next item added takes (items are reviewed in position order)
    next_position = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # the live queues a sync batch's new steps may join
            models.Index(fields=["mode"], condition=Q(archived_at__isnull=True), name="review_queue_live"),
            # the queue list (page and API), newest first
            models.Index(fields=["-created_at", "-id"], name="review_queue_newest"),
        ]

    def __str__(self) -> str:
        return self.name


class QueueItem(models.Model):
    class State(models.TextChoices):
        WAITING = "waiting", "Waiting for reviews"
        DONE = "done", "Done"
        ADJUDICATE = "adjudicate", "To adjudicate"

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="items")
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="queue_items")
    # pairwise queues: the other step of the pair ("B"); null in single-step queues
    step_b = models.ForeignKey(Step, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    position = models.BigIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.WAITING)
    reviews_count = models.PositiveSmallIntegerField(default=0)
    # One reservation at a time: while it lasts, no other reviewer is shown this item.
    reserved_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reserved_until = models.DateTimeField(null=True, blank=True)
    # when the current reservation was taken: a review's seconds when the page did not say
    reserved_at = models.DateTimeField(null=True, blank=True)
    # item name -> the resolved value, once done (by the queue's policy or a manager)
    verdict = models.JSONField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    adjudicated_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now, editable=False)
    # the outbox row that carries the verdict to Letta (its status is the write-back's), and why
    # no verdict was sent when none was (pairwise, nothing to write, a conflict waiting on a person)
    push = models.ForeignKey(FeedbackPush, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    write_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["queue", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["queue", "step"], condition=Q(step_b__isnull=True), name="review_item_step"
            ),
            models.UniqueConstraint(
                fields=["queue", "step", "step_b"], condition=Q(step_b__isnull=False), name="review_item_pair"
            ),
        ]
        indexes = [
            # a reviewer's next item: the queue's waiting items in order
            models.Index(fields=["queue", "state", "position"], name="review_item_next"),
            # a step's queues (step page)
            models.Index(fields=["step"], name="review_item_of_step"),
            # a reviewer's live reservation in a queue (next_item resumes it)
            models.Index(
                fields=["queue", "reserved_by"],
                condition=Q(reserved_by__isnull=False),
                name="review_item_reserved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.step_id} in {self.queue_id}"


class Review(models.Model):
    """One reviewer's scores for one item: saved once (a double submit finds it), kept with who and when."""

    item = models.ForeignKey(QueueItem, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="queue_reviews")
    # rubric item name -> value (thumbs: "positive"/"negative"; pairwise: "a"/"b"/"tie")
    scores = models.JSONField(default=dict)
    note = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True, help_text="When the reviewer was shown it.")
    submitted_at = models.DateTimeField(default=timezone.now)
    seconds = models.FloatField(null=True, blank=True, help_text="Time spent, from being shown to submit.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "reviewer"], name="review_review_once"),
        ]
        indexes = [
            # a reviewer's last submission (undo) and their figures
            models.Index(fields=["reviewer", "-submitted_at"], name="review_review_by_reviewer"),
        ]

    def __str__(self) -> str:
        return f"review of {self.item_id} by {self.reviewer_id}"


class Skip(models.Model):
    """A reviewer passed on an item ("s"): it comes back to them only after every other item."""

    item = models.ForeignKey(QueueItem, on_delete=models.CASCADE, related_name="skips")
    reviewer = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    skipped_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "reviewer"], name="review_skip_once"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} skipped by {self.reviewer_id}"
