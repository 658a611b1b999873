"""Costs as the pages show them: per list row, per run, and broken down on a step page."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from . import PriceBook, current_prices, price_for
from .price import CostParts, Price


def with_costs(steps: list, prices: PriceBook | None = None) -> PriceBook:
    """Set `step.cost` (Decimal, or None: no price) on each step: one query for the prices,
    none per row. Returns the prices, for a caller that needs them again."""
    if prices is None:
        # an empty page asks nothing
        prices = current_prices() if steps else PriceBook()
    for step in steps:
        price = price_for(step, prices)
        step.cost = (
            None
            if price is None
            else price.cost(step.prompt_tokens, step.completion_tokens, step.cached_input_tokens)
        )
    return prices


@dataclass(frozen=True)
class RunCost:
    total: Decimal  # of the priced steps
    priced: int
    unpriced: int
    unpriced_models: tuple[str, ...]

    @property
    def known(self) -> bool:
        return self.priced > 0


def run_cost(steps: list) -> RunCost:
    """The total of steps that already carry `cost` (with_costs); unpriced ones are counted,
    never added as 0."""
    priced = [s.cost for s in steps if s.cost is not None]
    unpriced_models = sorted({s.model or "(no model)" for s in steps if s.cost is None})
    return RunCost(sum(priced, Decimal(0)), len(priced), len(steps) - len(priced), tuple(unpriced_models))


@dataclass(frozen=True)
class StepCost:
    price: Price
    parts: CostParts
    prompt_tokens: int
    uncached_tokens: int
    cached_tokens: int
    completion_tokens: int

    @property
    def total(self) -> Decimal:
        return self.parts.total


def step_breakdown(step) -> StepCost | None:
    """A step's cost split into uncached input, cached input and output, with the price used."""
    price = price_for(step, current_prices())
    if price is None:
        return None
    prompt = step.prompt_tokens or 0
    cached = min(step.cached_input_tokens or 0, prompt)
    return StepCost(
        price=price,
        parts=price.parts(step.prompt_tokens, step.completion_tokens, step.cached_input_tokens),
        prompt_tokens=prompt,
        uncached_tokens=prompt - cached,
        cached_tokens=cached,
        completion_tokens=step.completion_tokens or 0,
    )
