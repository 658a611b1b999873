"""Percentiles from a log-scale histogram, and numbers as the charts print them. Pure: no Django."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(counts: Sequence[int], q: float, bounds: Sequence[int]) -> float | None:
    """The q-quantile (0..1) of values counted in buckets split at `bounds`, or None when
    nothing was counted. Bucket i holds [bounds[i-1], bounds[i]); the open ends are taken one
    bucket ratio wide. Interpolated geometrically inside its bucket, as the buckets are."""
    total = sum(counts)
    if not total:
        return None
    ratio = bounds[1] / bounds[0]
    edges = [bounds[0] / ratio, *bounds, bounds[-1] * ratio]
    rank = q * total
    seen = 0
    for i, count in enumerate(counts):
        if count and seen + count >= rank:
            low, high = edges[i], edges[i + 1]
            return low * (high / low) ** ((rank - seen) / count)
        seen += count
    return edges[-1]


def compact(value: float | int | None) -> str:
    """1234 -> "1.2k", 5_600_000 -> "5.6M", 12 -> "12": axis labels and chart tooltips."""
    if value is None:
        return "—"
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            text = f"{value / scale:.1f}".removesuffix(".0")
            return f"{text}{suffix}"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2g}"


def ms(value_ns: float | None) -> str:
    """Nanoseconds as milliseconds or seconds: "850 ms", "1.4 s", "12 s"."""
    if value_ns is None:
        return "—"
    millis = value_ns / 1e6
    if millis == 0:
        return "0"
    if millis < 1000:
        return f"{millis:.0f} ms" if millis >= 10 else f"{millis:.1f} ms"
    seconds = millis / 1000
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"


def percent(part: float, whole: float) -> str:
    if not whole:
        return "—"
    share = 100 * part / whole
    if share == 0:
        return "0%"
    return f"{share:.1f}%" if share < 10 else f"{share:.0f}%"


def axis_top(value: float, *, integer: bool = False) -> float:
    """The top of a y axis with four round steps (0, 2, 4, 6, 8), never fractional for counts."""
    step = nice_ceiling(value / 4)
    return 4 * (max(step, 1) if integer else step)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^n at or above value: a y axis that ends on a round number."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value * 0.999999:
            return step * magnitude
    return 10 * magnitude
