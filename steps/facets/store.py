"""Incremental facet counts: read a batch's values before and after, add the difference."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, transaction

from .values import STEP_COLUMNS, difference, key, step_values, tag_values

# Set while a tracking block is open: a nested one (cast_vote inside a bulk chunk) adds
# nothing, the outer block counts its steps once.
_open: ContextVar[bool] = ContextVar("facets_tracking", default=False)


def snapshot(step_ids: list[str], *, tools: bool) -> list[tuple[str, str]]:
    """Every (dimension, value) the given steps carry now, once per step."""
    from ..models import Message, Step, StepVote

    pairs: list[tuple[str, str]] = []
    rows = Step.objects.filter(pk__in=step_ids).values_list("tags", *STEP_COLUMNS.values())
    for tags, *values in rows:
        pairs += step_values(dict(zip(STEP_COLUMNS.values(), values, strict=True)), tags)
    for (tags,) in StepVote.objects.filter(step_id__in=step_ids).values_list("tags"):
        pairs += tag_values("vote_tag", tags)
    if tools:
        used = Message.objects.filter(step_id__in=step_ids).exclude(tool_name="").order_by()
        # one (step, tool) pair per step that calls the tool, however often
        pairs += [("tool", key(name)) for _, name in used.values_list("step_id", "tool_name").distinct()]
    return pairs


@contextmanager
def tracking(step_ids: Iterable[str], *, tools: bool = False) -> Iterator[None]:
    """Count what the block changes in these steps' facet values (their columns and tags,
    their votes' tags, with `tools` their messages' tools) once it ends without an error.

    Two small indexed reads of the batch before and after, one upsert: per batch, whatever
    its size. An error inside leaves the counts alone (what was committed before it is
    repaired by the next rebuild)."""
    ids = list(dict.fromkeys(step_ids))
    if not ids or _open.get():
        yield
        return
    before = snapshot(ids, tools=tools)
    token = _open.set(True)
    try:
        yield
    finally:
        _open.reset(token)
    apply_deltas(difference(before, snapshot(ids, tools=tools)))


def apply_deltas(deltas: dict[tuple[str, str], int]) -> None:
    """Add each count to its FacetCount row, creating it; one statement.

    Rows are written in key order so two writers never wait on each other in a cycle. A count
    that reaches 0 stays as a row (pages show counts > 0); the rebuild drops it."""
    from ..models import FacetCount

    rows = sorted((dim, val, n) for (dim, val), n in deltas.items() if n)
    if not rows:
        return
    table = connection.ops.quote_name(FacetCount._meta.db_table)
    values = ", ".join(["(%s, %s, %s)"] * len(rows))
    # ON CONFLICT ... DO UPDATE with an increment: PostgreSQL and SQLite (3.24+) both speak it;
    # Django's bulk_create(update_conflicts=True) can only overwrite, never add.
    sql = (
        f"INSERT INTO {table} (dimension, value, steps) VALUES {values} "
        f"ON CONFLICT (dimension, value) DO UPDATE SET steps = {table}.steps + excluded.steps"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [x for row in rows for x in row])
