"""Precomputed filter choices: how many steps carry each agent, model, tool, tag ..."""

from __future__ import annotations

from django.db import models


class FacetCount(models.Model):
    """Steps per value of one list filter (or tag), so a page reads a few hundred small rows
    instead of grouping the whole step table.

    Kept by steps.facets: the sync and the review actions add their differences per batch,
    and `rebuild_facets` (a command and a periodic task) recounts from the tables, so drift
    from a crash or a race heals itself.
    """

    class Dimension(models.TextChoices):
        AGENT = "agent", "agent"
        MODEL = "model", "model"
        PROVIDER = "provider", "provider"
        STOP_REASON = "stop_reason", "stop reason"
        ERROR_TYPE = "error_type", "error type"
        TOOL = "tool", "tool"  # distinct steps with a message calling it
        TAG = "tag", "tag in Letta"  # steps whose (mirrored) tags hold it
        VOTE_TAG = "vote_tag", "tag set here"  # local votes whose tags hold it

    dimension = models.CharField(max_length=16, choices=Dimension)
    value = models.CharField(max_length=255)
    steps = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            # the delta upsert (ON CONFLICT) and every read by dimension
            models.UniqueConstraint(fields=["dimension", "value"], name="steps_facetcount_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.dimension}={self.value}: {self.steps}"
