"""Precomputed facet counts; indexes for the tag filter and reviewer counts; unused indexes dropped.

Each index kept or dropped is justified in docs/scaling.md ("Indexes"). On PostgreSQL:

- steps_step_tags (GIN, jsonb_path_ops) serves the tag filter, `tags @> '["tag"]'`
  (StepQuerySet.with_tag); jsonb_path_ops answers only @>, which is all we ask, at about a
  third of the size of the default operator class.
- Django's `*_like` (varchar_pattern_ops) twins of the string primary keys and step foreign
  keys serve `LIKE 'prefix%'`, which nothing here runs (ids are matched exactly everywhere,
  the admin included): dropped. Django creates them again only if such a column is altered.
- steps_step_feedback_time held every step; steps_step_feedback_given holds the rated ones
  only, which is all the positive / negative filters read ("no feedback" walks steps_step_time).
- steps_message_step_position and steps_providertrace_step repeat the leading column of the
  unique constraints (step_id, ...), which find a step's few messages and traces as well.

The facet counts are filled here, so pages have them from the first request after upgrading
(a few seconds per million steps).
"""

from django.conf import settings
from django.db import migrations, models

TAGS_INDEX = "CREATE INDEX IF NOT EXISTS steps_step_tags ON steps_step USING gin (tags jsonb_path_ops)"
# the steps app's string-keyed tables: primary keys and foreign keys to steps, runs, agents
LIKE_INDEXES = """
    SELECT indexname FROM pg_indexes
    WHERE schemaname = current_schema() AND tablename LIKE 'steps\\_%%'
      AND indexname LIKE '%%\\_like' AND indexdef LIKE '%%varchar_pattern_ops%%'
"""


def postgresql_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(TAGS_INDEX)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(LIKE_INDEXES)
        names = [row[0] for row in cursor.fetchall()]
    for name in names:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def drop_tags_index(apps, schema_editor):
    # the *_like indexes are not put back: nothing used them
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS steps_step_tags")


def fill_facets(apps, schema_editor):
    from steps.facets import rebuild

    rebuild(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("steps", "0009_share_traces_admin_names"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="FacetCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "dimension",
                    models.CharField(
                        choices=[
                            ("agent", "agent"),
                            ("model", "model"),
                            ("provider", "provider"),
                            ("stop_reason", "stop reason"),
                            ("error_type", "error type"),
                            ("tool", "tool"),
                            ("tag", "tag in Letta"),
                            ("vote_tag", "tag set here"),
                        ],
                        max_length=16,
                    ),
                ),
                ("value", models.CharField(max_length=255)),
                ("steps", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.AddConstraint(
            model_name="facetcount",
            constraint=models.UniqueConstraint(fields=("dimension", "value"), name="steps_facetcount_unique"),
        ),
        migrations.RemoveIndex(model_name="feedbackpush", name="steps_feedbackpush_reviewer"),
        migrations.AddIndex(
            model_name="feedbackpush",
            index=models.Index(
                condition=models.Q(
                    ("created_by__isnull", False), models.Q(("source", "retry"), _negated=True)
                ),
                fields=["created_at", "created_by", "step"],
                name="steps_feedbackpush_reviews",
            ),
        ),
        migrations.RemoveIndex(model_name="step", name="steps_step_feedback_time"),
        migrations.AddIndex(
            model_name="step",
            index=models.Index(
                condition=models.Q(("feedback", ""), _negated=True),
                fields=["feedback", "-step_time", "-id"],
                name="steps_step_feedback_given",
            ),
        ),
        migrations.RemoveIndex(model_name="message", name="steps_message_step_position"),
        migrations.RemoveIndex(model_name="providertrace", name="steps_providertrace_step"),
        migrations.RunPython(postgresql_indexes, drop_tags_index),
        migrations.RunPython(fill_facets, migrations.RunPython.noop),
    ]
