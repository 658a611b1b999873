"""Trigram indexes for the step list's text search (PostgreSQL only).

pg_trgm serves `ILIKE '%term%'` in any language (no stemming, no dictionary), which is what a
search over model output needs. SQLite gets no index and scans: fine for a local install.
"""

from django.db import migrations

INDEXES = [
    # text search over message text (user/assistant text, tool arguments and returns)
    "CREATE INDEX IF NOT EXISTS steps_message_text_trgm ON steps_message USING gin (text gin_trgm_ops)",
    # text search over provider trace payloads
    "CREATE INDEX IF NOT EXISTS steps_providertrace_json_trgm ON steps_providertrace "
    "USING gin (((request_json)::text || ' ' || (response_json)::text) gin_trgm_ops)",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for sql in INDEXES:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS steps_message_text_trgm")
    schema_editor.execute("DROP INDEX IF EXISTS steps_providertrace_json_trgm")


class Migration(migrations.Migration):
    dependencies = [("steps", "0002_review_and_share")]

    operations = [migrations.RunPython(forwards, backwards)]
