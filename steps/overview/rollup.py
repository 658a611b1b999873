"""Recompute hourly rollups from steps: a whole hour at a time, so it is idempotent.

`flush()` recomputes the hours writers marked dirty (models/rollups.py); `rebuild()` marks a
range dirty and flushes it. Hours are claimed with SELECT ... FOR UPDATE SKIP LOCKED, so two
flushes (a sync batch and a vote) never recompute the same hour at once; a writer marking an
hour being recomputed waits for it, and its mark then stays for the next flush.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import BooleanField, Count, DateTimeField, F, IntegerField, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncHour

from ..models import (
    DailyRollup,
    DailyToolRollup,
    DirtyDay,
    DirtyHour,
    DirtyWeek,
    HourlyRollup,
    Message,
    RollupEpoch,
    Step,
    ToolRollup,
    WeeklyRollup,
    mark_dirty,
)
from ..models.rollups import (
    DURATION_BUCKETS,
    HISTOGRAM_BOUNDS_NS,
    LLM_BUCKETS,
    ONE_HOUR,
    ROLLUP_DIMENSIONS,
    SUMMED,
    TOOL_DIMENSIONS,
    hour_of,
    mark,
)

# Hours recomputed per transaction: short locks, and progress a rebuild can report.
FLUSH_CHUNK = 24
RANGE_HOURS = 3


def _histogram(column: str, names: list[str]) -> dict:
    bounds = [None, *HISTOGRAM_BOUNDS_NS, None]
    counts = {}
    for i, name in enumerate(names):
        low, high = bounds[i], bounds[i + 1]
        condition = Q(**{f"{column}__isnull": False})
        if low is not None:
            condition &= Q(**{f"{column}__gte": low})
        if high is not None:
            condition &= Q(**{f"{column}__lt": high})
        counts[name] = Count("pk", filter=condition)
    return counts


def _zero_sum(column: str):
    return Coalesce(Sum(column), Value(0))


def _step_rows(since: datetime, until: datetime):
    """The rollup rows of the hours in [since, until), straight from steps."""
    steps = Step.objects.filter(step_time__gte=since, step_time__lt=until).annotate(
        hour=TruncHour("step_time", tzinfo=UTC),
        is_hidden=Coalesce("review__hidden", Value(False), output_field=BooleanField()),
        shown_vote=Coalesce("vote__feedback", "feedback"),
        llm=F("metrics__llm_request_ns"),
    )
    return (
        steps.values("hour", "agent_id", "model", "provider_name", "status", "error_type", "is_hidden")
        .order_by()
        .annotate(
            steps=Count("pk"),
            prompt=_zero_sum("prompt_tokens"),
            completion=_zero_sum("completion_tokens"),
            cached=_zero_sum("cached_input_tokens"),
            duration=_zero_sum("duration_ns"),
            duration_n=Count("duration_ns"),
            llm_sum=_zero_sum("llm"),
            llm_n=Count("llm"),
            up=Count("pk", filter=Q(shown_vote="positive")),
            down=Count("pk", filter=Q(shown_vote="negative")),
            **_histogram("duration_ns", DURATION_BUCKETS),
            **_histogram("llm", LLM_BUCKETS),
        )
    )


def _tool_rows(since: datetime, until: datetime):
    calls = Message.objects.filter(
        step__step_time__gte=since, step__step_time__lt=until, message_type="tool_call_message"
    ).exclude(tool_name="")
    return (
        calls.annotate(
            hour=TruncHour("step__step_time", tzinfo=UTC),
            is_hidden=Coalesce("step__review__hidden", Value(False), output_field=BooleanField()),
        )
        .values(
            "hour",
            "step__agent_id",
            "step__model",
            "step__provider_name",
            "step__status",
            "step__error_type",
            "is_hidden",
            "tool_name",
        )
        .order_by()
        .annotate(steps=Count("step_id", distinct=True), calls=Count("pk", output_field=IntegerField()))
    )


# rollup column <- the name the aggregate query gives it
STEP_ROW_COLUMNS = {
    "hour": "hour",
    **{d: d for d in ROLLUP_DIMENSIONS if d != "hidden"},
    "hidden": "is_hidden",
    "steps": "steps",
    "prompt_tokens": "prompt",
    "completion_tokens": "completion",
    "cached_tokens": "cached",
    "duration_ns": "duration",
    "duration_count": "duration_n",
    "llm_ns": "llm_sum",
    "llm_count": "llm_n",
    "positive": "up",
    "negative": "down",
    **{name: name for name in DURATION_BUCKETS + LLM_BUCKETS},
}
TOOL_ROW_COLUMNS = {
    "hour": "hour",
    **{d: f"step__{d}" for d in ROLLUP_DIMENSIONS if d != "hidden"},
    "hidden": "is_hidden",
    "tool_name": "tool_name",
    "steps": "steps",
    "calls": "calls",
}


def _insert_select(model, rows, columns: dict[str, str]) -> int:
    """INSERT the rows of an aggregate queryset into `model`'s table inside the database: a
    day of hours is thousands of rows of fifty columns, too many to bring into Python and back."""
    sql, params = rows.query.sql_with_params()
    quote = connection.ops.quote_name
    targets = ", ".join(quote(model._meta.get_field(name).column) for name in columns)
    sources = ", ".join(f"r.{quote(alias)}" for alias in columns.values())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} ({targets}) SELECT {sources} FROM ({sql}) r", params
        )
        return cursor.rowcount


def recompute_range(since: datetime, until: datetime) -> int:
    """Replace the rollups of the whole hours in [since, until); returns the rows written."""
    since, until = hour_of(since), hour_of(until - timedelta(microseconds=1)) + ONE_HOUR
    with transaction.atomic():
        HourlyRollup.objects.between(since, until).delete()
        ToolRollup.objects.between(since, until).delete()
        written = _insert_select(HourlyRollup, _step_rows(since, until), STEP_ROW_COLUMNS)
        _insert_select(ToolRollup, _tool_rows(since, until), TOOL_ROW_COLUMNS)
    return written


def _ranges(hours: Iterable[datetime]) -> list[tuple[datetime, datetime]]:
    """Consecutive hours as [start, end) ranges of at most RANGE_HOURS: one query per range.
    Short, because over a few thousand steps PostgreSQL trades the primary-key lookups of
    metrics and messages for a hash join that reads both tables whole."""
    ranges: list[list[datetime]] = []
    for hour in sorted(hours):
        if ranges and ranges[-1][1] == hour and hour - ranges[-1][0] < RANGE_HOURS * ONE_HOUR:
            ranges[-1][1] = hour + ONE_HOUR
        else:
            ranges.append([hour, hour + ONE_HOUR])
    return [(a, b) for a, b in ranges]


def day_of(hour: datetime) -> datetime:
    return hour.replace(hour=0)


def week_of(day: datetime) -> datetime:
    """The Monday (UTC midnight) of a day's ISO week."""
    return day_of(day) - timedelta(days=day.weekday())


