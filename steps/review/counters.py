"""A queue's counters follow its items when items go by a route the review functions do not take:
retention pruning old steps (their items go with them, by cascade) or a deletion in the admin."""

from __future__ import annotations

from django.db.models import F
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import Queue, QueueItem

# the counter each state is also counted in, besides items_total
STATE_COUNTERS = {QueueItem.State.DONE: "items_done", QueueItem.State.ADJUDICATE: "items_adjudicate"}


@receiver(post_delete, sender=QueueItem, dispatch_uid="review_item_counters")
def item_deleted(sender, instance: QueueItem, origin=None, **kwargs) -> None:
    if isinstance(origin, Queue) or getattr(origin, "model", None) is Queue:
        return  # the queue itself is going
    counters = {"items_total": F("items_total") - 1}
    # a counter already at zero (a hand edit) stays there rather than going below it
    guards = {"items_total__gt": 0}
    if column := STATE_COUNTERS.get(instance.state):
        counters[column] = F(column) - 1
        guards[f"{column}__gt"] = 0
    Queue.objects.filter(pk=instance.queue_id, **guards).update(**counters)
