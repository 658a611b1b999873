"""A chart's shapes as SVG markup, written in Python (pure: no Django).

A 90-day chart broken down by model has 600+ bars, each with its link and hover text: looping
over them in the template engine was most of the overview's time (about 1 ms per 10 shapes).
Here every value that comes from data (series labels in hover text, links) is escaped with
`html.escape`; the numbers are floats this module formats itself.
"""

from __future__ import annotations

from html import escape

from .charts import Chart, Shape


def _num(value: float) -> str:
    return f"{value:g}"


def _bar(bar: Shape) -> str:
    tip = escape(bar.title)
    rect = (
        f'<rect class="cbar {escape(bar.css)}" x="{_num(bar.x)}" y="{_num(bar.y)}" width="{_num(bar.w)}" '
        f'height="{_num(bar.h)}" data-tip="{tip}"><title>{tip}</title></rect>'
    )
    return f'<a href="{escape(bar.href)}" class="chart-link">{rect}</a>' if bar.href else rect


def _point(point: Shape) -> str:
    tip = escape(point.title)
    circle = (
        f'<circle class="point {escape(point.css)}" cx="{_num(point.x)}" cy="{_num(point.y)}" r="3.5" '
        f'data-tip="{tip}"><title>{tip}</title></circle>'
    )
    return f'<a href="{escape(point.href)}" class="chart-link">{circle}</a>' if point.href else circle


def shapes(chart: Chart) -> str:
    """The bars, lines and points of a chart (axes and ticks stay in the template)."""
    parts = [_bar(bar) for bar in chart.bars]
    parts += [
        f'<polyline class="line {escape(css)}" points="{escape(points)}"></polyline>'
        for css, points in chart.lines
    ]
    parts += [_point(point) for point in chart.points]
    return "".join(parts)
