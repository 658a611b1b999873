"""A model's price and what a step's tokens cost at it. Pure: no Django import.

Money is `Decimal` throughout, never float. `Price.cost` is exact (token counts times a
price with at most 6 decimals, divided by 10^6, fits easily in Decimal's default 28 digits),
so summing step costs and pricing summed tokens agree to the last digit; rounding happens
only when a cost is shown (`format.usd`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

PER = Decimal(1_000_000)  # prices are USD per 1 M tokens


class CostParts(NamedTuple):
    """A cost split by what was paid for: uncached input, cached input, output."""

    input: Decimal
    cached_input: Decimal
    output: Decimal

    @property
    def total(self) -> Decimal:
        return self.input + self.cached_input + self.output


@dataclass(frozen=True, slots=True)
class Price:
    model: str  # the price table's name for it (lower case), which a step matched
    input: Decimal  # USD per 1 M uncached input tokens
    output: Decimal  # USD per 1 M output tokens
    cached_input_price: Decimal | None = None  # USD per 1 M cached input tokens; None: unknown
    effective_date: date | None = None  # when this list price applied / was published
    provider: str = ""
    pk: int | None = None  # the ModelPrice row, for an admin link

    @property
    def cached_input(self) -> Decimal:
        # A provider that publishes no cached rate bills cached tokens as ordinary input.
        return self.input if self.cached_input_price is None else self.cached_input_price

    def parts(
        self, prompt_tokens: int | None, completion_tokens: int | None, cached_input_tokens: int | None
    ) -> CostParts:
        """prompt_tokens includes the cached ones (OpenAI's convention, which Letta follows).
        Missing counts are 0; cached beyond the prompt count is taken as all of the prompt
        (never a negative uncached part)."""
        prompt = prompt_tokens or 0
        cached = min(cached_input_tokens or 0, prompt)
        return CostParts(
            input=(prompt - cached) * self.input / PER,
            cached_input=cached * self.cached_input / PER,
            output=(completion_tokens or 0) * self.output / PER,
        )

    def cost(
        self, prompt_tokens: int | None, completion_tokens: int | None, cached_input_tokens: int | None = 0
    ) -> Decimal:
        """USD, exact; linear in the tokens, so it prices summed rollup tokens too."""
        return self.parts(prompt_tokens, completion_tokens, cached_input_tokens).total