def _sum_into(coarse, fine, start: datetime, end: datetime, dimensions: list[str], summed: list[str]) -> None:
    """Replace `coarse`'s rows at `start` with the sums of `fine`'s rows in [start, end)."""
    rows = (
        fine.objects.between(start, end)
        .values(*dimensions)
        .order_by()
        .annotate(period=Value(start, output_field=DateTimeField()), **{f"sum_{n}": Sum(n) for n in summed})
    )
    coarse.objects.filter(hour=start).delete()
    _insert_select(
        coarse, rows, {"hour": "period", **{d: d for d in dimensions}, **{n: f"sum_{n}" for n in summed}}
    )


def recompute_day(day: datetime) -> None:
    """Replace a UTC day's DailyRollup and DailyToolRollup rows with the sums of its hours."""
    end = day + timedelta(days=1)
    _sum_into(DailyRollup, HourlyRollup, day, end, ROLLUP_DIMENSIONS, SUMMED)
    _sum_into(DailyToolRollup, ToolRollup, day, end, TOOL_DIMENSIONS, ["steps", "calls"])


def recompute_week(week: datetime) -> None:
    """Replace a UTC week's WeeklyRollup rows with the sums of its days."""
    _sum_into(WeeklyRollup, DailyRollup, week, week + timedelta(days=7), ROLLUP_DIMENSIONS, SUMMED)


