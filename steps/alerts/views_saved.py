"""Saved views: who sees which, "12 new since you last opened it", and the default view.

The "new" counts are bounded index reads: each view's filter plus `step_time > last opened`, walked
along the list's own (column, step_time, id) indexes and stopped after NEW_CAP + 1 rows, so a
count never reads more than that many rows whatever the table's size ("99+" beyond). On
PostgreSQL all the sidebar's views are counted in one statement (a UNION ALL of the bounded
subqueries) under the list count's statement timeout; a view whose count would take longer shows
no number rather than holding the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Q, Subquery, Value
from django.http import QueryDict
from django.utils import timezone

from ..filters import StepFilterForm, list_query
from ..models import Step
from ..time_limit import TimedOut, statement_time_limit
from .models import SavedView, ViewPreference, ViewVisit

NEW_CAP = 99
SIDEBAR_VIEWS = 12  # views counted on a page; more are listed on the views page
# A view never opened counts the steps of the last day as new, not the whole table.
FIRST_VISIT_LOOKBACK = timedelta(days=1)


def visible_to(user):
    """The user's own views and the team's shared ones, shared first, by name."""
    return SavedView.objects.filter(Q(owner=user) | Q(shared=True)).order_by("-shared", "name", "id")


def clean_view_query(query: str) -> str:
    """The list query as a view keeps it: without paging, live mode or empty values."""
    return list_query(QueryDict(query))


@dataclass
class ViewRow:
    view: SavedView
    new: int | None  # None: not counted (took too long)
    is_default: bool = False

    @property
    def new_text(self) -> str:
        if not self.new:
            return ""
        return f"{NEW_CAP}+" if self.new > NEW_CAP else str(self.new)


def sidebar(user, limit: int = SIDEBAR_VIEWS, *, counted: bool = True) -> list[ViewRow]:
    """The views a user sees, each with its count of new steps: one query for the views (with
    the user's last visit and default), one for every count; one in all when there are none.
    Without `counted`, the views alone (one query): the list and the overview render at once and
    fetch the counts afterwards (views_saved_counts), so a slow count never holds a page."""
    views = list(_annotated(visible_to(user), user).select_related("owner")[:limit])
    if not counted:
        return [ViewRow(v, None, v.is_default) for v in views]
    return rows_for(user, views)


def _annotated(views, user):
    visits = ViewVisit.objects.filter(view=OuterRef("pk"), user=user).values("opened_at")[:1]
    default = ViewPreference.objects.filter(user=user, default_view=OuterRef("pk"))
    return views.annotate(last_opened=Subquery(visits), is_default=Exists(default))


def rows_for(user, views: list[SavedView]) -> list[ViewRow]:
    """Rows for these views; views read without `_annotated` get their visits in two queries."""
    if not views:
        return []
    if not hasattr(views[0], "last_opened"):
        views = list(
            _annotated(SavedView.objects.filter(pk__in=[v.pk for v in views]), user)
            .order_by("-shared", "name", "id")
            .select_related("owner")
        )
    now = timezone.now()
    since = {v.pk: v.last_opened or now - FIRST_VISIT_LOOKBACK for v in views}
    counts = new_counts(views, since)
    return [ViewRow(v, counts.get(v.pk), v.is_default) for v in views]


def _new_steps(view: SavedView, since):
    form = StepFilterForm(QueryDict(view.query))
    qs = form.filter(Step.objects.all()).filter(step_time__gt=since)
    return (
        qs.order_by("-step_time", "-id")
        .annotate(view=Value(view.pk))
        .values_list("view", flat=True)[: NEW_CAP + 1]
    )


def new_counts(views: list[SavedView], since: dict) -> dict[int, int | None]:
    subqueries = [_new_steps(view, since[view.pk]) for view in views]
    if connection.vendor != "postgresql":
        return {view.pk: qs.count() for view, qs in zip(views, subqueries, strict=True)}
    counts: dict[int, int | None] = {view.pk: 0 for view in views}
    union = subqueries[0].union(*subqueries[1:], all=True) if len(subqueries) > 1 else subqueries[0]
    try:
        with statement_time_limit(settings.LIST_COUNT_TIMEOUT_MS):
            for view_id in union:
                counts[view_id] += 1
    except TimedOut:
        return {view.pk: None for view in views}
    return counts


def record_open(view: SavedView, user) -> None:
    """The user opened the view now: its "new" count starts again from here."""
    ViewVisit.objects.update_or_create(view=view, user=user, defaults={"opened_at": timezone.now()})


def default_view(user) -> SavedView | None:
    pref = ViewPreference.objects.filter(user=user).select_related("default_view").first()
    view = pref.default_view if pref else None
    if view is not None and not (view.shared or view.owner_id == user.pk):
        return None  # a shared view made personal again by its owner
    return view


def set_default(user, view: SavedView | None) -> None:
    ViewPreference.objects.update_or_create(user=user, defaults={"default_view": view})
