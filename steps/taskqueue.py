"""Sending Celery tasks, by the name they are registered under, without letting a broker outage
undo or hide what was saved.

Whatever a task is sent for is in the database first, with a sweep behind it: a FeedbackPush (the
feedback sweep), a FeedbackBatch (the same sweep), hours marked dirty (the rollup sweep), the next
beat tick for the sync. A message that cannot be sent only delays that work. So a failed send is
logged, never raised: a vote that was committed answers "saved", because it is, and a reviewer
who clicked again would have toggled it off.

By name, never imported: steps/tasks.py imports the packages that send these, so an import back
would close a circle. The name finds the same task object, eager mode included.
"""

from __future__ import annotations

import logging
from functools import partial

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)


def send(task_name: str, *args, **options) -> bool:
    """Queue a task now; False (logged) when the broker cannot take it within the publish retry
    policy (CELERY_TASK_PUBLISH_RETRY_POLICY), so a request never waits long on a dead broker."""
    try:
        current_app.tasks[task_name].apply_async(args, **options)
    except OperationalError as exc:  # kombu's word for "the broker is unreachable"
        log.warning("Could not queue %s (%s): a sweep will do the work later.", task_name, exc)
        return False
    return True


def send_on_commit(task_name: str, *args, **options) -> None:
    """Queue a task once the current transaction commits (a worker must not read before it).
    robust: whatever else goes wrong in sending is logged too, after the commit it cannot undo."""
    transaction.on_commit(partial(send, task_name, *args, **options), robust=True)


# A commit this close to a pending task's run might miss it: that one sends a task of its own.
_PENDING_MARGIN_SECONDS = 0.5


def send_once_within(task_name: str, seconds: float) -> None:
    """Once the current transaction commits, queue the task with a countdown of `seconds`,
    unless this process has one queued that runs more than half a second later: that run will
    see what was just committed. For a task that takes all the work marked so far (a rollup
    flush): votes at any rate then cost at most one run per `seconds` per process, not one each.
    The pending mark is a key in Django's default cache (this process's memory) that expires
    half a second before the task runs. Eager mode (tests) runs each task at once: nothing is
    ever pending there."""
    transaction.on_commit(partial(_send_unless_pending, task_name, seconds), robust=True)


def _send_unless_pending(task_name: str, seconds: float) -> None:
    mark = f"task-pending:{task_name}"
    if not settings.CELERY_TASK_ALWAYS_EAGER and not cache.add(mark, True, seconds - _PENDING_MARGIN_SECONDS):
        return
    if not send(task_name, countdown=seconds):
        cache.delete(mark)  # nothing is pending: the next commit tries again
