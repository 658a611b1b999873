"""The overview's chart shapes and numbers table, written in Python (steps/overview/svg.py and numbers.py escape every value)."""

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
