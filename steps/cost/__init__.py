"""Cost of steps: model prices (ModelPrice, edited in the admin) applied to token counts.

    from steps.cost import Price, current_prices, step_cost
    prices = current_prices()                    # one small query per page, never one per row
    step_cost(step, prices) -> Decimal | None    # None: no price for the step's model
    price.cost(prompt, completion, cached)       # USD, linear: prices summed rollup tokens too

How a step's model finds its price: steps/cost/matching.py. Money is Decimal; rounding
only on display (steps/cost/format.py).
"""

from __future__ import annotations

from decimal import Decimal

from .format import usd
from .matching import match
from .price import CostParts, Price


class PriceBook(dict):
    """Prices keyed by normalized model name (a plain dict to its users), remembering which
    price each (model, handle) pair matched: a page of 50 steps of 3 models matches 3 times."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._found: dict[tuple[str, str], Price | None] = {}

    def for_model(self, model: str, handle: str = "") -> Price | None:
        key = (model or "", handle or "")
        if key not in self._found:
            self._found[key] = match(self, *key)
        return self._found[key]


def current_prices() -> PriceBook:
    """Every model's price, in one query over a table of tens of rows."""
    from ..models import ModelPrice

    return PriceBook(
        (
            row.model.lower(),
            Price(
                model=row.model.lower(),
                input=row.input_per_mtok,
                output=row.output_per_mtok,
                cached_input_price=row.cached_input_per_mtok,
                effective_date=row.effective_date,
                provider=row.provider,
                pk=row.pk,
            ),
        )
        for row in ModelPrice.objects.all()
    )


def price_stamp() -> tuple:
    """What changes whenever a price is added, edited or removed (one aggregate over tens of
    rows): the key of anything drawn with prices and kept (steps/overview/memo.py)."""
    from django.db.models import Count, Max

    from ..models import ModelPrice

    found = ModelPrice.objects.aggregate(n=Count("pk"), at=Max("updated_at"), last=Max("pk"))
    return (found["n"], found["at"], found["last"])


def price_for(step, prices: dict[str, Price]) -> Price | None:
    if isinstance(prices, PriceBook):
        return prices.for_model(step.model, step.model_handle)
    return match(prices, step.model, step.model_handle)


def step_cost(step, prices: dict[str, Price]) -> Decimal | None:
    """The step's cost in USD, or None when its model has no price (never 0 for that)."""
    price = price_for(step, prices)
    if price is None:
        return None
    return price.cost(step.prompt_tokens, step.completion_tokens, step.cached_input_tokens)


__all__ = ["CostParts", "Price", "PriceBook", "current_prices", "price_for", "step_cost", "usd"]
