import django.db.models.deletion
from django.db import migrations, models

# Existing databases: one set-based INSERT from the messages (the tool filter's old source),
# before the index is built, so it is built once rather than row by row.
BACKFILL = """
INSERT INTO steps_steptool (step_id, tool_name, step_time)
SELECT DISTINCT m.step_id, m.tool_name, s.step_time
FROM steps_message m JOIN steps_step s ON s.id = m.step_id
WHERE m.tool_name <> ''
"""


class Migration(migrations.Migration):
    dependencies = [
        ("steps", "0018_step_gone_upstream"),
    ]

    operations = [
        migrations.CreateModel(
            name="StepTool",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "step", "tool_name", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("tool_name", models.CharField(max_length=255)),
                (
                    "step_time",
                    models.DateTimeField(help_text="The step's step_time, copied for the index's order."),
                ),
                (
                    "step",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tool_calls",
                        to="steps.step",
                    ),
                ),
            ],
        ),
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="steptool",
            index=models.Index(fields=["tool_name", "-step_time", "-step"], name="steps_steptool_time"),
        ),
    ]
