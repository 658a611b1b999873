"""What the review pages show, gathered in a fixed number of queries per page: the item's step
(or pair) with its conversation, the rubric as a form, and where the reviewer stands."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from ..models import Agent, Message, Step
from ..pages import compare
from ..pages.timeline import timeline
from .forms import rubric_fields
from .models import Queue, QueueItem, Review, RubricItem

ADJUDICATE_PAGE = 25


@dataclass
class Shown:
    """One step as the review page shows it (the step page's partials read these names)."""

    step: Step
    entries: list
    error: dict | None
    agent_name: str = ""


def _shown(steps: list[Step]) -> list[Shown]:
    ids = [s.pk for s in steps]
    messages: dict[str, list] = {i: [] for i in ids}
    rows = Message.objects.filter(step_id__in=ids).order_by("step_id", "position")
    for row in rows.only("payload", "date", "step_id", "position"):
        messages[row.step_id].append(row)
    names = Agent.objects.names([s.agent_id for s in steps if s.agent_id])
    return [
        Shown(s, timeline(messages[s.pk]), s.error_data, getattr(names.get(s.agent_id), "name", "") or "")
        for s in steps
    ]


def rubric_items(queue: Queue) -> list[RubricItem]:
    return list(queue.rubric.items.order_by("position", "pk"))


def mine_done(queue: Queue, user) -> int:
    return Review.objects.filter(item__queue=queue, reviewer=user).count()


def item_context(queue: Queue, item: QueueItem, user, *, values: dict | None = None, note: str = "") -> dict:
    """The review form for `item`: its step (or A and B), the rubric, and how far the reviewer is."""
    pairwise = queue.kind == Queue.Kind.PAIRWISE and item.step_b_id is not None
    steps = Step.objects.select_related("metrics").in_bulk(
        [item.step_id, item.step_b_id] if pairwise else [item.step_id]
    )
    shown = _shown([steps[item.step_id]] + ([steps[item.step_b_id]] if pairwise else []))
    items = rubric_items(queue)
    context = {
        "queue": queue,
        "item": item,
        "pairwise": pairwise,
        "shown": shown,
        "step": shown[0].step,
        "fields": rubric_fields(items, pairwise=pairwise, values=values),
        "note": note,
        "shown_at": timezone.now().isoformat(),
        "done_by_me": mine_done(queue, user),
        "can_undo": Review.objects.filter(
            item__queue=queue, reviewer=user, item__state=QueueItem.State.WAITING
        ).exists(),
    }
    if pairwise:
        pair = compare.load_pair(item.step_id, item.step_b_id)
        context["c"] = compare.compare_steps(*pair) if pair else None
    return context


def _undoable(queue: Queue, user) -> bool:
    """Whether u can take back the reviewer's last review here: its step is not decided yet."""
    last = (
        Review.objects.filter(item__queue=queue, reviewer=user)
        .order_by("-submitted_at", "-pk")
        .values_list("item__state", flat=True)
        .first()
    )
    return last == QueueItem.State.WAITING


def previous_in_run(step: Step) -> Step | None:
    """The step before `step` in its run (the run's own order), for the `d` diff."""
    if not step.run_id:
        return None
    base = Step.objects.filter(run_id=step.run_id).only("id", "run_position", "step_time")
    if step.run_position is not None:
        return base.filter(run_position__lt=step.run_position).order_by("-run_position", "-id").first()
    earlier = Q(step_time__lt=step.step_time) | Q(step_time=step.step_time, id__lt=step.pk)
    return base.filter(earlier).order_by("-step_time", "-id").first()


def diff_context(a: Step, b: Step) -> dict | None:
    pair = compare.load_pair(a.pk, b.pk)
    if pair is None:
        return None
    return {"c": compare.compare_steps(*pair), "hide_unchanged": True, "view": "structural"}


def adjudication_items(queue: Queue) -> list[QueueItem]:
    """The first page of items waiting for a manager, each with its reviews (three queries)."""
    items = list(
        queue.items.filter(state=QueueItem.State.ADJUDICATE)
        .order_by("position")
        .select_related("step")[:ADJUDICATE_PAGE]
    )
    reviews: dict[int, list[Review]] = {i.pk: [] for i in items}
    for review in Review.objects.filter(item__in=items).select_related("reviewer").order_by("submitted_at"):
        reviews[review.item_id].append(review)
    for item in items:
        item.review_list = reviews[item.pk]
    return items
