"""Template filters for costs (steps/cost/): `$0.0123` style, and "no price", never $0, when a
model has no price."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import format_html

from steps.cost.format import usd as format_usd

register = template.Library()

NO_PRICE = format_html('<span class="no-price" title="{}">no price</span>', "No price for this model yet")


@register.filter
def usd(value) -> str:
    """A Decimal as money; None (no price) as "no price"."""
    if value is None:
        return NO_PRICE
    return format_usd(Decimal(value))


@register.filter
def step_cost_cell(step) -> str:
    """A list row's cost, from `step.cost` set by steps.cost.pages.with_costs: "—" for a step
    that reported no tokens (pending), "no price" for a model without one."""
    cost = getattr(step, "cost", None)
    if cost is None:
        return NO_PRICE
    if step.prompt_tokens is None and step.completion_tokens is None:
        return "—"
    return format_usd(cost)


@register.filter
def per_mtok(value) -> str:
    """A price per 1 M tokens, exactly as stored: $2.50/M, $0.075/M, $0.3125/M."""
    if value is None:
        return "—"
    exact = Decimal(value).normalize()
    if exact.as_tuple().exponent > -2:
        exact = exact.quantize(Decimal("0.01"))
    return f"${exact:,f}/M"
