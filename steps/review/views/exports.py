"""A queue's downloads: every reviewer's scores with the verdicts (CSV, JSONL), and fine-tuning
JSONL of the steps whose verdict passes a condition. Read-only, so open to every role."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from ..export import ExportError, finetune_export, item_specs, parse_condition, reviews_export
from ..models import Queue


@require_GET
def queue_export(request: HttpRequest, queue_id: int) -> HttpResponse:
    queue = get_object_or_404(Queue.objects.select_related("rubric"), pk=queue_id)
    fmt = request.GET.get("format")
    condition = request.GET.get("condition", "")
    try:
        if fmt == "finetune":
            return finetune_export(queue, condition)
        if fmt is not None:
            return reviews_export(queue, fmt, bom=request.GET.get("bom") != "0")
    except ExportError as error:
        return _page(request, queue, condition, str(error), status=400)
    return _page(request, queue, condition)


def _page(
    request: HttpRequest, queue: Queue, condition: str, problem: str = "", status: int = 200
) -> HttpResponse:
    specs = item_specs(queue)
    context = {
        "queue": queue,
        "condition": condition[:500],
        "problem": problem,
        "items": [s for s in specs if s.kind != "text"],
        "example": _example(specs),
        "pairwise": queue.kind == Queue.Kind.PAIRWISE,
    }
    if condition and not problem and queue.kind != Queue.Kind.PAIRWISE:
        try:
            parse_condition(queue, condition)
        except ExportError as error:
            context["problem"] = str(error)
    return render(request, "review/queue_export.html", context, status=status)


def _example(specs) -> str:
    """A condition this rubric accepts, for the placeholder: "verdict = positive, accuracy >= 4"."""
    parts = []
    for spec in specs:
        if spec.kind == "thumbs":
            parts.append(f"{spec.name} = positive")
        elif spec.kind == "scale" and spec.choices:
            parts.append(f"{spec.name} >= {spec.choices[len(spec.choices) * 2 // 3]}")
        elif spec.kind == "categorical" and spec.choices:
            parts.append(f"{spec.name} = {spec.choices[0]}")
    return ", ".join(parts[:2])
