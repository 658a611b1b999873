import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

app = Celery("dashboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def schedule_periodic_tasks(sender, **kwargs):
    # The schedule lives in code, driven by settings, so beat needs no database tables.
    from django.conf import settings

    interval = settings.SYNC_INTERVAL_SECONDS
    sender.add_periodic_task(
        interval,
        # A tick not taken within about an interval is dropped (the next one is there), so ticks
        # cannot pile up behind a long sync; one taken while a sync runs returns at once
        # (SYNC_MAX_CONCURRENT, steps/tasks.py). Routed to the "sync" queue (settings).
        sender.signature("steps.tasks.sync_steps", options={"expires": max(interval, 1)}),
        name="sync steps from Letta",
    )
    sweep = settings.FEEDBACK_SWEEP_SECONDS
    sender.add_periodic_task(
        sweep,
        sender.signature("steps.tasks.deliver_due_feedback", options={"expires": max(sweep, 30)}),
        name="deliver feedback left behind",
    )
    rebuild = settings.FACETS_REBUILD_SECONDS
    sender.add_periodic_task(
        rebuild,
        sender.signature("steps.tasks.rebuild_facets", options={"expires": rebuild}),
        name="recount the list's facets",
    )
    if settings.RETENTION_DAYS > 0:
        # daily at 03:17 UTC (Celery beat keeps UTC)
        sender.add_periodic_task(
            crontab(hour=3, minute=17),
            sender.signature("steps.tasks.prune_old_steps", options={"expires": 6 * 3600}),
            name=f"prune steps older than {settings.RETENTION_DAYS} days",
        )
    rollups = settings.ROLLUP_SWEEP_SECONDS
    sender.add_periodic_task(
        rollups,
        sender.signature("steps.tasks.update_rollups", options={"expires": max(rollups, 30)}),
        name="recompute overview rollups left dirty",
    )
    alerts = settings.ALERT_EVALUATE_SECONDS
    sender.add_periodic_task(
        alerts,
        sender.signature("steps.tasks.evaluate_alerts", options={"expires": max(alerts, 30)}),
        name="evaluate alerts",
    )
    notify = settings.NOTIFY_SWEEP_SECONDS
    sender.add_periodic_task(
        notify,
        sender.signature("steps.tasks.deliver_due_notifications", options={"expires": max(notify, 30)}),
        name="deliver notifications left behind",
    )
