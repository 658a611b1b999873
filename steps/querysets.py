"""Chainable queries over the mirror: what views, the API and the sync ask of the database."""

from __future__ import annotations

import json
from datetime import datetime

from django.db import connection, models
from django.db.models import Exists, F, Func, Lookup, OuterRef, Q, Subquery
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils import timezone


class StepQuerySet(models.QuerySet):
    # --- sync ---------------------------------------------------------------------------

    def due_for_refresh(self, now: datetime | None = None) -> StepQuerySet:
        from .models import unclaimed

        return self.filter(refresh_due_at__lte=now or timezone.now()).filter(unclaimed())

    def in_run_order(self) -> StepQuerySet:
        """A run's steps in its own sequence (steps of a run often share the run's time); steps
        without a known position last, by time."""
        return self.order_by("run_position", "step_time", "id")

    def least_recently_synced(self) -> StepQuerySet:
        return self.order_by("last_synced_at", "id")

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
        from .models import StepReview

        return self.exclude(Exists(StepReview.objects.filter(step=OuterRef("pk"), hidden=True)))

    def with_tool(self, name: str) -> StepQuerySet:
        from .models import Message

        # EXISTS, not a join: a step calls a tool many times and must come out once.
        return self.filter(Exists(Message.objects.filter(step=OuterRef("pk"), tool_name=name)))

    def with_tag(self, tag: str) -> StepQuerySet:
        if connection.vendor == "postgresql":
            return self.filter(tags__contains=[tag])
        # SQLite has no JSON containment; the quoted element is a close enough match.
        return self.filter(tags__icontains=json.dumps(tag))

    def search(self, term: str) -> StepQuerySet:
        """Steps whose messages (text, tool arguments and returns) or trace responses contain
        `term`, case-insensitively, in any language: ILIKE served by trigram indexes on
        PostgreSQL (steps/search.py picks the plan)."""
        from .search import matching

        return matching(self, term)

    def ordered(self, sort: str) -> StepQuerySet:
        """Sort by one of SORTS; sorts by a nullable column leave out the rows without a value,
        because a NULL in a row comparison would end the keyset walk."""
        column, descending = SORTS[sort]
        qs = self
        if column != "step_time":
            qs = qs.filter(**{f"{column}__isnull": False})
        prefix = "-" if descending else ""
        return qs.order_by(f"{prefix}{column}", f"{prefix}id")

    def after_key(self, sort: str, value, step_id: str) -> StepQuerySet:
        """Rows after (value, id) in `sort` order, as one row comparison an index can seek:
        ("step_time", "id") < (%s, %s), never `a < x OR (a = x AND b < y)`."""
        column, descending = SORTS[sort]
        key = Tuple(F(column), F("id"))
        lookup = TupleLessThan if descending else TupleGreaterThan
        return self.filter(lookup(key, (value, step_id)))

    def newer_than(self, when: datetime, step_id: str) -> StepQuerySet:
        return self.filter(TupleGreaterThan(Tuple(F("step_time"), F("id")), (when, step_id)))

    def unreviewed(self) -> StepQuerySet:
        """Steps with no vote: our StepVote when there is one (it is the team's intention, even
        while Letta still holds the old value), else the vote Letta holds."""
        from .models import StepVote

        voted_here = StepVote.objects.filter(step=OuterRef("pk"))
        # The vote inside the OR as a scalar subquery (primary key lookup per row): an EXISTS
        # there becomes a hashed scan of every vote on each page.
        return (
            self.exclude(Exists(voted_here.exclude(feedback="")))
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
)


class TraceText(Func):
    """A trace's response payload as text; on PostgreSQL it must stay the exact expression of
    the steps_providertrace_response_trgm index (migration 0006).

    Only the response: each request repeats the system prompt, the tool schemas and the whole
    conversation so far, so indexing it grows quadratically with a conversation's length,
    while what is new in a request (user text, tool returns) is already in the messages.
    """

    template = "(%(expressions)s)"
    output_field = models.TextField()

    def __init__(self):
        super().__init__(F("response_json"))

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="(%(expressions)s::text)", **extra)


