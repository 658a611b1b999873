"""Which tools each step called: the index behind the list's tool filter."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import models
from django.db.models import OuterRef, Subquery

from .mirrored import Step


class StepToolQuerySet(models.QuerySet):
    def follow_step_times(self, step_ids: Iterable[str]) -> int:
        """Copy the steps' current times onto their rows: one UPDATE for a batch of steps, after
        a writer moved their step_time (a run's time arrived, a new run position)."""
        ids = list(dict.fromkeys(step_ids))
        if not ids:
            return 0
        now_at = Step.objects.filter(pk=OuterRef("step_id")).values("step_time")
        return self.filter(step_id__in=ids).update(step_time=Subquery(now_at))


class StepTool(models.Model):
    """One row per tool a step called (Message.tool_name, once per step), with the step's time
    copied, so the list's tool filter reads (tool, step_time, step) in the list's own order and
    stops after a page, instead of walking every step newest first and looking each one up
    in its messages (13,177 lookups for 51 matches at a million steps).

    Derived data, kept exact by its writers: the sync's store_details and the seed write it with
    the messages it comes from, StepTool.objects.follow_step_times moves it with a step's time,
    and a step's deletion (retention) cascades to it."""

    pk = models.CompositePrimaryKey("step", "tool_name")
    # db_index off: the primary key starts with step (a step's rows, the cascade)
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="tool_calls", db_index=False)
    tool_name = models.CharField(max_length=255)
    step_time = models.DateTimeField(help_text="The step's step_time, copied for the index's order.")

    objects = StepToolQuerySet.as_manager()

    class Meta:
        indexes = [
            # the list's tool filter in the default sort (and oldest first, read backwards), keyset
            # pages included: (step_time, step) is the list's (step_time, id)
            models.Index(fields=["tool_name", "-step_time", "-step"], name="steps_steptool_time"),
        ]

    def __str__(self) -> str:
        return f"{self.tool_name} in {self.step_id}"

    @classmethod
    def rows_for(cls, messages: Iterable, step_times: dict[str, datetime]) -> list[StepTool]:
        """The rows for these messages (Message objects or dicts with step_id and tool_name), each
        step's time taken from step_times."""
        seen: dict[tuple[str, str], StepTool] = {}
        for message in messages:
            step_id, tool = (
                (message["step_id"], message.get("tool_name", ""))
                if isinstance(message, dict)
                else (message.step_id, message.tool_name)
            )
            if tool and (step_id, tool) not in seen:
                seen[(step_id, tool)] = cls(step_id=step_id, tool_name=tool, step_time=step_times[step_id])
        return list(seen.values())
