"""The overview's charts: their shapes as SVG markup (steps/overview/svg.py escapes every value)."""

from django import template
from django.utils.safestring import mark_safe

from steps.overview import numbers, svg

register = template.Library()


@register.filter
def chart_shapes(chart) -> str:
    return mark_safe(svg.shapes(chart))  # noqa: S308 - svg.shapes escapes all it writes


@register.filter
def numbers_rows(rows) -> str:
    return mark_safe(numbers.rows_html(rows))  # noqa: S308 - numbers.rows_html escapes all it writes
