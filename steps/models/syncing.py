"""Records of the sync itself: its runs, cursors and leases."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class SyncRun(models.Model):
    """One execution of the sync: what it did and how it ended, for the UI and the admin."""

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCESS = "success"
        FAILED = "failed"

    class Mode(models.TextChoices):
        STEP_LIST = "step_list", "GET /v1/steps/"
        RUNS = "runs", "through runs (step list unavailable)"

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.RUNNING)
    trigger = models.CharField(max_length=32, default="schedule")
    mode = models.CharField(max_length=16, choices=Mode, blank=True)
    upstream_url = models.CharField(max_length=500, blank=True)
    pages = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)
    steps_created = models.PositiveIntegerField(default=0)
    steps_updated = models.PositiveIntegerField(default=0)
    steps_refreshed = models.PositiveIntegerField(default=0)
    runs_seen = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # page chrome: "synced 12 s ago" = the latest finished run
            models.Index(fields=["-started_at"], name="steps_syncrun_started"),
        ]

    def __str__(self) -> str:
        return f"sync {self.started_at:%Y-%m-%d %H:%M:%S} ({self.status})"

    @property
    def duration(self):
        return (self.finished_at - self.started_at) if self.finished_at else None


class SyncCursor(models.Model):
    """Named sync positions and leases, persisted after every page so a killed sync resumes."""

    name = models.CharField(primary_key=True, max_length=64)
    value = models.CharField(max_length=255, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