def like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class ILike(Lookup):
    """`lhs ILIKE rhs`; Django's icontains wraps both sides in UPPER(), which no trigram index serves."""

    lookup_name = "ilike"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} ILIKE {rhs}", (*lhs_params, *rhs_params)
        # SQLite's LIKE is case-insensitive for ASCII; its JSON text is the same string.
        return f"{lhs} LIKE {rhs} ESCAPE '\\'", (*lhs_params, *rhs_params)


# --- feedback: what the review UI shows next to each step -----------------------------------


class VoteState:
    """A step's feedback as the UI shows it: the team's intended vote (StepVote), falling back
    to what Letta holds, and the write-back state of the step's newest FeedbackPush."""

    def __init__(self, step, vote=None, push=None):
        self.step, self.vote, self.push = step, vote, push

    @property
    def feedback(self) -> str:
        return self.vote.feedback if self.vote else (self.step.feedback or "")

    @property
    def tags(self) -> list[str]:
        return list(self.vote.tags) if self.vote else list(self.step.tags or [])

    @property
    def conflict(self) -> bool:
        return bool(self.vote and self.vote.has_conflict)

    @property
    def state(self) -> str:
        """ "" (never written here), saving, retrying, saved, failed or conflict."""
        if self.conflict:
            return "conflict"
        push = self.push
        if push is None:
            return ""
        if push.is_open:
            return "retrying" if push.attempts else "saving"
        if push.status == "failed":
            return "failed"
        # done; or a conflict already settled by taking Letta's vote (the vote matches it now)
        return "saved"

    @property
    def is_open(self) -> bool:
        return self.state in ("saving", "retrying")

    @property
    def poll_ms(self) -> int:
        """How soon the widget asks again while a push is open: quickly at first (a push takes a
        few tens of milliseconds, so "saved" shows at once), then backing off to once a second;
        every 3 s while Letta is unreachable."""
        if self.state == "retrying":
            return 3000
        age = (timezone.now() - self.push.created_at).total_seconds() if self.push else 0
        return 150 if age < 2 else 500 if age < 10 else 1000

    @property
    def tags_stuck_upstream(self) -> list[str]:
        """Tags Letta keeps although we removed them all: its API cannot clear a tag list."""
        return list(self.step.tags or []) if not self.tags else []


def vote_states(steps) -> dict[str, VoteState]:
    """VoteState of each step, in two queries whatever the number of steps."""
    from django.db.models import Max

    from .models import FeedbackPush, StepVote

    ids = [s.pk for s in steps]
    if not ids:
        return {}
    votes = {v.step_id: v for v in StepVote.objects.filter(step_id__in=ids).select_related("voted_by")}
    # newest push per step: MAX(id) per step, served by the (step, -id) index
    newest = FeedbackPush.objects.filter(step_id__in=ids).values("step_id").annotate(m=Max("id")).values("m")
    pushes = {p.step_id: p for p in FeedbackPush.objects.filter(id__in=newest)}
    return {s.pk: VoteState(s, votes.get(s.pk), pushes.get(s.pk)) for s in steps}


def vote_state(step) -> VoteState:
    return vote_states([step])[step.pk]


def reviewer_counts(now: datetime | None = None) -> list[dict]:
    """Steps each reviewer rated today and this week (distinct steps, from the outbox).

    From FeedbackPush rather than StepVote: StepVote keeps only the latest voter of a step, so a
    colleague re-rating it would erase the first reviewer's work from the count. Retries resend
    a vote and are not reviews.
    """
    from datetime import timedelta

    from django.db.models import Count

    from .models import FeedbackPush

    now = timezone.localtime(now or timezone.now())
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    rows = (
        FeedbackPush.objects.filter(created_at__gte=week, created_by__isnull=False)
        .exclude(source="retry")
        .values("created_by__username")
        .annotate(
            week=Count("step", distinct=True),
            today=Count("step", distinct=True, filter=Q(created_at__gte=today)),
        )
        .order_by("-week", "created_by__username")
    )
    return [{"username": r["created_by__username"], "today": r["today"], "week": r["week"]} for r in rows]
