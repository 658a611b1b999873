"""Records of the sync itself: its runs (which are also the holders of every sync claim) and cursors.

One claim mechanism for all sync work: a claimed row (a step being refreshed, the discovery lease
in SyncCursor) names the SyncRun holding it, and that run's heartbeat, refreshed every few seconds
while it works, says whether the holder is alive. A claim whose holder missed three beats (killed,
lost its machine) is free, so a crashed sync's work is picked up within seconds, while a live
sync's work is never taken from it however slow Letta is.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone


def stale_after() -> timedelta:
    return timedelta(seconds=3 * settings.SYNC_HEARTBEAT_SECONDS)


class SyncRunQuerySet(models.QuerySet):
    def alive(self, now=None) -> SyncRunQuerySet:
        """Runs still working: running, with a heartbeat within the last three intervals."""
        return self.filter(status=SyncRun.Status.RUNNING, heartbeat_at__gte=silent_since(now))

    def mark_abandoned(self, now=None, *, taken_over_by: SyncRun | None = None) -> int:
        """Running runs whose heartbeat stopped: their process is gone, say so. A sync taking
        over such a run's claims calls this in the same transaction, naming itself."""
        reason = (
            f"sync #{taken_over_by.pk} took over its work"
            if taken_over_by
            else "the process was killed or lost"
        )
        return self.filter(status=SyncRun.Status.RUNNING, heartbeat_at__lt=silent_since(now)).update(
            status=SyncRun.Status.ABANDONED,
            finished_at=F("heartbeat_at"),
            error_message=f"Abandoned: its heartbeat stopped ({reason}).",
        )

    def start_unless_busy(self, max_running: int, **fields) -> SyncRun | None:
        """A new running SyncRun, unless `max_running` syncs are alive already: then None, and
        nothing is recorded. The count and the insert run under a lock on one SyncCursor row, so
        two ticks at the same moment cannot both see a free slot (on SQLite, where FOR UPDATE is
        a no-op, its IMMEDIATE transactions serialise every writer anyway)."""
        with transaction.atomic():
            SyncCursor.objects.select_for_update().get_or_create(name=START_LOCK)
            if self.alive().count() >= max_running:
                return None
            return self.create(**fields)


# The SyncCursor row that starts of scheduled syncs lock while they count the live ones.
START_LOCK = "sync-start"


def silent_since(now=None):
    """A running run whose last heartbeat is older than this is dead (it missed three beats)."""
    return (now or timezone.now()) - stale_after()


def unclaimed(field: str = "claimed_by") -> Q:
    """Rows of which `field` (a SyncRun) names no live holder: nobody, a finished or a dead run."""
    return Q(**{f"{field}__isnull": True}) | ~Q(**{f"{field}__in": SyncRun.objects.alive().values("pk")})


class SyncRun(models.Model):
    """One execution of the sync: what it did, what it skipped and how it ended."""

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCESS = "success"
        FAILED = "failed"
        ABANDONED = "abandoned"  # its heartbeat stopped: killed or lost

    class Mode(models.TextChoices):
        STEP_LIST = "step_list", "GET /v1/steps/"
        RUNS = "runs", "through runs (step list unavailable)"

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(default=timezone.now)
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
    # What this run left to others or took over, and why (shown in the chrome and the admin).
    discovery_skipped = models.BooleanField(default=False)
    steps_skipped = models.PositiveIntegerField(default=0, help_text="due, but held by another live sync")
    steps_reclaimed = models.PositiveIntegerField(default=0, help_text="taken over from a dead sync")
    notes = models.TextField(blank=True)

    objects = SyncRunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # page chrome: "synced 12 s ago" = the latest finished run
            models.Index(fields=["-started_at"], name="steps_syncrun_started"),
            # claims: the live holders, and runs to mark abandoned; a handful of rows
            models.Index(
                fields=["heartbeat_at"], name="steps_syncrun_running", condition=Q(status="running")
            ),
            # history pruning keeps failures longer: the newest failed and abandoned runs
            models.Index(
                fields=["-started_at"],
                name="steps_syncrun_failures",
                condition=Q(status__in=["failed", "abandoned"]),
            ),
        ]

    def __str__(self) -> str:
        return f"sync #{self.pk} {self.started_at:%Y-%m-%d %H:%M:%S} ({self.status})"

    def looks_dead(self, now=None) -> bool:
        """Running, but its heartbeat stopped: killed or lost, and not yet marked abandoned."""
        return self.status == SyncRun.Status.RUNNING and self.heartbeat_at < silent_since(now)

    @property
    def duration(self):
        return (self.finished_at - self.started_at) if self.finished_at else None

    @property
    def skipped_work(self) -> bool:
        return self.discovery_skipped or self.steps_skipped > 0

    @property
    def note_lines(self) -> list[str]:
        return [line for line in self.notes.splitlines() if line]


class SyncCursor(models.Model):
    """Named sync positions and the discovery lease, persisted after every page so a killed sync
    resumes; and the row that scheduled starts lock (START_LOCK)."""

    name = models.CharField(primary_key=True, max_length=64)
    value = models.CharField(max_length=255, blank=True)
    # The lease: the SyncRun holding it, free once that run is finished or its heartbeat stopped.
    lease_holder = models.ForeignKey(
        SyncRun,
        null=True,
        blank=True,
        # a deleted (pruned) run holds nothing: no cascade, no constraint
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
