import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

app = Celery("dashboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def schedule_periodic_tasks(sender, **kwargs):
    # The schedule lives in code, driven by settings, so beat needs no database tables.
    from django.conf import settings

    sender.add_periodic_task(
        settings.SYNC_INTERVAL_SECONDS,
        sender.signature("steps.tasks.sync_steps"),
        name="sync steps from Letta",
    )
    sweep = settings.FEEDBACK_SWEEP_SECONDS
    sender.add_periodic_task(
        sweep,
        sender.signature("steps.tasks.deliver_due_feedback", options={"expires": max(sweep, 30)}),
        name="deliver feedback left behind",
    )
    rollups = settings.ROLLUP_SWEEP_SECONDS
    sender.add_periodic_task(
        rollups,
        sender.signature("steps.tasks.update_rollups", options={"expires": max(rollups, 30)}),
        name="recompute overview rollups left dirty",
    )
