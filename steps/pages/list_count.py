"""How many steps the list's filter matches, beside its title, at a cost that does not grow
with the table.

- A first page that shows every match counts itself: no query.
- A search walked row by row (a common or short term, steps/search.py) is sampled: how many
  of the newest LIST_COUNT_SEARCH_SAMPLE steps the other filters keep match it, scaled to
  how many steps those filters keep (EXPLAIN); exact when the sample held them all.
- Otherwise one count of at most LIST_EXACT_COUNT_UP_TO + 1 rows, walked in the list's own
  order (the index that serves the page): exact up to that many. Where matches are sparse
  and no index finds them (a prompt-token range) those rows can lie far apart, so the count
  also stops after LIST_COUNT_TIMEOUT_MS.
- Past either, an estimate, marked as one: the facet count when the filter is a single facet
  value (agent, model, tool ...: precomputed, eventually consistent, archived steps
  included), else PostgreSQL's own row estimate for the query (EXPLAIN, nothing executed).
  An estimate below what was counted says "1,000+" instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Sum

from ..search import is_short, walks
from ..time_limit import TimedOut, statement_time_limit

# list filter -> facet dimension, for filters a facet row counts by itself
FACET_FILTERS = {
    "agent": "agent",
    "model": "model",
    "provider": "provider",
    "stop_reason": "stop_reason",
    "error_type": "error_type",
    "tool": "tool",
    "tag": "tag",
}
IGNORED = {"hidden"}  # the facets count archived steps too: an estimate either way


@dataclass(frozen=True)
class ListCount:
    n: int
    kind: str  # "exact", "at_least" or "estimate"
    source: str = ""  # what an estimate comes from

    @property
    def text(self) -> str:
        noun = "step" if self.n == 1 else "steps"
        if self.kind == "at_least":
            return f"{self.n:,}+ {noun}"
        if self.kind == "estimate":
            return f"≈ {self.n:,} {noun}"
        return f"{self.n:,} {noun}"

    @property
    def title(self) -> str:
        if self.kind == "exact":
            return "Steps matching this filter"
        if self.kind == "at_least":
            return f"More than {self.n:,} steps match this filter; counted no further"
        return f"About this many steps match this filter (estimated from {self.source})"


def list_count(form, ordered, *, shown: int, has_more: bool, first_page: bool) -> ListCount:
    """The count of `ordered` (the list's filtered, sorted queryset, before its cursor)."""
    if first_page and not has_more:
        return ListCount(shown, "exact")
    if walks(ordered):
        # at least the page shown and one more, when this is the first page
        return _sampled(form, ordered, least=shown + 1 if first_page else 0)
    cap = settings.LIST_EXACT_COUNT_UP_TO
    counted = _bounded_count(ordered, cap)
    if counted is not None and counted <= cap:
        return ListCount(counted, "exact")
    estimate, source = _estimate(form, ordered)
    # (a count only times out on PostgreSQL, which always has an estimate)
    if estimate is None or (counted is not None and estimate <= cap):
        return ListCount(cap, "at_least")
    return ListCount(_round(estimate), "estimate", source)


def _bounded_count(ordered, cap: int) -> int | None:
    """Matching rows up to cap + 1; None when counting them took too long."""
    rows = ordered.values("pk")[: cap + 1]
    if connection.vendor != "postgresql":
        return rows.count()
    try:
        with statement_time_limit(settings.LIST_COUNT_TIMEOUT_MS):
            return rows.count()
    except TimedOut:
        return None


def _sampled(form, ordered, *, least: int) -> ListCount:
    from ..models import Step

    size = settings.LIST_COUNT_SEARCH_SAMPLE
    base = form.filter(Step.objects.all(), search=False).ordered(form.sort_order())
    sample = base.values("pk")[:size]
    kept = sample.count()  # by the list's index, at most the sample's size
    hits = ordered.filter(pk__in=sample).count()  # the sample's rows, each checked by step id
    if kept < size:
        return ListCount(hits, "exact")  # the sample is every step the other filters keep
    total = _plan_rows(base)
    if is_short(form.search_term):  # searched in the newest steps only
        total = min(total, settings.SEARCH_SHORT_TERM_WINDOW)
    estimate = max(round(hits * total / size), least)
    return ListCount(_round(estimate), "estimate", f"a sample of the newest {size:,} steps")


def _plan_rows(qs) -> int:
    """The rows PostgreSQL expects `qs` to return: EXPLAIN, nothing executed."""
    return int(json.loads(qs.explain(format="json"))[0]["Plan"]["Plan Rows"])


def _estimate(form, ordered) -> tuple[int | None, str]:
    facet = _facet_filter(form)
    if facet is not None:
        from ..models import FacetCount

        dimension, values = facet
        rows = FacetCount.objects.filter(dimension=dimension, value__in=values)
        return rows.aggregate(n=Sum("steps"))["n"] or 0, "the filter's facet count"
    if connection.vendor != "postgresql":
        return None, ""
    return _plan_rows(ordered), "the database's statistics"


def _facet_filter(form) -> tuple[str, list[str]] | None:
    """(dimension, values) when the form's only filter is one a facet row counts."""
    names = {name for name, _, _ in form.active} - IGNORED
    if len(names) != 1 or (name := names.pop()) not in FACET_FILTERS:
        return None
    return FACET_FILTERS[name], form.resolved.get(name) or [form.cleaned_data[name]]


def _round(n: int) -> int:
    """Two significant figures: an estimate is not precise to the step."""
    digits = len(str(n))
    if digits <= 2:
        return n
    unit = 10 ** (digits - 2)
    return round(n / unit) * unit
