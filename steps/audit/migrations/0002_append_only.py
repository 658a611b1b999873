"""Append-only in the database too: even raw SQL cannot change or delete an audit event.

PostgreSQL: a trigger function raises on UPDATE and DELETE (per row) and TRUNCATE (per
statement). SQLite: triggers that abort UPDATE and DELETE (SQLite has no TRUNCATE). Only
someone who can drop the trigger (the table's owner) can get round it; see README, "Audit trail".

Also indexes Django's admin log by time (and by user and time), which the trail page reads
newest first next to the events: without them that read would sort the whole log.
"""

from django.db import migrations

PG_UP = [
    """
    CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql
    """,
    """CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON audit_auditevent
       FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""",
    """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
       FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()""",
]
PG_DOWN = [
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_event_no_update_delete ON audit_auditevent",
    "DROP FUNCTION IF EXISTS audit_refuse_change()",
]
SQLITE_UP = [
    f"""CREATE TRIGGER audit_event_no_{op.lower()} BEFORE {op} ON audit_auditevent
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: {op} refused'); END"""
    for op in ("UPDATE", "DELETE")
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS audit_event_no_{op}" for op in ("update", "delete")]
LOG_INDEXES_UP = [
    "CREATE INDEX IF NOT EXISTS audit_adminlog_time ON django_admin_log (action_time DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS audit_adminlog_user_time ON django_admin_log (user_id, action_time DESC, id DESC)",
]
LOG_INDEXES_DOWN = ["DROP INDEX IF EXISTS audit_adminlog_time", "DROP INDEX IF EXISTS audit_adminlog_user_time"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor, [])
        for sql in statements:
            schema_editor.execute(sql, params=None)  # no placeholders: RAISE uses %

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": PG_DOWN, "sqlite": SQLITE_DOWN}),
        ),
        migrations.RunPython(
            _run({"postgresql": LOG_INDEXES_UP, "sqlite": LOG_INDEXES_UP}),
            _run({"postgresql": LOG_INDEXES_DOWN, "sqlite": LOG_INDEXES_DOWN}),
        ),
    ]
