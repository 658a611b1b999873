"""The step list's rows and their vote widgets, written in Python (steps/pages/row_html.py)."""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

from steps.pages.row_html import csrf_input, step_row, vote_compact

register = template.Library()


def _page(context) -> tuple[bool, str, object]:
    """(can review, why not, the CSRF input): read once per page, not once per row."""
    cached = context.render_context.get("rows_ui")
    if cached is None:
        access = context.get("access")
        can_review = bool(access and access.can_review)
        refused = access.refused if access else ""
        cached = context.render_context["rows_ui"] = (
            can_review,
            refused,
            csrf_input(context.get("csrf_token")),
        )
    return cached


@register.simple_tag(takes_context=True)
def step_rows(context, rows):
    """Every row of a page, as `step_row` writes them."""
    can_review, refused, csrf = _page(context)
    fresh = bool(context.get("fresh"))
    # each row is safe markup (format_html escaped its values); str.join drops the mark
    return mark_safe(
        "".join(step_row(r, fresh=fresh, can_review=can_review, refused=refused, csrf=csrf) for r in rows)
    )


@register.simple_tag(takes_context=True)
def vote_widget(context, vs, vote_url, oob=False, polls=None):
    can_review, refused, csrf = _page(context)
    return vote_compact(vs, vote_url, can_review=can_review, refused=refused, csrf=csrf, oob=oob, polls=polls)
