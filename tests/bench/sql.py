"""The bare SQL behind each measured page, rebuilt here the way the views build it, timed and
EXPLAINed in the same run as the HTTP requests."""

from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Max, Sum
from django.http import QueryDict

from steps.filters import StepFilterForm
from steps.models import DailyRollup, HourlyRollup, Message, ProviderTrace, Step, WeeklyRollup
from steps.models.rollups import SUMMED
from steps.views.steps import PAGE_SIZE

# a sequential scan of one of these at a million steps is a page that grows with the table
BIG_TABLES = ("steps_step", "steps_message", "steps_steptool", "steps_providertrace", "steps_stepvote")
SEQ_SCAN = re.compile(r"Seq Scan on (" + "|".join(BIG_TABLES) + r")\b")


def list_queryset(path: str):
    """The step list's main query for this URL: StepFilterForm, sort, cursor, one page (+1)."""
    params = QueryDict(mutable=True)
    for key, value in parse_qsl(urlsplit(path).query, keep_blank_values=True):
        params.appendlist(key, value)
    form = StepFilterForm(params)
    sort = form.sort_order()
    qs = form.filter(Step.objects.for_list()).ordered(sort)
    if key := form.cursor_key:
        qs = qs.after_key(sort, *key)
    return qs[: PAGE_SIZE + 1]


PAGE_QUERIES = {
    # the step page's timeline (its biggest query)
    "step": lambda d: Message.objects.filter(step_id=d["step"]).order_by("position"),
    # the run page: its steps in run order
    "run": lambda d: Step.objects.for_list().filter(run_id=d["run"]).in_run_order(),
    # the compare page: both steps' provider traces
    "compare": lambda d: ProviderTrace.objects.filter(step_id__in=[d["step"], d["other_step"]]),
    "compare_runs": lambda d: Step.objects.filter(run_id__in=[d["run"], d["other_run"]]),
    # the overview: its widest read, every sum of the range's rollups per bucket and model
    "overview_7d": lambda d: _rollups(DailyRollup, days=7),
    "overview_30d": lambda d: _rollups(DailyRollup, days=30),
    "overview_90d": lambda d: _rollups(WeeklyRollup, days=91),
    "overview_400d": lambda d: _rollups(WeeklyRollup, days=400),
    "overview_24h": lambda d: _rollups(HourlyRollup, days=1),
    # the API's step detail: the step's traces, the biggest part of its answer
    "api_step": lambda d: ProviderTrace.objects.filter(step_id=d["step"]),
}


def _rollups(model, days: int):
    until = model.objects.aggregate(last=Max("hour"))["last"]
    since = until - timedelta(days=days)
    return (
        model.objects.filter(hour__gt=since, hour__lte=until)
        .values("hour", "model")
        .annotate(**{f"sum_{name}": Sum(name) for name in SUMMED})  # every sum and histogram
    )


def queryset_for(case, path: str, data: dict):
    if case.kind in ("list", "export"):
        return list_queryset(path)
    if case.sql:
        return PAGE_QUERIES[case.sql](data)
    return None


def time_sql(qs, repeat: int, budget_s: float) -> tuple[float, float, int]:
    """(first run ms, median ms, rows): the query alone, rows fetched, no ORM objects built."""
    try:
        sql, params = qs.query.sql_with_params()
    except EmptyResultSet:  # e.g. a search whose index lookup found nothing: no list query is sent
        return 0.0, 0.0, 0
    samples, rows = [], 0
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for n in range(max(repeat, 2)):
            t0 = time.perf_counter()
            cursor.execute(sql, params)
            rows = len(cursor.fetchall())
            samples.append((time.perf_counter() - t0) * 1000)
            if n >= 1 and time.perf_counter() - started > budget_s:
                break
    return samples[0], statistics.median(samples[1:] or samples), rows


def explain(qs) -> tuple[str, list[str]]:
    """The plan as text, and the big tables it reads with a sequential scan."""
    try:
        sql, params = qs.query.sql_with_params()
    except EmptyResultSet:
        return "(no list query: its filter is empty, e.g. a search the index found nowhere)", []
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return plan, sorted(set(SEQ_SCAN.findall(plan)))
