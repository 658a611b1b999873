"""The overview's numbers: the list's filters applied to the hourly rollups, a handful of
GROUP BY queries over a time range (never over steps), folded into buckets and series."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from django import forms
from django.db.models import Case, CharField, F, Q, Sum, Value, When
from django.db.models.functions import TruncDay, TruncWeek
from django.utils import timezone

from ..cost import current_prices
from ..facets import values_of
from ..fields import clamp
from ..filters import PERIODS, StepFilterForm
from ..models import (
    Agent,
    DailyRollup,
    DailyToolRollup,
    FacetCount,
    HourlyRollup,
    ToolRollup,
    WeeklyRollup,
)
from ..models.rollups import DURATION_BUCKETS, HISTOGRAM_BOUNDS_NS, LLM_BUCKETS, ONE_HOUR, hour_of
from .charts import Bucket
from .stats import percentile

# breakdown name -> (rollup column, the list's filter parameter)
BREAKDOWNS = {
    "model": ("model", "model"),
    "agent": ("agent_id", "agent"),
    "provider": ("provider_name", "provider"),
    "status": ("status", "status"),
}
BREAKDOWN_CHOICES = [("model", "Model"), ("agent", "Agent"), ("provider", "Provider"), ("status", "Status")]
# The filters the rollups answer; any other filter applies to the step list only.
SERVED = {
    "period",
    "since",
    "until",
    "agent",
    "model",
    "provider",
    "status",
    "error_type",
    "has_error",
    "hidden",
}
LINKABLE_STATUSES = {value for value, _ in StepFilterForm.base_fields["status"].choices if value}
TOP_SERIES = 6
OTHER = "(other)"  # in Python only: the query says NULL, which no rollup column holds
DEFAULT_PERIOD = "7d"
MAX_RANGE = timedelta(days=400)
HOURLY_UP_TO = timedelta(days=3)
# Longer ranges have weekly buckets: 14 bars for 90 days, 58 for 400, each still a click into
# its steps, and a third of the daily rows to read.
DAILY_UP_TO = timedelta(days=32)

SUMS = ["steps", "prompt_tokens", "completion_tokens", "cached_tokens", "duration_ns", "duration_count"]
SUMS += ["llm_ns", "llm_count", "positive", "negative"]


class OverviewForm(StepFilterForm):
    """The list's query string, plus how to break the charts down."""

    breakdown = forms.ChoiceField(required=False, choices=BREAKDOWN_CHOICES)

    NOT_FILTERS = StepFilterForm.NOT_FILTERS | {"breakdown"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        options = ", ".join(label for _, label in BREAKDOWN_CHOICES)
        self.fields["breakdown"].error_messages["invalid_choice"] = f"not one of {options}."

    @property
    def breakdown_name(self) -> str:
        self.is_valid()
        return self.cleaned_data.get("breakdown") or "model"

    @property
    def unserved(self) -> list[tuple[str, str, str]]:
        """Active filters the charts cannot apply (search, tag, tool, token ranges ...)."""
        return [chip for chip in self.active if chip[0] not in SERVED]


@dataclass
class TimeRange:
    since: datetime  # whole hours (daily buckets: local midnights; weekly: local Monday midnights)
    until: datetime
    grain: str  # "hour", "day" or "week": the bucket, chosen from the range's length
    clamped: bool = False

    @property
    def daily(self) -> bool:
        """Buckets of a day or more (the hourly rollups are then summed, or not read)."""
        return self.grain != "hour"

    @property
    def buckets(self) -> list[Bucket]:
        found, start = [], self.since
        while start < self.until:
            end = _next(start, self.grain)
            found.append(_bucket(start, end, self.grain))
            start = end
        return found


def _next(start: datetime, grain: str) -> datetime:
    if grain == "hour":
        return start + ONE_HOUR
    local = timezone.localtime(start)
    days = 7 if grain == "week" else 1
    return timezone.make_aware(datetime.combine(local.date() + timedelta(days=days), time()), local.tzinfo)


def _first(when: datetime, grain: str) -> datetime:
    """The start of the day or week (Monday) `when` is in, in the current time zone."""
    local = timezone.localtime(when)
    day = local.date() - timedelta(days=local.weekday() if grain == "week" else 0)
    return timezone.make_aware(datetime.combine(day, time()), local.tzinfo)


def _bucket(start: datetime, end: datetime, grain: str) -> Bucket:
    local = timezone.localtime(start)
    if grain == "week":
        last = timezone.localtime(end - timedelta(microseconds=1))
        return Bucket(start, end, local.strftime("%b %-d"), f"week of {local:%a %b %-d} – {last:%a %b %-d}")
    if grain == "day":
        return Bucket(start, end, local.strftime("%b %-d"), local.strftime("%a %b %-d"))
    label = local.strftime("%H:%M") if local.hour else local.strftime("%b %-d")
    return Bucket(start, end, label, f"{local:%b %-d, %H:%M}–{timezone.localtime(end):%H:%M}")


def time_range(data: dict, now: datetime | None = None, default: str = DEFAULT_PERIOD) -> TimeRange:
    now = now or timezone.now()
    # the form keeps dates inside these bounds; clamped again here, so that whatever the caller,
    # widening the range to whole buckets never leaves datetime's years 1 to 9999
    until = clamp(data.get("until") or now)
    if data.get("since"):
        since = data["since"]
    elif data.get("period"):
        since = now - PERIODS[data["period"]]
    else:
        since = until - PERIODS[default]
    since = clamp(min(since, until))
    clamped = until - since > MAX_RANGE
    if clamped:
        since = until - MAX_RANGE
    length = until - since
    grain = "hour" if length <= HOURLY_UP_TO else "day" if length <= DAILY_UP_TO else "week"
    start, end = hour_of(since), hour_of(until) + ONE_HOUR
    if grain != "hour":
        start, end = _first(start, grain), _next(_first(end - timedelta(microseconds=1), grain), grain)
    return TimeRange(start, end, grain, clamped)


def rollup_filter(data: dict) -> Q:
    """The served filters as a condition on rollup rows (same meaning as StepFilterForm.filter)."""
    condition = Q()
    for name, column in (("provider", "provider_name"), ("status", "status")):
        if data.get(name):
            condition &= Q(**{column: data[name]})
    if data.get("model"):
        condition &= Q(model=data["model"]) | Q(model__in=_models_named(data["model"]))
    if data.get("error_type"):
        condition &= Q(error_type=data["error_type"])
    if data.get("agent"):
        condition &= Q(agent_id=data["agent"]) | Q(agent_id__in=_agents_named(data["agent"]))
    if data.get("has_error") == "yes":
        condition &= ~Q(error_type="")
    elif data.get("has_error") == "no":
        condition &= Q(error_type="")
    if not data.get("hidden"):
        condition &= Q(hidden=False)
    return condition


UTC_ROLLUPS = {"hour": HourlyRollup, "day": DailyRollup, "week": WeeklyRollup}
LOCAL_TRUNC = {"day": TruncDay, "week": TruncWeek}


def _utc_zone() -> bool:
    return timezone.get_current_timezone_name() in ("UTC", "Etc/UTC")


def rollup_rows(span: TimeRange, data: dict):
    """The rollup rows of a range with the served filters, and the expression of their bucket.
    Days and weeks read DailyRollup and WeeklyRollup when they are UTC ones (TIME_ZONE=UTC),
    else sum hours."""
    if span.grain == "hour" or _utc_zone():
        rows, bucket = UTC_ROLLUPS[span.grain].objects, F("hour")
    else:
        rows = HourlyRollup.objects
        bucket = LOCAL_TRUNC[span.grain]("hour", tzinfo=timezone.get_current_timezone())
    return rows.between(span.since, span.until).filter(rollup_filter(data)), bucket


def tool_rows(span: TimeRange, data: dict):
    """The tool rollup rows of a range: whole UTC days read their daily sums."""
    model = DailyToolRollup if span.daily and _utc_zone() else ToolRollup
    return model.objects.between(span.since, span.until).filter(rollup_filter(data))


# As the list (steps/known_values.py): an agent by id or by name, a model by name, in any case;
# here as subqueries of the rollup query (a range's rollup rows are few), not queries of their own.


def _agents_named(value: str):
    return Agent.objects.filter(name__iexact=value).values("id")


def _models_named(value: str):
    return FacetCount.objects.filter(dimension="model", value__iexact=value).values("value")


def _sums(*names: str) -> dict:
    return {name: Sum(name) for name in names}


def _errors() -> Sum:
    return Sum("steps", filter=~Q(error_type=""))


@dataclass
class Group:
    """Summed rollup rows (a bucket, an agent, the whole range)."""

    sums: dict = field(default_factory=lambda: defaultdict(int))
    errors: int = 0
    cost: Decimal = Decimal(0)
    unpriced_tokens: int = 0

    def add(self, row: dict) -> None:
        for name in SUMS_AND_BUCKETS & row.keys():
            self.sums[name] += row[name] or 0
        self.errors += row.get("errors") or 0

    def add_counts(self, row: dict) -> None:
        """Only the steps and errors of a row (a chart's series)."""
        self.sums["steps"] += row["steps"] or 0
        self.errors += row["errors"] or 0

    def add_cost(self, row: dict, prices) -> None:
        price = prices.for_model(row["model"]) if hasattr(prices, "for_model") else prices.get(row["model"])
        if price is None:
            self.unpriced_tokens += (row["prompt_tokens"] or 0) + (row["completion_tokens"] or 0)
        else:
            self.cost += price.cost(
                row["prompt_tokens"] or 0, row["completion_tokens"] or 0, row["cached_tokens"] or 0
            )

    def __getitem__(self, name: str) -> int:
        # only summed columns: a template asking for `errors` falls back to the attribute
        if name not in SUMS_AND_BUCKETS:
            raise KeyError(name)
        return self.sums[name]

    def quantile(self, kind: str, q: float) -> float | None:
        names = DURATION_BUCKETS if kind == "duration" else LLM_BUCKETS
        return percentile([self.sums[n] for n in names], q, HISTOGRAM_BOUNDS_NS)

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.sums["steps"] if self.sums["steps"] else None

    @property
    def reviewed(self) -> int:
        return self.sums["positive"] + self.sums["negative"]

    @property
    def tokens(self) -> int:
        return self.sums["prompt_tokens"] + self.sums["completion_tokens"]

    @property
    def has_cost(self) -> bool:
        return self.tokens > self.unpriced_tokens or self.tokens == 0


SUMS_AND_BUCKETS = set(SUMS + DURATION_BUCKETS + LLM_BUCKETS)


@dataclass
class Overview:
    range: TimeRange
    breakdown: str
    buckets: list[Bucket]
    series: list[tuple[str, str]]  # (value or OTHER, label), most steps first
    total: Group
    by_bucket: list[Group]
    by_series: dict[tuple[int, str], Group]  # (bucket index, series value): steps and errors
    agents: list[tuple[str, str, Group]]  # (agent id, label, group), most costly first
    error_types: list[tuple[str, int]]
    tools: list[tuple[str, int, int]]  # (tool, steps, calls)
    options: dict[str, list[str]]  # values seen in the range, for the filter selects


def build(form: OverviewForm, now: datetime | None = None) -> Overview:
    form.is_valid()
    data = form.cleaned_data
    span = time_range(data, now)
    rows, bucket_of = rollup_rows(span, data)
    breakdown = form.breakdown_name
    column = BREAKDOWNS[breakdown][0]
    prices = current_prices()
    buckets = span.buckets
    starts = {b.start: i for i, b in enumerate(buckets)}

    # 1. per (agent, model): totals, agents and their cost (a price is per model)
    groups = list(
        rows.values("agent_id", "model")
        .order_by()
        .annotate(errors=_errors(), **_sums(*SUMS, *DURATION_BUCKETS, *LLM_BUCKETS))
    )
    total, per_agent = Group(), defaultdict(Group)
    for row in groups:
        for group in (total, per_agent[row["agent_id"]]):
            group.add(row)
            group.add_cost(row, prices)
    # the largest series: from the groups above when they are by the breakdown's column
    if column in ("agent_id", "model"):
        per_series: dict[str, int] = defaultdict(int)
        for row in groups:
            per_series[row[column]] += row["steps"] or 0
    else:
        per_series = dict(rows.values_list(column).order_by().annotate(n=Sum("steps")))
    ranked = sorted(per_series, key=lambda v: (-per_series[v], v))
    top = ranked if len(ranked) <= TOP_SERIES + 1 else ranked[:TOP_SERIES]  # never "1 other"
    rest = [v for v in ranked if v not in top]

    # 2. everything per bucket; cost needs the model
    by_bucket = [Group() for _ in buckets]
    per_model = list(
        rows.annotate(b=bucket_of)
        .values("b", "model")
        .order_by()
        .annotate(errors=_errors(), **_sums(*SUMS, *DURATION_BUCKETS, *LLM_BUCKETS))
    )
    for row in per_model:
        if (i := starts.get(row["b"])) is not None:
            by_bucket[i].add(row)
            by_bucket[i].add_cost(row, prices)

    # 3. steps and errors per bucket and series (the rest folded into "other"): by model,
    # the rows above already say it
    if column == "model":
        per_series_rows = [
            {**row, "series": row["model"] if row["model"] in top else None} for row in per_model
        ]
    else:
        series_of = Case(
            *[When(**{column: v}, then=Value(v)) for v in top], default=Value(None), output_field=CharField()
        )
        per_series_rows = (
            rows.annotate(b=bucket_of, series=series_of)
            .values("b", "series")
            .order_by()
            .annotate(errors=_errors(), steps=Sum("steps"))
        )
    by_series: dict[tuple[int, str], Group] = defaultdict(Group)
    for row in per_series_rows:
        if (i := starts.get(row["b"])) is not None:
            by_series[(i, OTHER if row["series"] is None else row["series"])].add_counts(row)

    error_types = list(
        rows.exclude(error_type="")
        .values_list("error_type")
        .order_by()
        .annotate(n=Sum("steps"))
        .order_by("-n", "error_type")[:8]
    )
    tools = list(
        tool_rows(span, data)
        .values_list("tool_name")
        .order_by()
        .annotate(steps=Sum("steps"), calls=Sum("calls"))
        .order_by("-steps", "tool_name")[:10]
    )
    names = Agent.objects.names(per_agent)
    agents = sorted(
        (
            (a, (names[a].name if a in names and names[a].name else a) or "(no agent)", g)
            for a, g in per_agent.items()
        ),
        key=lambda t: (-t[2].cost, -t[2]["steps"], t[1]),
    )
    label = _series_label(breakdown, names)
    series = [(v, label(v)) for v in top] + ([(OTHER, f"{len(rest)} other")] if rest else [])
    options = {
        "agent": sorted({(g["agent_id"]) for g in groups if g["agent_id"]}),
        "model": sorted({g["model"] for g in groups if g["model"]}),
        # every provider the list knows (precomputed), not only those of the range
        "provider": values_of("provider"),
    }
    return Overview(
        range=span,
        breakdown=breakdown,
        buckets=buckets,
        series=series,
        total=total,
        by_bucket=by_bucket,
        by_series=by_series,
        agents=agents,
        error_types=error_types,
        tools=tools,
        options=options,
    )


def _series_label(breakdown: str, names: dict):
    def label(value: str) -> str:
        if breakdown == "agent" and value in names and names[value].name:
            return names[value].name
        return value or f"(no {breakdown})"

    return label
