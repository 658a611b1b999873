"""The step page's "In review queues" card. A template tag of the review app, so the step pages
(the mirror's app) show queues without importing them."""

from __future__ import annotations

from django import template

from ..models import QueueItem

register = template.Library()
SHOWN = 10


@register.inclusion_tag("review/_step_queues.html")
def step_queues(step) -> dict:
    # review_item_of_step: the step's items, a handful of rows
    items = list(
        QueueItem.objects.filter(step_id=step.pk, queue__archived_at__isnull=True)
        .select_related("queue")
        .order_by("-added_at")[:SHOWN]
    )
    for item in items:
        shown = [f"{name} {value}" for name, value in (item.verdict or {}).items() if len(str(value)) <= 40]
        item.summary = " · ".join(shown)
    return {"items": items}