def _flush_periods(dirty, recompute: Callable[[datetime], None], then_dirty=None, of=None) -> int:
    """Recompute every period `dirty` names (days, weeks), claimed so two flushes never
    rebuild the same one at once; mark the coarser periods they are in (`then_dirty`).
    Returns how many."""
    done = 0
    while True:
        with transaction.atomic():
            claimed = dirty.objects.select_for_update(skip_locked=True).order_by("pk")
            periods = list(claimed.values_list("pk", flat=True)[:FLUSH_CHUNK])
            if not periods:
                return done
            done += len(periods)
            for period in periods:
                recompute(period)
            dirty.objects.filter(pk__in=periods).delete()
            if then_dirty is not None:
                coarser = sorted({of(p) for p in periods})
                mark(then_dirty, coarser)


def flush(on_chunk: Callable[[int, int], None] | None = None) -> int:
    """Recompute every dirty hour, then the days and weeks they are in; returns how many hours.
    `on_chunk(hours_done, rows)` after each chunk of hours."""
    done = 0
    while True:
        with transaction.atomic():
            claimed = DirtyHour.objects.select_for_update(skip_locked=True).order_by("hour")
            hours = list(claimed.values_list("hour", flat=True)[:FLUSH_CHUNK])
            if not hours:
                break
            rows = sum(recompute_range(a, b) for a, b in _ranges(hours))
            DirtyHour.objects.filter(hour__in=hours).delete()
            days = sorted({day_of(h) for h in hours})
            mark(DirtyDay, days)
        done += len(hours)
        if on_chunk:
            on_chunk(done, rows)
    periods = _flush_periods(DirtyDay, recompute_day, then_dirty=DirtyWeek, of=week_of)
    periods += _flush_periods(DirtyWeek, recompute_week)
    if done or periods:
        RollupEpoch.bump()  # after the last write: a page drawn before it is drawn again
    return done


def mark_range(since: datetime, until: datetime) -> int:
    """Mark every hour of [since, until) dirty (a rebuild); returns how many."""
    hours, hour = [], hour_of(since)
    while hour < until:
        hours.append(hour)
        hour += ONE_HOUR
    for start in range(0, len(hours), 1000):
        mark_dirty(hours[start : start + 1000])
    return len(hours)


def step_time_bounds(since: datetime | None = None) -> tuple[datetime, datetime] | None:
    """The first and last step time (from `since`): two index seeks on steps_step_time."""
    steps = Step.objects.filter(step_time__gte=since) if since else Step.objects.all()
    first = steps.order_by("step_time").values_list("step_time", flat=True).first()
    last = steps.order_by("-step_time").values_list("step_time", flat=True).first()
    return (first, last) if first and last else None


def rebuild(since: datetime | None = None, on_progress: Callable[[int, int], None] | None = None) -> int:
    """Recompute every hour that has steps (from `since`) and drop rollups of hours without any;
    `on_progress(hours_done, hours_total)` after each chunk. Returns the hours recomputed."""
    bounds = step_time_bounds(since)
    with transaction.atomic():
        stale = HourlyRollup.objects.all()
        tools = ToolRollup.objects.all()
        if since:
            stale, tools = stale.filter(hour__gte=hour_of(since)), tools.filter(hour__gte=hour_of(since))
        if bounds:
            stale = stale.exclude(hour__gte=hour_of(bounds[0]), hour__lte=bounds[1])
            tools = tools.exclude(hour__gte=hour_of(bounds[0]), hour__lte=bounds[1])
        stale.delete()
        tools.delete()
        RollupEpoch.bump()
        for coarse, start_of in ((DailyRollup, day_of), (DailyToolRollup, day_of), (WeeklyRollup, week_of)):
            periods = coarse.objects.all()
            if since:
                periods = periods.filter(hour__gte=start_of(hour_of(since)))
            if bounds:
                periods = periods.exclude(hour__gte=start_of(hour_of(bounds[0])), hour__lte=bounds[1])
            periods.delete()
    total = mark_range(bounds[0], bounds[1] + timedelta(microseconds=1)) if bounds else 0
    total += DirtyHour.objects.count() - total  # hours other writers had marked are flushed too
    hours = flush(lambda done, rows: on_progress and on_progress(done, max(total, done)))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # fresh statistics: the planner then hashes, never sorts to disk
            cursor.execute(
                "ANALYZE steps_hourlyrollup, steps_dailyrollup, steps_weeklyrollup, "
                "steps_toolrollup, steps_dailytoolrollup"
            )
    return hours
