"""Adjudication: the items whose reviewers tied, their reviews side by side, and a manager's verdict.
Anyone may read the list (a reviewer sees why a step is stuck); only managers decide."""

from __future__ import annotations

from django.core.exceptions import BadRequest, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from ...access.decorators import manager_required
from ...access.roles import can_manage
from ...pages.timeline import previews
from .. import verdict as verdicts
from ..forms import error_text, rubric_fields, scores_from_post
from ..models import Queue, QueueItem
from ..pages import adjudication_items, rubric_items


def _queue(queue_id: int) -> Queue:
    return get_object_or_404(Queue.objects.select_related("rubric"), pk=queue_id)


def _majority(reviews, items) -> dict:
    """Each item's most common answer among the reviews, to preselect (a tie preselects nothing)."""
    chosen = {}
    for item in items:
        counts: dict = {}
        for review in reviews:
            if item.name in review.scores:
                value = review.scores[item.name]
                counts[repr(value)] = (counts.get(repr(value), (0, value))[0] + 1, value)
        ranked = sorted(counts.values(), key=lambda c: -c[0])
        if ranked and (len(ranked) == 1 or ranked[0][0] > ranked[1][0]):
            chosen[item.name] = ranked[0][1]
    return chosen


def _cards(queue: Queue, items: list[QueueItem]) -> list[dict]:
    rubric = rubric_items(queue)
    pairwise = queue.kind == Queue.Kind.PAIRWISE
    shown = previews([i.step_id for i in items])
    cards = []
    for item in items:
        reviews = item.review_list
        fields = rubric_fields(rubric, pairwise=pairwise, values=_majority(reviews, rubric))
        rows = [(f, [_answer(r.scores.get(f.item.name, None)) for r in reviews]) for f in fields]
        cards.append(
            {"item": item, "reviews": reviews, "fields": fields, "rows": rows, "preview": shown[item.step_id]}
        )
    return cards


ANSWER_WORDS = {"positive": "good", "negative": "bad", "a": "A", "b": "B", "tie": "tie"}


def _answer(value) -> tuple[str, str]:
    """(what the table shows, a class naming the answer) for one reviewer's value."""
    if value is None:
        return "—", "none"
    if isinstance(value, bool):  # before the words: True == 1 would find a scale's point
        return ("yes", "true") if value else ("no", "false")
    if isinstance(value, str) and value in ANSWER_WORDS:
        return ANSWER_WORDS[value], value
    return str(value), "value"


@require_GET
def adjudicate_list(request: HttpRequest, queue_id: int) -> HttpResponse:
    queue = _queue(queue_id)
    items = adjudication_items(queue)
    context = {
        "queue": queue,
        "cards": _cards(queue, items),
        "rubric": rubric_items(queue),
        "can_manage": can_manage(request.user),
    }
    return render(request, "review/adjudicate.html", context)


@manager_required
@require_POST
def adjudicate_item(request: HttpRequest, queue_id: int, item_id: int) -> HttpResponse:
    queue = _queue(queue_id)
    item = get_object_or_404(QueueItem.objects.select_related("step"), pk=item_id, queue=queue)
    if item.state != QueueItem.State.ADJUDICATE:
        raise BadRequest("This step is not waiting for a decision (someone may have decided it already).")
    decided = scores_from_post(rubric_items(queue), request.POST)
    try:
        verdicts.adjudicate(item, request.user, decided)
    except ValidationError as error:
        raise BadRequest(error_text(error)) from error
    if not request.htmx:
        return redirect("review:queue_adjudicate", queue_id=queue.pk)
    item.refresh_from_db()
    return render(request, "review/adjudicate.html#decided", {"queue": queue, "item": item})
