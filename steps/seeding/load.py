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
import multiprocessing
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction

from ..models import (
    Agent,
    FeedbackPush,
    Message,
    ProviderTrace,
    Run,
    Step,
    StepMetrics,
    StepReview,
    StepTool,
    StepVote,
    parse_upstream_datetime,
)
from ..sync.mirror import trace_key
from .generate import REVIEWERS, Batch, Seeder

SEEDED_MODELS = (
    Agent,
    Run,
    Step,
    StepMetrics,
    Message,
    StepTool,
    ProviderTrace,
    StepVote,
    FeedbackPush,
    StepReview,
)


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


def tool_rows(batch: Batch) -> list[dict]:
    """The batch's StepTool rows, as the sync derives them from the same messages."""
    times = {payload["id"]: derived["step_time"] for payload, derived in batch.steps}
    return [
        {"step_id": row.step_id, "tool_name": row.tool_name, "step_time": row.step_time}
        for row in StepTool.rows_for(batch.messages, times)
    ]


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
        (StepTool, tool_rows(batch)),
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


def _escape(text: str) -> str:
    # str.replace is a memchr-speed scan; str.translate with a table is several times slower
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    return text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return _escape(str(value))


class CopyEncoder:
    """Rows of a model as COPY text. Needs no database, so it runs in the producer process."""

    def __init__(self):
        self.plans = {}
        self.dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode

    def plan(self, model) -> tuple[str, list]:
        if model not in self.plans:
            fields = _columns(model)
            sql = "COPY {} ({}) FROM STDIN".format(
                connection.ops.quote_name(model._meta.db_table),
                ", ".join(connection.ops.quote_name(f.column) for f in fields),
            )
            columns = [(f.attname, isinstance(f, models.JSONField), copy_text(_default(f))) for f in fields]
            self.plans[model] = (sql, columns)
        return self.plans[model]

    def encode(self, model, rows: list[dict]) -> bytes:
        _, columns = self.plan(model)
        dumps = self.dumps
        lines = []
        for row in rows:
            lines.append(
                "\t".join(
                    (copy_text(dumps(row[name]) if is_json else row[name]) if name in row else default)
                    for name, is_json, default in columns
                )
            )
        lines.append("")
        return "\n".join(lines).encode()


class CopyWriter:
    """COPY ... FROM STDIN through psycopg 3, one statement per model and batch."""

    def __init__(self):
        self.encoder = CopyEncoder()
        self.seconds: dict[str, float] = {}  # time spent in COPY, per table

    def write(self, model, rows: list[dict]) -> None:
        if rows:
            self.write_encoded(model, self.encoder.encode(model, rows))

    def write_encoded(self, model, data: bytes) -> None:
        sql, _ = self.encoder.plan(model)
        started = time.monotonic()
        with connection.cursor() as cursor, cursor.copy(sql) as copy:
            copy.write(data)
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


# --- the producer process ----------------------------------------------------------------------


def _produce(seeder: Seeder, batch_steps: int, users: list[int], queue) -> None:
    """In the forked child: batches as COPY text. It never touches the database (its inherited
    connection is the parent's; multiprocessing ends the child with os._exit, closing nothing)."""
    encoder = CopyEncoder()
    try:
        for batch in seeder.batches(batch_steps):
            encoded = [
                (model._meta.label, encoder.encode(model, rows), len(rows))
                for model, rows in batch_rows(batch, users)
            ]
            queue.put(("batch", seeder.made, encoded))
        queue.put(("done", seeder.made, None))
    except BaseException:
        queue.put(("error", traceback.format_exc(), None))


def produce(seeder: Seeder, batch_steps: int, users: list[int]) -> Iterator[tuple[int, list]]:
    """(steps made so far, [(model label, COPY data, rows)]) per batch, from a forked process,
    started now (before the load's transaction, with no connection for the child to inherit)."""
    if not connection.in_atomic_block:
        connection.close()  # reopened by the next query, in this process only
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=4)
    child = context.Process(target=_produce, args=(seeder, batch_steps, users, queue), daemon=True)
    child.start()
    return _receive(child, queue)


def _receive(child, queue) -> Iterator[tuple[int, list]]:
    try:
        while True:
            kind, value, encoded = queue.get()
            if kind == "error":
                raise RuntimeError(f"The seed's producer process failed:\n{value}")
            if kind == "done":
                return
            yield value, encoded
    finally:
        if child.is_alive():
            child.terminate()
        child.join()


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
        if isinstance(writer, CopyWriter):
            for made, encoded in produced:
                with transaction.atomic():  # a savepoint inside a fresh load's transaction
                    for label, data, n in encoded:
                        model = apps.get_model(label)
                        if n:
                            writer.write_encoded(model, data)
                        totals.add(model, n)
                progress(made)
        else:
            for batch in seeder.batches(batch_steps):
                with transaction.atomic():
                    for model, rows in batch_rows(batch, users):
                        writer.write(model, rows)
                        totals.add(model, len(rows))
                progress(seeder.made)

    def progress(done: int):
        elapsed = time.monotonic() - started
        rate = done / elapsed if elapsed else 0
        eta = (seeder.count - done) / rate if rate else 0
        say(
            f"  steps {done:>10,}/{seeder.count:,} ({100 * done / seeder.count:5.1f} %)  "
            f"rows {totals.total:>11,}  {rate:>8,.0f} steps/s  {totals.total / elapsed:>9,.0f} rows/s  "
            f"ETA {eta:6.0f} s"
        )

    # Generating and encoding rows runs in its own process while this one copies: on two cores
    # the Python work and PostgreSQL's overlap instead of taking turns.
    produced = produce(seeder, batch_steps, users) if isinstance(writer, CopyWriter) else None
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
