"""Write seeded data: COPY on PostgreSQL, bulk_create elsewhere, with a progress line per batch.

The typed columns always come from the models' own `columns_from_payload`, as in a sync, so a
seeded row is exactly what the mirror would have stored for that payload.

A first load into PostgreSQL runs in one transaction that drops the seeded tables' secondary
indexes and foreign keys, copies everything and builds them again (what pg_restore does):
building an index once is many times cheaper than updating it for every row, and if anything
fails or the command is stopped, the transaction rolls back with the indexes untouched.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import connection, models, transaction

from ..mirror import trace_key
from ..models import (
    Agent,
    FeedbackPush,
    Message,
    ProviderTrace,
    Run,
    Step,
    StepMetrics,
    StepReview,
    StepVote,
    parse_upstream_datetime,
)
from .generate import REVIEWERS, Batch, Seeder

SEEDED_MODELS = (Agent, Run, Step, StepMetrics, Message, ProviderTrace, StepVote, FeedbackPush, StepReview)


@dataclass
class Totals:
    rows: dict[str, int] = field(default_factory=dict)

    def add(self, model: type[models.Model], n: int) -> None:
        self.rows[model._meta.db_table] = self.rows.get(model._meta.db_table, 0) + n

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def reviewers() -> list[int]:
    """User ids of the seeded reviewers (no password: they cannot sign in)."""
    User = get_user_model()
    ids = []
    for n in range(1, REVIEWERS + 1):
        user, created = User.objects.get_or_create(username=f"seed-reviewer-{n}")
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        ids.append(user.pk)
    return ids


# --- payloads -> rows (column attname -> value) ----------------------------------------------


def agent_row(payload: dict) -> dict:
    created = parse_upstream_datetime(payload["created_at"])
    return {
        "id": payload["id"],
        "payload": payload,
        **Agent.columns_from_payload(payload),
        "first_seen_at": created,
        "last_synced_at": created,
        "missing_upstream": False,
    }


def run_row(payload: dict) -> dict:
    columns = Run.columns_from_payload(payload)
    done = columns["completed_at"] or columns["created_at"]
    return {
        "id": payload["id"],
        "payload": payload,
        **columns,
        "first_seen_at": done,
        "last_synced_at": done,
        "steps_listed_at": done,
    }


def step_row(payload: dict, derived: dict) -> dict:
    return {"id": payload["id"], "payload": payload, **Step.columns_from_payload(payload), **derived}


def metrics_row(step_id: str, payload: dict, seen: datetime) -> dict:
    return {
        "step_id": step_id,
        "payload": payload,
        **StepMetrics.columns_from_payload(payload),
        "first_seen_at": seen,
        "last_synced_at": seen,
    }


def trace_row(step_id: str, payload: dict, seen: datetime) -> dict:
    return {
        "step_id": step_id,
        "upstream_id": trace_key(payload),
        "payload": {k: v for k, v in payload.items() if k not in ProviderTrace.BULKY_FIELDS},
        **ProviderTrace.columns_from_payload(payload),
        "first_seen_at": seen,
        "last_synced_at": seen,
    }


def batch_rows(batch: Batch, users: list[int]) -> list[tuple[type[models.Model], list[dict]]]:
    """The batch's rows per model, in an order foreign keys accept."""
    votes = [
        {
            "step_id": v["step_id"],
            "feedback": v["feedback"],
            "tags": v["tags"],
            "voted_by_id": users[v["reviewer"]],
            "voted_at": v["voted_at"],
        }
        for v in batch.votes
    ]
    pushes = [
        {**{k: v for k, v in p.items() if k != "reviewer"}, "created_by_id": users[p["reviewer"]]}
        for p in batch.pushes
    ]
    return [
        (Run, [run_row(p) for p in batch.runs]),
        (Step, [step_row(p, d) for p, d in batch.steps]),
        (StepMetrics, [metrics_row(*m) for m in batch.metrics]),
        (Message, batch.messages),
        (ProviderTrace, [trace_row(*t) for t in batch.traces]),
        (StepVote, votes),
        (FeedbackPush, pushes),
        (StepReview, batch.reviews),
    ]


# --- writers ---------------------------------------------------------------------------------


def _columns(model: type[models.Model]) -> list[models.Field]:
    # an auto-increment primary key is left to the database
    return [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]


def _default(f: models.Field):
    """What a column the seed does not set gets: the field's default, as the ORM would write it
    (columns added later by other features keep working without touching the seed)."""
    value = f.get_default()  # "" for a text column without a default, as Django writes it
    if isinstance(f, models.JSONField):
        return json.dumps(value)
    return f.get_db_prep_save(value, connection)


