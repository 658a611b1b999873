"""Hourly rollups of steps: what the overview charts and the list sparkline read instead of steps.

One row per hour and (agent, model, provider, status, error type, archived): counts, token and
time sums, and a fixed log-scale histogram of step duration and LLM time, from which p50/p95 are
estimated. Rows are derived data: `steps/overview/rollup.py` recomputes a whole hour from steps,
so a recompute is idempotent and a rebuild gives the same rows.

Writers that change a step (sync upserts, detail refreshes, votes, archiving) call `mark_dirty`
with the step's old and new times inside their own transaction; the hours it names are
recomputed after each synced batch, after a vote and by a periodic sweep. Marking is durable:
a worker killed before the recompute leaves the hour marked, never a stale rollup unnoticed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.db import connection, models

# Histogram bucket bounds in ns: quarter decades from 10 ms to 100 s (x1.78 per bucket), so an
# interpolated percentile is within a few percent. Bucket 0 is below 10 ms, the last one 100 s
# and more.
HISTOGRAM_BOUNDS_NS = [round(10 ** (7 + k / 4)) for k in range(17)]
HISTOGRAM_BUCKETS = len(HISTOGRAM_BOUNDS_NS) + 1
DURATION_BUCKETS = [f"duration_h{i}" for i in range(HISTOGRAM_BUCKETS)]
LLM_BUCKETS = [f"llm_h{i}" for i in range(HISTOGRAM_BUCKETS)]

ROLLUP_DIMENSIONS = ["agent_id", "model", "provider_name", "status", "error_type", "hidden"]


def hour_of(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class DirtyHour(models.Model):
    """An hour whose rollups must be recomputed from steps (a small, durable to-do list)."""

    hour = models.DateTimeField(primary_key=True)

    def __str__(self) -> str:
        return f"dirty {self.hour:%Y-%m-%d %H:00}"


def mark_dirty(times: Iterable[datetime | None]) -> None:
    """Mark the hours of these step times for a recompute. Call it inside the transaction that
    changes the steps; sorted, so two writers never take the same rows in opposite orders."""
    mark(DirtyHour, {hour_of(t) for t in times if t})


def mark(dirty: type[models.Model], periods: Iterable[datetime]) -> None:
    """Mark periods (DirtyHour, DirtyDay, DirtyWeek rows) for a recompute, so that no flush
    running at the same time can take the mark without seeing this transaction's writes.

    A mark that exists already is not enough: a flush in another process may have claimed it
    (FOR UPDATE) and be recomputing from a snapshot without our rows, then delete it. So each
    mark is held with a share lock until this transaction ends: a flush skips marks held
    (SKIP LOCKED) and takes them next time; a mark a flush holds makes us wait for it to end,
    and then insert the mark again. Writers share the lock, so they never wait on each other.
    Found by the sync's scale-out bench: two workers left hourly rollups off a recount."""
    pending = sorted(set(periods))
    while pending:
        dirty.objects.bulk_create([dirty(pk=p) for p in pending], ignore_conflicts=True)
        if connection.vendor != "postgresql":
            return  # SQLite runs one writer at a time: nothing can take the mark meanwhile
        table, pk = connection.ops.quote_name(dirty._meta.db_table), dirty._meta.pk.column
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {pk} FROM {table} WHERE {pk} = ANY(%s) ORDER BY 1 FOR SHARE", [pending])
            held = {row[0] for row in cursor.fetchall()}
        pending = [p for p in pending if p not in held]


class RollupEpoch(models.Model):
    """One row whose number goes up whenever a flush writes rollups: pages that draw from the
    rollups (steps/overview/memo.py) reuse a drawing while it is unchanged."""

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"rollup epoch {self.value}"

    @classmethod
    def current(cls) -> int:
        return cls.objects.filter(pk=1).values_list("value", flat=True).first() or 0

    @classmethod
    def bump(cls) -> None:
        # an UPDATE, not a read then a write: concurrent flushes never lose a bump
        if not cls.objects.filter(pk=1).update(value=models.F("value") + 1):
            cls.objects.get_or_create(pk=1, defaults={"value": 1})


class RollupQuerySet(models.QuerySet):
    def between(self, since: datetime | None, until: datetime | None) -> RollupQuerySet:
        """Rows of the hours in [since, until): both bounds whole hours (hour_of)."""
        qs = self
        if since:
            qs = qs.filter(hour__gte=since)
        if until:
            qs = qs.filter(hour__lt=until)
        return qs


