"""A queue's agreement page and the list of steps its reviewers disagree on. Read-only: every
signed-in role may look (viewers read everything)."""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from .. import figures
from ..models import Queue

DISAGREEMENTS_PER_PAGE = 25
# Krippendorff's own guidance: conclusions only from alpha >= .800, tentative ones from >= .667
RELIABLE, TENTATIVE = 0.8, 0.667


def _queue(queue_id: int) -> Queue:
    return get_object_or_404(Queue.objects.select_related("rubric"), pk=queue_id)


@require_GET
def queue_agreement(request: HttpRequest, queue_id: int) -> HttpResponse:
    queue = _queue(queue_id)
    data = figures.read_reviews(queue)
    report = figures.agreement_report(queue, data)
    descriptions = {item.name: item.description for item in data.rubric_items}
    items = [
        {"name": name, "description": descriptions.get(name, ""), "grade": _grade(f["alpha"]), **f}
        for name, f in report["items"].items()
    ]
    context = {
        "queue": queue,
        "report": report,
        "items": items,
        "matrix": figures.reviewer_matrix(report),
        "any_disagreements": any(item["disagreements"] for item in items),
        "text_items": [i.name for i in data.rubric_items if i.name not in report["items"]],
    }
    return render(request, "review/queue_agreement.html", context)


@require_GET
def queue_disagreements(request: HttpRequest, queue_id: int) -> HttpResponse:
    queue = _queue(queue_id)
    data = figures.read_reviews(queue)
    compared = [item.name for item, _ in data.compared(queue.kind == Queue.Kind.PAIRWISE)]
    item_name = request.GET.get("item") or None
    if item_name is not None and item_name not in compared:
        shown = item_name[:64]
        raise BadRequest(
            f"This queue's rubric has no compared item “{shown}”: pick one of {', '.join(compared)}."
        )
    ids = figures.disagreement_ids(queue, item_name, data)
    page = Paginator(ids, DISAGREEMENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "queue": queue,
        "item_name": item_name,
        "compared": compared,
        "page": page,
        "total": len(ids),
        "rows": figures.disagreement_rows(queue, list(page.object_list)),
    }
    return render(request, "review/queue_disagreements.html", context)


def _grade(alpha: float | None) -> str:
    if alpha is None:
        return "undefined"
    return "reliable" if alpha >= RELIABLE else "tentative" if alpha >= TENTATIVE else "unreliable"
