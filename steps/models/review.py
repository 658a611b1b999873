"""Local review data that Letta never sees: the sync does not touch these tables."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from .mirrored import Step


class StepReview(models.Model):
    """A reviewer's notes on a step; edited in the admin, where LogEntry records who changed what."""

    step = models.OneToOneField(Step, primary_key=True, on_delete=models.CASCADE, related_name="review")
    notes = models.TextField(blank=True)
    labels = models.JSONField(default=list, blank=True, help_text="Local labels, never sent upstream.")
    hidden = models.BooleanField(default=False, help_text="Archived: kept, but out of the default list.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"review of {self.step_id}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self._mark_hour()  # archiving takes a step out of the charts (the sweep recomputes)

    def delete(self, *args, **kwargs):
        self._mark_hour()
        return super().delete(*args, **kwargs)

    def _mark_hour(self) -> None:
        from .rollups import mark_dirty

        mark_dirty(Step.objects.filter(pk=self.step_id).values_list("step_time", flat=True))


class ShareLink(models.Model):
    """A public, read-only link to one step. The token is random; the URL carries it signed."""

    token = models.CharField(max_length=64, unique=True, editable=False)
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="share_links")
    created_by = models.ForeignKey(
        "auth.User", null=True, on_delete=models.SET_NULL, related_name="step_share_links"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Provider traces carry the whole request (system prompt, tool schemas, earlier turns):
    # a public link shows them only when its creator chose so.
    include_traces = models.BooleanField(default=False)

    class Meta:
        indexes = [
            # the step page lists its links, newest first
            models.Index(fields=["step", "-created_at"], name="steps_sharelink_step"),
        ]

    def __str__(self) -> str:
        return f"share link to {self.step_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
