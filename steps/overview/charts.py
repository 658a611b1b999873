"""Chart geometry: buckets and series in, SVG shapes out (templates/steps/overview/_chart.html
draws them). Pure: no Django, so the numbers a chart shows are easy to test.

Every shape carries its hover text (an SVG <title>) and, where the step list can show exactly
those steps, the link to them; the same numbers go into the table under each chart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from .stats import axis_top

WIDTH, HEIGHT = 760, 220
LEFT, RIGHT, TOP, BOTTOM = 58, 12, 12, 26
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
X_LABELS = 8


@dataclass
class Bucket:
    start: datetime
    end: datetime
    label: str  # on the x axis ("14:00", "Nov 20")
    title: str  # in hover text and tables ("Nov 20, 14:00–15:00")


@dataclass
class Series:
    key: str
    label: str
    css: str  # s0..s7, other, bad, ok ...: colours live in app.css


@dataclass
class Shape:
    css: str
    title: str
    href: str | None
    x: float = 0
    y: float = 0
    w: float = 0
    h: float = 0


@dataclass
class Chart:
    unit: str  # under the chart title: "steps per hour"
    series: list[Series]
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    bars: list[Shape] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)  # (css, "x,y x,y ...")
    points: list[Shape] = field(default_factory=list)
    empty: bool = True
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: float = TOP + PLOT_H
    right_edge: float = LEFT + PLOT_W


Link = Callable[[Bucket, Series | None], str | None]


def _axes(chart: Chart, buckets: list[Bucket], top: float, fmt: Callable[[float], str]) -> None:
    chart.y_ticks = [(TOP + PLOT_H - PLOT_H * i / 4, fmt(top * i / 4)) for i in range(5)]
    every = max(1, -(-len(buckets) // X_LABELS))
    slot = PLOT_W / max(len(buckets), 1)
    chart.x_ticks = [(LEFT + slot * (i + 0.5), b.label) for i, b in enumerate(buckets) if i % every == 0]


def stacked_bars(
    buckets: list[Bucket],
    series: list[Series],
    values: dict[tuple[int, str], float],
    *,
    unit: str,
    fmt: Callable[[float], str],
    link: Link,
    integer: bool = False,
) -> Chart:
    """One bar per bucket, a segment per series (in `series` order, bottom up)."""
    chart = Chart(unit=unit, series=series)
    totals = [sum(values.get((i, s.key), 0) for s in series) for i in range(len(buckets))]
    top = axis_top(max(totals, default=0), integer=integer)
    _axes(chart, buckets, top, fmt)
    chart.empty = not any(totals)
    slot = PLOT_W / max(len(buckets), 1)
    width = max(1.0, slot * 0.78)
    for i, bucket in enumerate(buckets):
        y = TOP + PLOT_H
        for s in series:
            value = values.get((i, s.key), 0)
            if not value:
                continue
            height = PLOT_H * value / top
            y -= height
            chart.bars.append(
                Shape(
                    css=s.css,
                    title=f"{bucket.title} · {s.label}: {fmt(value)} (of {fmt(totals[i])})",
                    href=link(bucket, s),
                    x=round(LEFT + slot * i + (slot - width) / 2, 2),
                    y=round(y, 2),
                    w=round(width, 2),
                    h=round(max(height, 0.5), 2),
                )
            )
    return chart


def lines(
    buckets: list[Bucket],
    series: list[Series],
    values: dict[tuple[int, str], float | None],
    *,
    unit: str,
    fmt: Callable[[float], str],
    link: Link,
) -> Chart:
    """A line per series through each bucket's value; a bucket without one breaks the line."""
    chart = Chart(unit=unit, series=series)
    present = [v for v in values.values() if v is not None]
    top = axis_top(max(present, default=0))
    _axes(chart, buckets, top, fmt)
    chart.empty = not present
    slot = PLOT_W / max(len(buckets), 1)
    for s in series:
        run: list[str] = []
        for i, bucket in enumerate(buckets):
            value = values.get((i, s.key))
            if value is None:
                if len(run) > 1:
                    chart.lines.append((s.css, " ".join(run)))
                run = []
                continue
            x, y = round(LEFT + slot * (i + 0.5), 2), round(TOP + PLOT_H - PLOT_H * value / top, 2)
            run.append(f"{x},{y}")
            chart.points.append(
                Shape(
                    css=s.css,
                    title=f"{bucket.title} · {s.label}: {fmt(value)}",
                    href=link(bucket, None),
                    x=x,
                    y=y,
                )
            )
        if len(run) > 1:
            chart.lines.append((s.css, " ".join(run)))
    return chart
