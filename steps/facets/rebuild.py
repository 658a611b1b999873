"""Recount every facet from the tables: the repair for any drift of the incremental counts."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from django.db import connection, transaction
from django.db.models import Count

from .values import STEP_COLUMNS, key


def rebuild(progress: Callable[[str], None] = lambda line: None, *, apps=None) -> int:
    """Replace the counts of each dimension with a fresh count; return the number of values.

    Each dimension is recounted and replaced in one transaction that first takes an
    EXCLUSIVE lock on the counts: readers go on, writers adding deltas wait for it, so a
    delta lands either in the recount (committed before it) or after it, never lost or twice.
    `apps` is a migration's app registry (the migration that creates the table fills it)."""
    models = _models(apps)
    total = 0
    for dimension, count in _counters(models):
        started = time.monotonic()
        with transaction.atomic():
            if connection.vendor == "postgresql":
                table = connection.ops.quote_name(models["FacetCount"]._meta.db_table)
                with connection.cursor() as cursor:
                    cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            counts = count()
            FacetCount = models["FacetCount"]
            FacetCount.objects.filter(dimension=dimension).delete()
            FacetCount.objects.bulk_create(
                [FacetCount(dimension=dimension, value=v, steps=n) for v, n in counts.items() if n],
                batch_size=1000,
            )
        total += len(counts)
        progress(
            f"{dimension}: {len(counts)} values, counts summing to {sum(counts.values())} "
            f"({time.monotonic() - started:.1f} s)"
        )
    return total


def _models(apps) -> dict:
    if apps is None:
        from django.apps import apps
    return {name: apps.get_model("steps", name) for name in ("Step", "Message", "StepVote", "FacetCount")}


def _counters(models: dict):
    Step, Message, StepVote = models["Step"], models["Message"], models["StepVote"]

    def column(name: str) -> Callable[[], Counter]:
        def count() -> Counter:
            # served by the (column, -step_time, -id) indexes, read index-only
            rows = Step.objects.exclude(**{name: ""}).values_list(name).annotate(n=Count("pk")).order_by()
            return _merged(rows)

        return count

    def tools() -> Counter:
        used = Message.objects.exclude(tool_name="").values_list("tool_name")  # steps_message_tool
        return _merged(used.annotate(n=Count("step_id", distinct=True)).order_by())

    for dimension, name in STEP_COLUMNS.items():
        yield dimension, column(name)
    yield "tool", tools
    yield "tag", lambda: _tag_counts(Step._meta.db_table, "id")
    yield "vote_tag", lambda: _tag_counts(StepVote._meta.db_table, "step_id")


def _tag_counts(table: str, pk: str) -> Counter:
    """Rows whose JSON list `tags` holds each tag (each row once), grouped by the database."""
    table, pk = connection.ops.quote_name(table), connection.ops.quote_name(pk)
    if connection.vendor == "postgresql":
        elements = (
            "jsonb_array_elements_text(CASE WHEN jsonb_typeof(r.tags) = 'array' THEN r.tags ELSE '[]' END)"
        )
        sql = (
            f"SELECT e.t, count(DISTINCT r.{pk}) FROM {table} r CROSS JOIN LATERAL {elements} AS e(t) "
            "WHERE r.tags <> '[]'::jsonb GROUP BY e.t"
        )
    else:
        sql = (
            f"SELECT e.value, count(DISTINCT r.{pk}) FROM {table} r, json_each(r.tags) e "
            "WHERE json_type(r.tags) = 'array' GROUP BY e.value"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return _merged(cursor.fetchall())


def _merged(rows) -> Counter:
    # values longer than a FacetCount value are counted under their truncation, as deltas are
    counts: Counter = Counter()
    for value, n in rows:
        counts[key(value)] += n
    return counts
