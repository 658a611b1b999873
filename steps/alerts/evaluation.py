"""Alerts evaluated from the hourly rollups (never from steps): the overview's own filter and sums.

The window. Rollups are hourly, so a window is the whole hours it overlaps, up to now: "the last
15 minutes" at 10:20 reads 10:00–10:20 (the hour so far), at 10:05 it reads 09:00–10:05 (it reaches
into 09:xx); "the last 60 minutes" at 10:05 reads 09:00–10:05. A window shorter than an hour
therefore means "this hour so far, and the previous one when the window reaches into it": never
less than asked, up to an hour more. Every notification names the exact range it read, and its
link opens the step list on that same range, so the figure can be checked step by step. The
previous window (for ×N) is the same number of whole hours just before.

Cost: the window's tokens at the current prices (as the overview), per hour of the range read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.http import QueryDict
from django.utils import timezone

from ..cost import current_prices
from ..filters import StepFilterForm, list_query
from ..models import HourlyRollup
from ..models.rollups import DURATION_BUCKETS, ONE_HOUR, hour_of
from ..overview.report import SERVED, SUMS, Group, rollup_filter
from ..overview.stats import ms
from . import conditions
from .models import Alert, AlertEvent, Notification

TIME_PARAMS = ("period", "since", "until")
# Kept out of an alert's query: the window says the time; paging and live mean nothing here.
DROPPED = (*TIME_PARAMS, "sort", "cursor", "live", "from", "newest_time", "newest_id")
WINDOW_CHOICES = [15, 30, 60, 120, 180, 360, 720, 1440]  # 15 min ... 24 h
MAX_WINDOW_MINUTES = 1440
RATES = {"error_rate", "negative_share"}


class UnservedQuery(ValueError):
    """The query cannot be answered by the rollups (or is invalid): said on save, as a 400."""


def clean_query(query: str) -> str:
    """The alert's query as stored: valid, served by the rollups, without time or paging.
    Raises UnservedQuery with a sentence saying what to change."""
    params = QueryDict(query)
    form = StepFilterForm(params)
    if form.errors:
        problems = "; ".join(f"{label} {value!r}: {why}" for label, value, why in form.problems)
        raise UnservedQuery(f"The query has invalid values ({problems}).")
    unserved = sorted({label for name, label, _ in form.active if name not in SERVED and name not in DROPPED})
    if unserved:
        raise UnservedQuery(
            f"Alerts read the hourly rollups, which cannot apply {', '.join(unserved)}: keep to "
            "agent, model, provider, status, error type, errors and archived."
        )
    kept = params.copy()
    for name in DROPPED:
        kept.pop(name, None)
    return list_query(kept)


@dataclass(frozen=True)
class Window:
    start: datetime  # whole hours: the rollup rows read are [start, end)
    end: datetime
    until: datetime  # what they hold reaches up to here (now, for the current window)

    @property
    def hours(self) -> float:
        """The hours the range covers so far (cost per hour divides by it)."""
        return max((self.until - self.start) / ONE_HOUR, 1 / 60)

    def previous(self) -> Window:
        start = self.start - (self.end - self.start)
        return Window(start, self.start, self.start)


def window_at(now: datetime, minutes: int) -> Window:
    return Window(hour_of(now - timedelta(minutes=minutes)), hour_of(now) + ONE_HOUR, now)


@dataclass(frozen=True)
class Figure:
    value: float | None
    steps: int


def measure(alert: Alert, window: Window, prices=None) -> Figure:
    """The alert's series over the window's rollup rows: one GROUP BY query, by model for cost."""
    form = StepFilterForm(QueryDict(alert.query))
    form.is_valid()
    rows = (
        HourlyRollup.objects.filter(hour__gte=window.start, hour__lt=window.end)
        .filter(rollup_filter(form.cleaned_data))
        .values("model")
        .order_by()
        .annotate(
            errors=Sum("steps", filter=~Q(error_type="")), **{n: Sum(n) for n in SUMS + DURATION_BUCKETS}
        )
    )
    group = Group()
    if alert.series == "cost":
        prices = prices or current_prices()
    for row in rows:
        group.add(row)
        if alert.series == "cost":
            group.add_cost(row, prices)
    steps = group["steps"]
    if alert.series == "steps":
        return Figure(float(steps), steps)
    if alert.series == "cost":
        return Figure(float(group.cost) / window.hours, steps)
    if steps < max(alert.min_steps, 1):
        return Figure(None, steps)
    if alert.series == "error_rate":
        return Figure(group.errors / steps, steps)
    if alert.series == "negative_share":
        return Figure(group["negative"] / steps, steps)
    p95 = group.quantile("duration", 0.95)
    return Figure(None if p95 is None else p95 / 1e6, steps)  # in ms


def show(series: str, value: float | None) -> str:
    if value is None:
        return "no figure"
    if series in RATES:
        return f"{100 * value:.1f}%"
    if series == "p95_duration":
        return ms(value * 1e6)
    if series == "cost":
        return f"${value:,.4f}/h"
    return f"{value:,.0f}"


def show_threshold(alert: Alert) -> str:
    if alert.condition in ("rise", "fall"):
        return f"{alert.threshold:g}"
    return show(alert.series, alert.threshold)


def window_link(alert: Alert, window: Window, now: datetime) -> str:
    """The step list of exactly that window and query, as an absolute URL."""
    params = QueryDict(alert.query, mutable=True)
    params["since"] = window.start.isoformat()
    params["until"] = window.until.isoformat()
    base = settings.DASHBOARD_URL.rstrip("/")
    return f"{base}/?{urlencode(sorted(params.lists()), doseq=True)}"


@dataclass(frozen=True)
class Outcome:
    alert: Alert
    figure: Figure
    event: AlertEvent | None


def evaluate(alert_id: int, now: datetime | None = None, prices=None) -> Outcome | None:
    """Evaluate one alert now; record and notify a change of state, exactly once.

    The alert's row is locked for the evaluation, so beat and an "evaluate now" at the same time
    take turns and the second sees the first's state: never two notifications for one change."""
    now = now or timezone.now()
    with transaction.atomic():
        alert = Alert.objects.select_for_update().select_related("destination").filter(pk=alert_id).first()
        if alert is None:
            return None
        window = window_at(now, alert.window_minutes)
        figure = measure(alert, window, prices)
        previous = None
        if alert.condition in ("rise", "fall"):
            previous = measure(alert, window.previous(), prices).value
        is_breached = conditions.breached(alert.condition, figure.value, alert.threshold, previous)
        change = conditions.transition(alert.state, is_breached)
        event = None
        if change.event:
            event = _record(alert, change.event, figure, previous, window, now)
            alert.state, alert.state_since = change.state, now
        alert.last_value, alert.last_evaluated_at = figure.value, now
        alert.save(update_fields=["state", "state_since", "last_value", "last_evaluated_at"])
    return Outcome(alert, figure, event)


