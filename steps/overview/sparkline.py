"""The step list's sparkline: steps and errors over the list's time range (24 h by default),
from the hourly rollups, in one small GROUP BY."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.safestring import mark_safe

from ..filters import PERIOD_CHOICES, StepFilterForm
from .memo import drawn
from .report import SERVED, TimeRange, rollup_rows, time_range
from .svg import sparkline_bars

WIDTH, HEIGHT = 160, 26


@dataclass
class Sparkline:
    range: TimeRange
    steps: int = 0
    errors: int = 0
    bars: list[tuple[float, float, float, float, str]] = field(default_factory=list)  # x, y, w, h, css
    title: str = ""
    window: str = "last 24 h"  # what its numbers count: never the list's own count
    svg: str = ""  # the bars as SVG markup, written once per drawing (it is kept: memo.py)


def sparkline(form: StepFilterForm) -> Sparkline:
    form.is_valid()
    data = form.cleaned_data
    span = time_range(data, default="24h")
    window = window_label(data)
    served = tuple((name, str(data.get(name) or "")) for name in sorted(SERVED))
    key = (
        "sparkline",
        (span.since, span.until, span.grain),
        window,
        timezone.get_current_timezone_name(),
        served,
    )
    return drawn(key, lambda: _draw(span, data, window))


def _draw(span: TimeRange, data: dict, window: str) -> Sparkline:
    rows, bucket = rollup_rows(span, data)
    rows = (
        rows.annotate(b=bucket)
        .values("b")
        .order_by()
        .annotate(errors=Sum("steps", filter=~Q(error_type="")), n=Sum("steps"))
    )
    found = {r["b"]: (r["n"] or 0, r["errors"] or 0) for r in rows}
    buckets = span.buckets
    line = Sparkline(range=span, window=window)
    peak = max((s for s, _ in found.values()), default=0)
    slot = WIDTH / max(len(buckets), 1)
    for i, b in enumerate(buckets):
        steps, errors = found.get(b.start, (0, 0))
        line.steps += steps
        line.errors += errors
        if peak and steps:
            x, w = round(i * slot + slot * 0.1, 2), round(max(slot * 0.8, 0.6), 2)
            height = max(HEIGHT * steps / peak, 1)
            line.bars.append((x, round(HEIGHT - height, 2), w, round(height, 2), "vol"))
            if errors:
                eh = max(HEIGHT * errors / peak, 1.5)
                line.bars.append((x, round(HEIGHT - eh, 2), w, round(eh, 2), "err"))
    line.svg = mark_safe(sparkline_bars(line.bars))  # numbers and our own class names, escaped
    line.title = (
        f"Steps (blue) and errors (red) per {span.grain}, {line.window}: "
        f"{line.steps:,} step{'' if line.steps == 1 else 's'}, "
        f"{line.errors:,} error{'' if line.errors == 1 else 's'}"
    )
    return line


def window_label(data: dict) -> str:
    """The sparkline's time range in words: "last 24 h" unless the filters give another."""
    since, until = data.get("since"), data.get("until")
    if since or until:
        fmt = "%b %-d %H:%M"
        start = timezone.localtime(since).strftime(fmt) if since else None
        end = timezone.localtime(until).strftime(fmt) if until else "now"
        return f"{start} – {end}" if start else f"24 h to {end}"
    period = data.get("period")
    return str(dict(PERIOD_CHOICES)[period]).lower() if period else "last 24 h"
