"""Percentiles from the rollup histograms, and the chart geometry they feed (pure code)."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from steps.models.rollups import HISTOGRAM_BOUNDS_NS
from steps.overview import charts
from steps.overview.stats import axis_top, compact, ms, percentile
from tests.rollup_helpers import bucket


@pytest.mark.parametrize("q", [0.5, 0.95])
def test_a_histogram_percentile_is_close_to_the_exact_one(q):
    rng = random.Random(4)
    values = sorted(int(rng.lognormvariate(21, 1.1)) for _ in range(5000))  # ~1.3 s median
    counts = [0] * (len(HISTOGRAM_BOUNDS_NS) + 1)
    for v in values:
        counts[bucket(v)] += 1
    exact = values[int(q * len(values))]
    assert percentile(counts, q, HISTOGRAM_BOUNDS_NS) == pytest.approx(exact, rel=0.12)


def test_no_counts_no_percentile():
    assert percentile([0] * 18, 0.5, HISTOGRAM_BOUNDS_NS) is None


def test_labels_read_like_numbers():
    assert [compact(v) for v in (0, 12, 1234, 5_600_000)] == ["0", "12", "1.2k", "5.6M"]
    assert [ms(v) for v in (0, 850_000_000, 1_400_000_000, 12_000_000_000)] == [
        "0",
        "850 ms",
        "1.4 s",
        "12 s",
    ]
    assert (
        axis_top(5, integer=True) == 8
        and axis_top(0.03) == pytest.approx(0.04)
        and axis_top(1, integer=True) == 4
    )


def test_stacked_bars_stack_in_series_order_and_keep_their_links():
    start = datetime(2026, 11, 20, tzinfo=UTC)
    buckets = [
        charts.Bucket(start + timedelta(hours=i), start + timedelta(hours=i + 1), f"{i}", f"h{i}")
        for i in range(3)
    ]
    series = [charts.Series("a", "A", "s0"), charts.Series("b", "B", "s1")]
    values = {(0, "a"): 2, (0, "b"): 2, (2, "b"): 1}
    chart = charts.stacked_bars(
        buckets,
        series,
        values,
        unit="steps",
        fmt=compact,
        link=lambda b, s: f"{b.label}-{s.key}",
        integer=True,
    )
    assert [(bar.href, bar.title) for bar in chart.bars] == [
        ("0-a", "h0 · A: 2 (of 4)"),
        ("0-b", "h0 · B: 2 (of 4)"),
        ("2-b", "h2 · B: 1 (of 1)"),
    ]
    a, b = chart.bars[0], chart.bars[1]
    assert b.y + b.h == pytest.approx(a.y)  # B sits on A
    assert a.h + b.h == pytest.approx(charts.PLOT_H)  # 4 of an axis topping at 4
    assert [label for _, label in chart.y_ticks] == ["0", "1", "2", "3", "4"]
