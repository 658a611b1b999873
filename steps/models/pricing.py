"""What models cost: a local table, edited in the admin, never synced from Letta."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

PRICE_FIELD = {
    "max_digits": 12,
    "decimal_places": 6,  # $0.000001 per 1 M tokens: finer than any provider publishes
    "validators": [MinValueValidator(Decimal(0), "A price cannot be negative.")],
}


class ModelPrice(models.Model):
    """The list price of one model, USD per 1 M tokens.

    One row per model name: a step is priced at the row's current price, whatever its date
    (costs answer "what does this traffic cost at today's price"); `effective_date` says which
    published price that is. How a step's model finds its row: steps/cost/matching.py.
    """

    model = models.CharField(
        max_length=255,
        unique=True,
        help_text=(
            "As Letta reports it in a step's model (e.g. gpt-4o-mini), or a whole handle "
            "(openai-proxy/gpt-4o-mini) to price one route. Also prices dated variants such as "
            "gpt-4o-2024-08-06 that have no row of their own. Stored in lower case."
        ),
    )
    provider = models.CharField(max_length=64, blank=True, help_text="For reading only; not used to match.")
    input_per_mtok = models.DecimalField("input $/1M", **PRICE_FIELD)
    cached_input_per_mtok = models.DecimalField(
        "cached input $/1M",
        null=True,
        blank=True,
        help_text="Empty: cached input tokens are billed at the input price.",
        **PRICE_FIELD,
    )
    output_per_mtok = models.DecimalField("output $/1M", **PRICE_FIELD)
    effective_date = models.DateField(
        default=timezone.localdate, help_text="The date this price applies from (or was last checked)."
    )
    source = models.URLField(blank=True, help_text="Where the price was published.")
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model"]
        constraints = [
            # the admin form refuses these too; this keeps any other writer honest
            models.CheckConstraint(
                condition=Q(input_per_mtok__gte=0)
                & Q(output_per_mtok__gte=0)
                & (Q(cached_input_per_mtok__isnull=True) | Q(cached_input_per_mtok__gte=0)),
                name="steps_modelprice_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.model

    def clean(self) -> None:
        # matching compares lower case names (steps/cost/matching.py)
        self.model = (self.model or "").strip().lower()
