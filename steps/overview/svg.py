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


def _shape(element: str, css: str, geometry: str, shape: Shape) -> str:
    """One bar or point: its hover text as a <title> (and for the readout), linked if it has steps."""
    tip = escape(shape.title)
    drawn = f'<{element} class="{css} {escape(shape.css)}" {geometry} data-tip="{tip}"><title>{tip}</title></{element}>'
    return f'<a href="{escape(shape.href)}" class="chart-link">{drawn}</a>' if shape.href else drawn


def _bar(bar: Shape) -> str:
    geometry = f'x="{_num(bar.x)}" y="{_num(bar.y)}" width="{_num(bar.w)}" height="{_num(bar.h)}"'
    return _shape("rect", "cbar", geometry, bar)


def _point(point: Shape) -> str:
    return _shape("circle", "point", f'cx="{_num(point.x)}" cy="{_num(point.y)}" r="3.5"', point)


def shapes(chart: Chart) -> str:
    """The bars, lines and points of a chart (axes and ticks stay in the template)."""
    parts = [_bar(bar) for bar in chart.bars]
    parts += [
        f'<polyline class="line {escape(css)}" points="{escape(points)}"></polyline>'
        for css, points in chart.lines
    ]
    parts += [_point(point) for point in chart.points]
    return "".join(parts)


def sparkline_bars(bars: list[tuple[float, float, float, float, str]]) -> str:
    """The list's sparkline: (x, y, width, height, css) rectangles, no links, no hover text."""
    return "".join(
        f'<rect class="{escape(css)}" x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}"></rect>'
        for x, y, w, h, css in bars
    )