class CopyWriter:
    """COPY ... FROM STDIN through psycopg 3, one statement per model and batch."""

    def __init__(self):
        self.plans = {}
        self.seconds: dict[str, float] = {}  # time spent in COPY, per table

    def _plan(self, model):
        if model not in self.plans:
            fields = _columns(model)
            sql = "COPY {} ({}) FROM STDIN".format(
                connection.ops.quote_name(model._meta.db_table),
                ", ".join(connection.ops.quote_name(f.column) for f in fields),
            )
            columns = [(f.attname, isinstance(f, models.JSONField), _default(f)) for f in fields]
            self.plans[model] = (sql, columns)
        return self.plans[model]

    def write(self, model, rows: list[dict]) -> None:
        if not rows:
            return
        sql, columns = self._plan(model)
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
        started = time.monotonic()
        with connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(
                    [
                        (dumps(row[name]) if is_json else row[name]) if name in row else default
                        for name, is_json, default in columns
                    ]
                )
        table = model._meta.db_table
        self.seconds[table] = self.seconds.get(table, 0.0) + time.monotonic() - started


class BulkCreateWriter:
    """The portable path (SQLite): model instances and bulk_create."""

    def write(self, model, rows: list[dict]) -> None:
        if rows:
            model.objects.bulk_create([model(**row) for row in rows], batch_size=500)


# --- PostgreSQL: build indexes once ---------------------------------------------------------


def drop_secondary_structures() -> list[tuple[str, str]]:
    """Drop the seeded tables' foreign keys, unique constraints and secondary indexes (inside
    the caller's transaction); return (name, SQL) that builds each again."""
    tables = [m._meta.db_table for m in SEEDED_MODELS]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conname, t.relname, c.contype, pg_get_constraintdef(c.oid)
            FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
            WHERE t.relname = ANY(%s) AND c.contype IN ('f', 'u')
            ORDER BY c.contype DESC, c.conname
            """,
            [tables],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            """
            SELECT ic.relname, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_class ic ON ic.oid = i.indexrelid
            WHERE t.relname = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            ORDER BY ic.relname
            """,
            [tables],
        )
        indexes = cursor.fetchall()
        rebuild = []
        for name, table, _kind, _definition in constraints:
            cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for name, definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
            rebuild.append((name, definition))
        # unique constraints before foreign keys (contype sorted 'u' then 'f')
        for name, table, _kind, definition in constraints:
            rebuild.append((name, f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'))
    return rebuild


# --- the whole load --------------------------------------------------------------------------


def seed(
    seeder: Seeder,
    *,
    batch_steps: int,
    fresh: bool,
    say: Callable[[str], None],
    vacuum: bool = True,
    writer: CopyWriter | BulkCreateWriter | None = None,
) -> Totals:
    postgres = connection.vendor == "postgresql"
    writer = writer or (CopyWriter() if postgres else BulkCreateWriter())
    totals = Totals()
    users = reviewers()
    started = time.monotonic()

    def load_batches():
        known = set(Agent.objects.filter(id__in=[a.id for a in seeder.agents]).values_list("id", flat=True))
        agents = [agent_row(a.payload) for a in seeder.agents if a.id not in known]
        writer.write(Agent, agents)
        totals.add(Agent, len(agents))
        for batch in seeder.batches(batch_steps):
            write_batch(batch)

    def write_batch(batch: Batch):
        with transaction.atomic():  # a savepoint inside a fresh load's transaction
            for model, rows in batch_rows(batch, users):
                writer.write(model, rows)
                totals.add(model, len(rows))
        elapsed = time.monotonic() - started
        done = seeder.made
        rate = done / elapsed if elapsed else 0
        eta = (seeder.count - done) / rate if rate else 0
        say(
            f"  steps {done:>10,}/{seeder.count:,} ({100 * done / seeder.count:5.1f} %)  "
            f"rows {totals.total:>11,}  {rate:>8,.0f} steps/s  {totals.total / elapsed:>9,.0f} rows/s  "
            f"ETA {eta:6.0f} s"
        )

    if isinstance(writer, CopyWriter) and fresh:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            rebuild = drop_secondary_structures()
            say(f"Dropped {len(rebuild)} indexes and constraints of the seeded tables for the load.")
            load_batches()
            say(f"Loaded in {time.monotonic() - started:.0f} s; building indexes and constraints:")
            with connection.cursor() as cursor:
                for n, (name, sql) in enumerate(rebuild, 1):
                    t0 = time.monotonic()
                    cursor.execute(sql)
                    say(f"  {n:>2}/{len(rebuild)} {name:<45} {time.monotonic() - t0:6.1f} s")
    else:
        load_batches()
    if isinstance(writer, CopyWriter):
        spent = ", ".join(f"{t.removeprefix('steps_')} {s:.0f} s" for t, s in writer.seconds.items())
        say(f"Time in COPY (encoding included): {spent}")
    if postgres and vacuum:
        t0 = time.monotonic()
        with connection.cursor() as cursor:
            for model in SEEDED_MODELS:
                cursor.execute(f'VACUUM (ANALYZE) "{model._meta.db_table}"')
        say(f"VACUUM ANALYZE of the seeded tables: {time.monotonic() - t0:.0f} s")
    return totals
