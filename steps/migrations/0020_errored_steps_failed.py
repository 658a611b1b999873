"""Steps that carry an error are "failed" (Step.columns_from_payload, step_status): rows stored
before that say "" (Letta's legacy null) or "pending". One set-based UPDATE, found through the
error and stop-reason indexes; their hours' rollups are recomputed at the next sweep."""

from datetime import UTC

from django.db import migrations
from django.db.models import Q
from django.db.models.functions import Trunc

FAILED_STOP_REASONS = ("error", "llm_api_error")  # as steps.models.mirrored, frozen here


def mark_errored_failed(apps, schema_editor):
    Step, DirtyHour = apps.get_model("steps", "Step"), apps.get_model("steps", "DirtyHour")
    errored = Step.objects.filter(~Q(error_type="") | Q(stop_reason__in=FAILED_STOP_REASONS)).exclude(
        status__in=("failed", "cancelled")
    )
    hours = errored.annotate(h=Trunc("step_time", "hour", tzinfo=UTC)).values_list("h", flat=True)
    DirtyHour.objects.bulk_create(
        [DirtyHour(hour=h) for h in hours.order_by().distinct()], ignore_conflicts=True
    )
    errored.update(status="failed")


class Migration(migrations.Migration):
    dependencies = [
        ("steps", "0019_step_tools"),
    ]

    operations = [
        migrations.RunPython(mark_errored_failed, migrations.RunPython.noop),
    ]
