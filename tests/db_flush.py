"""Transactional tests (the browser's live server, the real processes, the seeder) end with Django
emptying every table: one TRUNCATE of all 37 on PostgreSQL, 0.5-0.9 s here, most of it creating and
removing files. By then the tables hold a few rows, and DELETE empties them in a few milliseconds.

The audit trail refuses DELETE and TRUNCATE by trigger (steps/audit/migrations/0002): between tests,
and only here, its triggers are switched off around the flush, as a database owner could."""

from django.db.backends.postgresql.operations import DatabaseOperations

truncate = DatabaseOperations.sql_flush
APPEND_ONLY = "audit_auditevent"


def delete_rows(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    if reset_sequences:  # only TRUNCATE restarts the ids
        statements = truncate(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
    else:
        # Any order: Django's foreign keys are DEFERRABLE INITIALLY DEFERRED, checked at the flush's commit.
        statements = [
            f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};"
            for table in tables
        ]
    if APPEND_ONLY in tables:
        statements = [
            f"ALTER TABLE {APPEND_ONLY} DISABLE TRIGGER USER;",
            *statements,
            f"ALTER TABLE {APPEND_ONLY} ENABLE TRIGGER USER;",
        ]
    return statements


def flush_with_delete() -> None:
    DatabaseOperations.sql_flush = delete_rows