class Dimensions(models.Model):
    """What a rollup row is per (ROLLUP_DIMENSIONS): the overview's filters and breakdowns."""

    agent_id = models.CharField(max_length=64, blank=True)
    model = models.CharField(max_length=255, blank=True)
    provider_name = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, blank=True)
    error_type = models.CharField(max_length=255, blank=True)
    # archived steps are out of the default list, so the charts can leave them out too
    hidden = models.BooleanField(default=False)

    objects = RollupQuerySet.as_manager()

    class Meta:
        abstract = True


class RollupRow(Dimensions):
    """The dimensions and sums of a rollup row; HourlyRollup, DailyRollup and WeeklyRollup add the time."""

    steps = models.IntegerField(default=0)
    prompt_tokens = models.BigIntegerField(default=0)
    completion_tokens = models.BigIntegerField(default=0)
    cached_tokens = models.BigIntegerField(default=0)
    duration_ns = models.BigIntegerField(default=0)
    duration_count = models.IntegerField(default=0)
    llm_ns = models.BigIntegerField(default=0)
    llm_count = models.IntegerField(default=0)
    # feedback as the review UI shows it: our vote when there is one, else Letta's
    positive = models.IntegerField(default=0)
    negative = models.IntegerField(default=0)

    class Meta:
        abstract = True


# 2 x 18 histogram counters, kept as plain columns so SUM works on PostgreSQL and SQLite alike.
for _name in DURATION_BUCKETS + LLM_BUCKETS:
    RollupRow.add_to_class(_name, models.IntegerField(default=0))

SUMMED = [f.name for f in RollupRow._meta.fields if f.name not in ROLLUP_DIMENSIONS]


class HourlyRollup(RollupRow):
    hour = models.DateTimeField()

    class Meta:
        indexes = [
            # every overview query: a time range, then GROUP BY; recomputes delete by hour
            models.Index(fields=["hour"], name="steps_rollup_hour"),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00} {self.agent_id} {self.model}"


class DailyRollup(RollupRow):
    """The hourly rows of a UTC day summed: what a range of weeks reads (~7x fewer rows)."""

    hour = models.DateTimeField(help_text="The day's first hour (UTC midnight).")

    class Meta:
        indexes = [models.Index(fields=["hour"], name="steps_rollup_day")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d} {self.agent_id} {self.model}"


class WeeklyRollup(RollupRow):
    """The daily rows of a UTC week (Monday to Sunday) summed: what a range of months reads
    (~3x fewer rows than its days, and a 90-day chart of 14 bars instead of 90)."""

    hour = models.DateTimeField(help_text="The week's first hour (Monday, UTC midnight).")

    class Meta:
        indexes = [models.Index(fields=["hour"], name="steps_rollup_week")]

    def __str__(self) -> str:
        return f"week of {self.hour:%Y-%m-%d} {self.agent_id} {self.model}"


class DirtyDay(models.Model):
    """A UTC day whose DailyRollup and DailyToolRollup rows must be summed again from its hours."""

    day = models.DateTimeField(primary_key=True)

    def __str__(self) -> str:
        return f"dirty {self.day:%Y-%m-%d}"


class DirtyWeek(models.Model):
    """A UTC week whose WeeklyRollup rows must be summed again from its days."""

    week = models.DateTimeField(primary_key=True)

    def __str__(self) -> str:
        return f"dirty week of {self.week:%Y-%m-%d}"


class ToolRow(Dimensions):
    """The dimensions and counts of a tool rollup row; ToolRollup and DailyToolRollup add the time."""

    tool_name = models.CharField(max_length=255)
    steps = models.IntegerField(default=0)
    calls = models.IntegerField(default=0)

    class Meta:
        abstract = True


TOOL_DIMENSIONS = [*ROLLUP_DIMENSIONS, "tool_name"]


class ToolRollup(ToolRow):
    """Per hour and tool: the steps that called it and how many calls, for "top tools"."""

    hour = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["hour"], name="steps_toolrollup_hour")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00} {self.tool_name}"


class DailyToolRollup(ToolRow):
    """The hourly tool rows of a UTC day summed (a month of hours is ~70 k rows, its days ~5 k)."""

    hour = models.DateTimeField(help_text="The day's first hour (UTC midnight).")

    class Meta:
        indexes = [models.Index(fields=["hour"], name="steps_toolrollup_day")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d} {self.tool_name}"


ONE_HOUR = timedelta(hours=1)
