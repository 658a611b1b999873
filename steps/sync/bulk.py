"""Batched writes for the sync's hot path, a few statements per batch on PostgreSQL and SQLite.

Django's bulk_create and bulk_update do the same job but cost more Python than the mirror can
spare per step (the bench, tests/bench/bench_sync.py): on PostgreSQL bulk_create sends each
column as an array (UNNEST), and psycopg escapes every JSON document of a batch item by item in
Python to build those arrays; bulk_update compiles a CASE WHEN per field and per row. Here a
batch is one multi-row INSERT .. ON CONFLICT (plain parameters, quoted by the driver's C code),
or one executemany of a plain UPDATE (psycopg pipelines it: one round trip).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import connection
from django.db.models import Model


@contextmanager
def _cursor() -> Iterator:
    """On PostgreSQL a cursor with server-side binding: Django's client-side one quotes every
    parameter (JSON documents of several KB) in Python into the SQL text; this one sends them
    apart, and psycopg prepares a statement that a batch executes many times."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg

    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield cursor


def _fields(model: type[Model], names: Sequence[str]):
    return [model._meta.get_field(name) for name in names]


def insert(model: type[Model], objs: Sequence[Model]) -> None:
    """INSERT the objects, like bulk_create without reading back primary keys."""
    _insert(model, objs, "")


def upsert(
    model: type[Model],
    objs: Sequence[Model],
    *,
    unique_fields: Sequence[str],
    update_fields: Sequence[str],
) -> None:
    """INSERT the objects; a row that exists (by unique_fields) gets update_fields instead.
    Like bulk_create(update_conflicts=True), without reading back primary keys."""
    quote = connection.ops.quote_name
    conflict = ", ".join(quote(f.column) for f in _fields(model, unique_fields))
    updates = ", ".join(
        f"{quote(f.column)} = EXCLUDED.{quote(f.column)}" for f in _fields(model, update_fields)
    )
    _insert(model, objs, f" ON CONFLICT ({conflict}) DO UPDATE SET {updates}")


def _insert(model: type[Model], objs: Sequence[Model], on_conflict: str) -> None:
    if not objs:
        return
    meta, quote = model._meta, connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if f is not meta.auto_field]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}){on_conflict}"
    )
    rows = [[f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields] for obj in objs]
    with _cursor() as cursor:
        cursor.executemany(sql, rows)


def update_each(model: type[Model], objs: Sequence[Model], fields: Sequence[str], **where) -> None:
    """UPDATE each object's row with its own values of `fields`, only where the row also
    matches `where` (column=value, e.g. the claim still ours), in one executemany."""
    if not objs:
        return
    meta, quote = model._meta, connection.ops.quote_name
    targets = _fields(model, fields)
    conditions = [meta.get_field(name) for name in where]
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{quote(f.column)} = %s' for f in targets)} "
        f"WHERE {quote(meta.pk.column)} = %s" + "".join(f" AND {quote(f.column)} = %s" for f in conditions)
    )
    fixed = [
        f.get_db_prep_value(value, connection) for f, value in zip(conditions, where.values(), strict=True)
    ]
    rows = [
        [*(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in targets), obj.pk, *fixed]
        for obj in objs
    ]
    with _cursor() as cursor:
        cursor.executemany(sql, rows)
