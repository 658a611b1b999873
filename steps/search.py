"""Text search for the step list: matching step ids from the trigram indexes first.

The old form, `EXISTS(message ILIKE) OR EXISTS(trace response ILIKE)` under the list's
newest-first walk, cost seconds at a million steps either way: for a common word PostgreSQL
turned the trace EXISTS into a hashed scan of every trace, and for a rare word the walk read
and dropped nearly every step before finding a page. Now the plan depends on the term
(PostgreSQL; SQLite has no trigram index and keeps the plain EXISTS):

1. **Index first** (most words): when PostgreSQL estimates at most SEARCH_CANDIDATES matching
   messages and traces, step ids whose message text or trace response matches come from the
   trigram indexes (steps_message_text_trgm, steps_providertrace_response_trgm), at most that
   many rows from each. When neither reaches the cap they are every match, and the list
   filters `id IN (those ids)`, sorted and paged like any other filter: exact.
   The estimate can be far off for a rare word: when one of the ~100 histogram bounds
   ANALYZE keeps for message texts happens to contain it, PostgreSQL assumes about 1 % of all
   messages match (a fresh 1 M-step seed: 20,600 for a word in 189 messages), and walking
   for it read a million steps (7 s). So an estimate above the cap but under
   SEARCH_PROBE_SHARE of a table is checked against the index anyway, given up after
   SEARCH_PROBE_MS: a word that common fills its bitmap slowly, and walks instead.
2. **Walk** (a common word: estimated, or found, above the cap): matches are dense, so the
   list's own newest-first index finds a page within a few hundred rows; each row is checked
   by two lookups by step id (message and trace indexes), written as `(SELECT 1 ... LIMIT 1)
   IS NOT NULL` so the planner cannot turn them into a hashed scan of every trace. Exact too.
3. **Short terms** (under 3 characters): a trigram index cannot look up one or two characters
   (Latin, Cyrillic and CJK alike: pg_trgm indexes every script under a UTF-8 ctype, but
   only from three characters), so they are matched row by row as in 2, in the newest
   SEARCH_SHORT_TERM_WINDOW steps only; the form says so (StepFilterForm.notes).

Semantics are those of the old query in every case: case-insensitive substring of a
message's text or of a trace response's JSON text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection, models
from django.db.models import Exists, F, Func, Lookup, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from .time_limit import TimedOut, statement_time_limit

SHORT_TERM = 3  # characters: the shortest term a trigram index can serve


def is_short(term: str) -> bool:
    return len(term) < SHORT_TERM


def matching(qs, term: str):
    """`qs` narrowed to steps whose messages or trace responses contain `term`."""
    pattern = "%" + like_escape(term) + "%"
    if connection.vendor != "postgresql":
        return qs.filter(_exists(pattern))
    if is_short(term):
        return _walk(qs, pattern).filter(step_time__gte=_window_start())
    cap = settings.SEARCH_CANDIDATES
    # the planner's estimate (pg_trgm and the column statistics) first: reading thousands of
    # matches from the index only to learn the word is common would cost more than the walk
    estimates = estimated_matches(pattern)
    ids = None
    if sum(estimates.values()) <= cap:
        ids = candidate_ids(pattern, cap)
    elif largest_share(estimates) <= settings.SEARCH_PROBE_SHARE:
        ids = probed_candidate_ids(pattern, cap)  # perhaps a histogram bound's overestimate
    return _walk(qs, pattern) if ids is None else qs.filter(pk__in=ids)


def walks(qs) -> bool:
    """Whether `qs` was narrowed by the row-by-row walk (2 and 3 above), not by an id list:
    its matches are dense, and counting them means checking row after row."""
    return "_search_message" in qs.query.annotations  # the alias _walk() adds


def match_sources(pattern: str):
    from .models import Message, ProviderTrace

    return (
        # no ORDER BY (Message orders by step, position): rows as the index yields them
        Message.objects.filter(ILike(F("text"), Value(pattern))).order_by(),
        ProviderTrace.objects.filter(ILike(TraceText(), Value(pattern))).order_by(),
    )


def estimated_matches(pattern: str) -> dict[str, int]:
    """Matching messages and traces as PostgreSQL estimates them, per table: EXPLAIN, no
    execution."""
    estimates = {}
    for rows in match_sources(pattern):
        plan = json.loads(rows.values("step_id").explain(format="json"))
        estimates[rows.model._meta.db_table] = int(plan[0]["Plan"]["Plan Rows"])
    return estimates


def largest_share(estimates: dict[str, int]) -> float:
    """The largest estimate as a share of its table's rows (pg_class.reltuples, kept by
    ANALYZE; -1 before the first)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)", [list(estimates)])
        sizes = dict(cursor.fetchall())
    return max(rows / max(sizes.get(table, 0), 1) for table, rows in estimates.items())


def candidate_ids(pattern: str, cap: int) -> set[str] | None:
    """Ids of every step matching `pattern`, from the trigram indexes; None when there are
    more than `cap` matching messages or traces (the estimate was low: walk instead)."""
    found: set[str] = set()
    for rows in match_sources(pattern):
        ids = list(rows.values_list("step_id", flat=True)[:cap])
        if len(ids) >= cap:
            return None
        found.update(ids)
    return found


def probed_candidate_ids(pattern: str, cap: int) -> set[str] | None:
    """candidate_ids(), given up after SEARCH_PROBE_MS (None: walk instead)."""
    try:
        with statement_time_limit(settings.SEARCH_PROBE_MS):
            return candidate_ids(pattern, cap)
    except TimedOut:
        return None


def _walk(qs, pattern: str):
    from .models import Message, ProviderTrace

    message = Message.objects.filter(step=OuterRef("pk")).filter(ILike(F("text"), Value(pattern)))
    trace = ProviderTrace.objects.filter(step=OuterRef("pk")).filter(ILike(TraceText(), Value(pattern)))
    # scalar subqueries with LIMIT 1: checked per row by step id, never hashed over a whole table
    qs = qs.alias(
        _search_message=Subquery(message.order_by().values("pk")[:1]),
        _search_trace=Subquery(trace.order_by().values("pk")[:1]),
    )
    return qs.filter(Q(_search_message__isnull=False) | Q(_search_trace__isnull=False))


def _window_start():
    """The time of the SEARCH_SHORT_TERM_WINDOW-th newest step (one index seek), or the
    beginning of time when there are fewer."""
    from .models import Step

    nth = Step.objects.order_by("-step_time", "-id").values("step_time")
    window = settings.SEARCH_SHORT_TERM_WINDOW
    return Coalesce(Subquery(nth[window - 1 : window]), Value(datetime(1, 1, 1, tzinfo=UTC)))


def _exists(pattern: str) -> Q:
    from .models import Message, ProviderTrace

    message = Message.objects.filter(step=OuterRef("pk")).filter(ILike(F("text"), Value(pattern)))
    trace = ProviderTrace.objects.filter(step=OuterRef("pk")).filter(ILike(TraceText(), Value(pattern)))
    return Q(Exists(message)) | Q(Exists(trace))


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
