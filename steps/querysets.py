"""Chainable queries over the mirror: what views, the API and the sync ask of the database."""

from __future__ import annotations

import json
from datetime import datetime

from django.apps import apps
from django.db import connection, models
from django.db.models import Exists, F, FilteredRelation, OuterRef, Q, Subquery
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils import timezone


class StepQuerySet(models.QuerySet):
    # Other models by name (apps.get_model), not imported: models/ imports this module to build
    # Step's manager, so an import back would close a circle.

    # --- sync ---------------------------------------------------------------------------

    def due_for_refresh(self, now: datetime | None = None) -> StepQuerySet:
        from .models.syncing import unclaimed

        return self.filter(refresh_due_at__lte=now or timezone.now()).filter(unclaimed())

    def in_run_order(self) -> StepQuerySet:
        """A run's steps in its own sequence (steps of a run often share the run's time); steps
        without a known position last, by time."""
        return self.order_by("run_position", "step_time", "id")

    def least_recently_synced(self) -> StepQuerySet:
        return self.order_by("last_synced_at", "id")

    def mark_gone_upstream(self, now: datetime | None = None) -> int:
        """Letta answered 404 for these steps: keep them, say since when (the first 404), and
        count them as looked at. Returns how many were not marked before."""
        now = now or timezone.now()
        self.update(last_synced_at=now, last_sync_error="")
        return self.filter(gone_upstream_at__isnull=True).update(gone_upstream_at=now)

    # --- review UI ----------------------------------------------------------------------

    def for_list(self) -> StepQuerySet:
        # Only what a list row shows: never the payload JSON, which can be large.
        return self.only(*LIST_FIELDS)

    def visible(self) -> StepQuerySet:
        """Steps a reviewer archived stay out of lists unless asked for.

        NOT EXISTS, not exclude(review__hidden=True): that LEFT JOIN's `hidden IS NULL` test
        is estimated from the review table alone, where every row may be an archived step, so
        PostgreSQL expected one visible step in a million and sorted a full scan of the table
        on every list page."""
        StepReview = apps.get_model("steps", "StepReview")

        return self.exclude(Exists(StepReview.objects.filter(step=OuterRef("pk"), hidden=True)))

    def with_tool(self, name: str) -> StepQuerySet:
        """Steps that called the tool: a join on StepTool, one row per step and tool, so a step
        comes out once. In a time sort the list orders and pages by StepTool's copy of
        (step_time, id) (ordered, after_key, newer_than), which steps_steptool_time holds in
        that order: a page reads that index from its cursor and stops, where an EXISTS per step
        walked every step newest first. Other sorts walk their own index and look each step up
        by StepTool's key."""
        return self.alias(
            tool_call=FilteredRelation("tool_calls", condition=Q(tool_calls__tool_name=name)),
            # named once here, so later filters and the ordering reuse this join, not add one
            tool_time=F("tool_call__step_time"),
            tool_step=F("tool_call__step"),
        ).filter(tool_step__isnull=False)

    def with_tag(self, tag: str) -> StepQuerySet:
        if connection.vendor == "postgresql":
            return self.filter(tags__contains=[tag])
        # SQLite has no JSON containment; the quoted element is a close enough match.
        return self.filter(tags__icontains=json.dumps(tag))

    def ordered(self, sort: str) -> StepQuerySet:
        """Sort by one of SORTS; sorts by a nullable column leave out the rows without a value,
        because a NULL in a row comparison would end the keyset walk."""
        column, descending = SORTS[sort]
        qs = self
        if column != "step_time":
            qs = qs.filter(**{f"{column}__isnull": False})
        prefix = "-" if descending else ""
        if column == "step_time" and self._tool_filtered:
            return qs.order_by(f"{prefix}tool_time", f"{prefix}tool_step")
        return qs.order_by(f"{prefix}{column}", f"{prefix}id")

    def after_key(self, sort: str, value, step_id: str) -> StepQuerySet:
        """Rows after (value, id) in `sort` order, as one row comparison an index can seek:
        ("step_time", "id") < (%s, %s), never `a < x OR (a = x AND b < y)`."""
        column, descending = SORTS[sort]
        key = self._time_key() if column == "step_time" else Tuple(F(column), F("id"))
        lookup = TupleLessThan if descending else TupleGreaterThan
        return self.filter(lookup(key, (value, step_id)))

    def newer_than(self, when: datetime, step_id: str) -> StepQuerySet:
        return self.filter(TupleGreaterThan(self._time_key(), (when, step_id)))

    def _time_key(self) -> Tuple:
        """The rows' (step_time, id); under a tool filter the same values from StepTool, whose
        index an inequality can seek only when it names that index's columns."""
        if self._tool_filtered:
            return Tuple(F("tool_time"), F("tool_step"))
        return Tuple(F("step_time"), F("id"))

    @property
    def _tool_filtered(self) -> bool:
        return "tool_time" in self.query.annotations

    def unreviewed(self) -> StepQuerySet:
        """Steps with no vote: our StepVote when there is one (it is the team's intention, even
        while Letta still holds the old value), else the vote Letta holds. Steps deleted in
        Letta are no review work: a vote there could never be sent."""
        StepVote = apps.get_model("steps", "StepVote")

        voted_here = StepVote.objects.filter(step=OuterRef("pk"))
        # The vote inside the OR as a scalar subquery (primary key lookup per row): an EXISTS
        # there becomes a hashed scan of every vote on each page. The gone test is a column of
        # the row the time index leads to, like feedback: the walk stays an index scan.
        return (
            self.filter(gone_upstream_at__isnull=True)
            .exclude(Exists(voted_here.exclude(feedback="")))
            .alias(_local_vote=Subquery(voted_here.values("pk")[:1]))
            .filter(Q(feedback="") | Q(_local_vote__isnull=False))
        )


# sort name -> (column, descending); the default sort is the first.
SORTS = {
    "-time": ("step_time", True),
    "time": ("step_time", False),
    "-tokens": ("total_tokens", True),
    "tokens": ("total_tokens", False),
    "-duration": ("duration_ns", True),
    "duration": ("duration_ns", False),
}

LIST_FIELDS = (
    "id",
    "run_id",
    "agent_id",
    "model",
    "model_handle",  # with model and the token counts: the cost column (steps/cost/)
    "provider_name",
    "status",
    "stop_reason",
    "error_type",
    "feedback",
    "tags",
    "prompt_tokens",
    "completion_tokens",
    "cached_input_tokens",
    "total_tokens",
    "duration_ns",
    "step_time",
    "step_time_source",
    "run_position",
    "gone_upstream_at",  # the row's "deleted in Letta" badge
)