def _record(alert: Alert, kind: str, figure: Figure, previous, window: Window, now) -> AlertEvent:
    from .notify import enqueue

    label = Alert.Series(alert.series).label
    sentence = conditions.describe(
        label,
        alert.condition,
        show(alert.series, figure.value),
        show_threshold(alert),
        show(alert.series, previous) if previous is not None else None,
    )
    span = (
        f"{timezone.localtime(window.start):%Y-%m-%d %H:%M}–{timezone.localtime(min(now, window.end)):%H:%M}"
    )
    zone = timezone.get_current_timezone_name()
    head = "FIRING" if kind == AlertEvent.Kind.FIRING else "RESOLVED"
    text = f"{sentence} ({figure.steps:,} steps, {span} {zone})."
    if kind == AlertEvent.Kind.RESOLVED:
        text = f"Back to normal: {text}"
    link = window_link(alert, window, now)
    event = AlertEvent.objects.create(
        alert=alert,
        kind=kind,
        at=now,
        value=figure.value,
        previous_value=previous,
        threshold=alert.threshold,
        steps=figure.steps,
        window_start=window.start,
        window_end=window.end,
        text=text,
        link=link,
    )
    enqueue(
        Notification(
            destination=alert.destination,
            alert=alert,
            event=event,
            title=f"[{head}] {alert.name}",
            body=f"{text}\nThreshold: {show_threshold(alert)} ({alert.get_condition_display()}).\n{link}",
        )
    )
    return event


def evaluate_now(alert_id: int) -> Outcome | None:
    """Evaluate now (the API, the alert's page): as beat would, rollups brought up to date first.
    A change it finds is notified in this call too (asked for now, so sent now; the delivery is
    claimed, so the task queued after the commit finds it sent; a failure stays for its retries)."""
    from ..overview.rollup import flush
    from .notify import deliver

    flush()
    outcome = evaluate(alert_id)
    if outcome is not None and outcome.event is not None:
        deliver(outcome.event.notification.pk)
    return outcome


def evaluate_all(now: datetime | None = None) -> int:
    """Beat's tick: every enabled alert, prices read once. Returns how many changed state.

    A fixed handful of queries per alert: its figure (two for ×N), then one UPDATE for every
    alert's last figure together. Only an alert whose state changes is evaluated again, under its
    row lock (evaluate): the rare path, and the one that records and notifies."""
    from ..overview.rollup import flush

    now = now or timezone.now()
    flush()  # hours a sync or a vote left dirty: the figures read fresh rollups
    prices = current_prices()
    alerts = list(Alert.objects.filter(enabled=True).order_by("id"))
    changed, unchanged = 0, []
    for alert in alerts:
        window = window_at(now, alert.window_minutes)
        figure = measure(alert, window, prices)
        previous = (
            measure(alert, window.previous(), prices).value if alert.condition in ("rise", "fall") else None
        )
        is_breached = conditions.breached(alert.condition, figure.value, alert.threshold, previous)
        if conditions.transition(alert.state, is_breached).event:
            outcome = evaluate(alert.pk, now, prices)
            changed += bool(outcome and outcome.event)
        else:
            alert.last_value, alert.last_evaluated_at = figure.value, now
            unchanged.append(alert)
    Alert.objects.bulk_update(unchanged, ["last_value", "last_evaluated_at"], batch_size=500)
    return changed
