"""Live queues: a step the sync brings in joins every live queue whose filter it matches, in the
sync's own transaction (a batch rolled back adds nothing). One filter query per live queue per
batch, over the batch's ids only: never a scan of the step table."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError

from ..models import Step
from ..sync.hooks import on_new_steps
from .models import Queue
from .queues import add_steps, filter_form

log = logging.getLogger(__name__)


@on_new_steps
def join_live_queues(step_ids: list[str]) -> None:
    live = Queue.objects.filter(mode=Queue.Mode.LIVE, archived_at__isnull=True, kind=Queue.Kind.SINGLE)
    for queue in live.only("pk", "query"):  # review_queue_live
        try:
            form = filter_form(queue.query)
        except ValidationError:
            log.warning("Live queue %s has a filter that no longer validates; nothing joins it", queue.pk)
            continue
        batch = form.filter(Step.objects.filter(pk__in=step_ids))
        ids = list(batch.order_by("step_time", "id").values_list("pk", flat=True))
        if ids:
            add_steps(queue, ids)
