"""Queues with reviews already given, made straight through the models (the agreement, export and
rubric tests need reviews, not the act of reviewing)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from steps.review.models import Queue, QueueItem, Review, Rubric, RubricItem
from tests.factories import StepFactory

THUMBS_AND_SCALE = [
    {"name": "verdict", "kind": "thumbs"},
    {
        "name": "accuracy",
        "kind": "scale",
        "choices": [1, 2, 3, 4, 5],
        "choice_labels": ["bad", "", "ok", "", "great"],
    },
    {"name": "topic", "kind": "categorical", "choices": ["billing", "bug", "other"]},
    {"name": "comment", "kind": "text", "required": False},
]


def make_rubric(items=THUMBS_AND_SCALE, name="Support answers", **kwargs) -> Rubric:
    rubric = Rubric.objects.create(name=name, **kwargs)
    for position, spec in enumerate(items):
        RubricItem.objects.create(rubric=rubric, position=position, **spec)
    return rubric


def make_queue(
    reviews_by_step: list[dict], *, rubric=None, k=2, kind="single", name="Triage", steps=None
) -> Queue:
    """A queue of one step per entry of `reviews_by_step`: ``{reviewer: scores}`` (a dict of item
    name to value), each turned into a Review submitted a second apart, taking 10 s per position.
    `steps`: existing steps to use in order (else new ones are made)."""
    rubric = rubric or make_rubric()
    if rubric.locked_at is None:
        rubric.locked_at = timezone.now()
        rubric.save(update_fields=["locked_at"])
    queue = Queue.objects.create(name=name, rubric=rubric, reviewers_per_item=k, kind=kind)
    start = timezone.now() - timedelta(hours=1)
    for position, reviews in enumerate(reviews_by_step):
        step = steps[position] if steps else StepFactory()
        step_b = StepFactory() if kind == "pairwise" else None
        item = QueueItem.objects.create(queue=queue, step=step, step_b=step_b, position=position)
        for offset, (reviewer, scores) in enumerate(reviews.items()):
            Review.objects.create(
                item=item,
                reviewer=reviewer,
                scores=scores,
                note=scores.pop("_note", "") if isinstance(scores, dict) else "",
                submitted_at=start + timedelta(seconds=position * 10 + offset),
                seconds=10.0 * (offset + 1),
            )
        item.reviews_count = len(reviews)
        item.save(update_fields=["reviews_count"])
    Queue.objects.filter(pk=queue.pk).update(
        items_total=len(reviews_by_step), next_position=len(reviews_by_step)
    )
    queue.refresh_from_db()
    return queue
