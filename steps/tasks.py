"""Celery entry points: short, ids and primitives in; the work lives in the packages (steps.sync,
steps.feedback, ...).

Every task is safe to run twice (a redelivered message, a sweep racing a click). Nothing imports this
module (StepsConfig.ready loads it to register the tasks): the packages enqueue by task name, so
the arrows run one way, tasks -> packages -> models.
"""

from celery import shared_task
from django.conf import settings

from . import facets, feedback, retention, taskqueue
from .alerts import evaluation, notify
from .models import FeedbackBatch
from .sync import LettaClient, prune_history, run_sync_unless_busy
from .sync import refresh_steps as refresh_steps_now


@shared_task(name="steps.tasks.sync_steps")
def sync_steps(trigger: str = "schedule") -> int | None:
    """Run one sync, unless SYNC_MAX_CONCURRENT syncs are running already: then this tick records
    nothing and returns None at once (beat's next tick comes soon). Overlapping syncs, when
    allowed, are safe: discovery is leased, step refreshes are claimed."""
    with LettaClient.from_settings() as client:
        sync_run = run_sync_unless_busy(client, trigger=trigger, max_running=settings.SYNC_MAX_CONCURRENT)
    if sync_run is None:
        return None
    prune_history()  # one indexed DELETE: the history stays bounded without a task of its own
    return sync_run.pk


@shared_task(name="steps.tasks.refresh_steps")
def refresh_steps(step_ids: list[str]) -> int:
    with LettaClient.from_settings() as client:
        return refresh_steps_now(client, step_ids).pk


@shared_task(name="steps.tasks.push_feedback")
def push_feedback(step_ids: list[str]) -> None:
    """Write these steps' newest votes to Letta; come back later for any Letta refused for now."""
    retry_in: list[float] = []
    with feedback.push_client() as client:
        for step_id in step_ids:
            if (delay := feedback.deliver(client, step_id)) is not None:
                retry_in.append(delay)
    if retry_in:
        # The sweep would find them too; this just keeps a short outage short.
        push_feedback.apply_async((step_ids,), countdown=max(1.0, min(retry_in)))


@shared_task(name="steps.tasks.deliver_due_feedback")
def deliver_due_feedback() -> int:
    """Periodic safety net: pushes and bulk actions left behind by a killed worker or a message
    that was lost or never queued (the broker was down)."""
    for batch_id in feedback.unfinished_batch_ids():
        taskqueue.send("steps.tasks.apply_bulk_feedback", batch_id)
    step_ids = feedback.due_step_ids()
    with feedback.push_client() as client:
        for step_id in step_ids:
            feedback.deliver(client, step_id)
    return len(step_ids)


@shared_task(name="steps.tasks.apply_bulk_feedback")
def apply_bulk_feedback(batch_id: int) -> None:
    if batch := FeedbackBatch.objects.filter(pk=batch_id).first():  # deleted in the admin meanwhile
        feedback.apply_bulk(batch)


@shared_task(name="steps.tasks.rebuild_facets")
def rebuild_facets() -> int:
    """Periodic recount of the facet counts: repairs whatever drift the incremental counts got."""
    return facets.rebuild()


@shared_task(name="steps.tasks.prune_old_steps")
def prune_old_steps() -> int:
    """Daily retention (RETENTION_DAYS); safe alongside a sync or a second prune (SKIP LOCKED)."""
    if settings.RETENTION_DAYS < 1:
        return 0
    return retention.prune_steps(settings.RETENTION_DAYS, batch_size=settings.RETENTION_BATCH_SIZE).steps


@shared_task(name="steps.tasks.update_rollups")
def update_rollups() -> int:
    """Periodic safety net: recompute hours marked dirty that no sync batch or vote flushed
    (an archived step, a worker killed between its write and its flush)."""
    from .overview.rollup import flush

    return flush()


@shared_task(name="steps.tasks.evaluate_alerts")
def evaluate_alerts() -> int:
    """Beat's alert tick: every enabled alert from the rollups; how many changed state."""
    return evaluation.evaluate_all()


@shared_task(name="steps.tasks.deliver_notification")
def deliver_notification(notification_id: int) -> None:
    """Send one notification (claimed: safe to run twice); come back after the backoff on failure."""
    if (retry_in := notify.deliver(notification_id)) is not None:
        deliver_notification.apply_async((notification_id,), countdown=retry_in)


@shared_task(name="steps.tasks.deliver_due_notifications")
def deliver_due_notifications() -> int:
    """Periodic safety net: notifications whose message was lost or whose worker died."""
    ids = notify.due_ids()
    for notification_id in ids:
        notify.deliver(notification_id)
    return len(ids)
