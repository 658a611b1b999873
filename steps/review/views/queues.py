"""Queues: the list, "Send to queue…" from the step list, a queue's progress and its settings."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from ...access.roles import MANAGER_REFUSED, RoleRequired, can_manage, can_review
from ...filters import StepFilterForm
from ...ids import is_letta_id
from ...models import Step
from ...pages.list_count import list_count
from .. import progress, queues, reserve, rubrics
from ..forms import QUICK_THUMBS, QueueCreateForm, QueueSettingsForm
from ..models import Queue

MAX_QUEUES_LISTED = 200
# what the settings form changes, through queues.update_queue (a lower k resolves what it completes)
SETTINGS = ("name", "instructions", "reviewers_per_item", "access", "assigned", "reservation_minutes")
SETTINGS += ("tag_items", "write_feedback")
PAIRS_FROM_FILTERS = 500


def _queue(queue_id: int) -> Queue:
    return get_object_or_404(Queue.objects.select_related("rubric", "created_by"), pk=queue_id)


def _managers_only(request: HttpRequest) -> None:
    # Checked on GET as well: the form is of no use to someone who may not send it.
    if not can_manage(request.user):
        raise RoleRequired(MANAGER_REFUSED)


@require_GET
def queue_list(request: HttpRequest) -> HttpResponse:
    shown = Queue.objects.filter(archived_at__isnull=True).select_related("rubric")[:MAX_QUEUES_LISTED]
    # reserve.can_work's rule, with the user's assignments read once rather than once per queue
    mine = set(Queue.assigned.through.objects.filter(user=request.user).values_list("queue_id", flat=True))
    reviewer = can_review(request.user)
    rows = [(q, reviewer and (q.access == Queue.Access.ANY or q.pk in mine)) for q in shown]
    return render(request, "review/queue_list.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
def queue_new(request: HttpRequest) -> HttpResponse:
    """GET ?query=<the list's filter>; POST with stage=select from the list's selection shows the
    form for those rows; POST without it creates the queue."""
    _managers_only(request)
    if request.method == "GET" or request.POST.get("stage") == "select":
        source = request.GET if request.method == "GET" else request.POST
        ids = [i for i in source.getlist("step_ids") if is_letta_id("step", i)]
        initial = {"query": source.get("query", "")[:4000], "step_ids": ids[:10_000]}
        if len(ids) == 2:
            initial["pair_source"] = "selection"
        form = QueueCreateForm(initial=initial)
        return _create_page(request, form, initial["query"], initial["step_ids"])
    form = QueueCreateForm(request.POST)
    if form.is_valid():
        try:
            queue = _create(form, request.user)
        except ValidationError as error:
            _errors_onto(form, error)
        else:
            return redirect("review:queue_detail", queue_id=queue.pk)
    query = form.cleaned_data.get("query", "") if hasattr(form, "cleaned_data") else ""
    return _create_page(request, form, query, form.cleaned_data.get("step_ids", []), status=400)


def _create_page(request, form: QueueCreateForm, query: str, step_ids: list[str], status: int = 200):
    filter_form = StepFilterForm(QueryDict(query))
    count = None
    if not step_ids:
        ordered = filter_form.filter(Step.objects.for_list()).ordered(filter_form.sort_order())
        count = list_count(filter_form, ordered, shown=0, has_more=True, first_page=False)
    context = {
        "form": form,
        "filter_form": filter_form,
        "query": query,
        "selected": len(step_ids),
        "count": count,
        "quick_thumbs": QUICK_THUMBS,
    }
    return render(request, "review/queue_form.html", context, status=status)


@transaction.atomic
def _create(form: QueueCreateForm, user) -> Queue:
    data = form.cleaned_data
    rubric = form.chosen_rubric()
    if rubric is None:
        rubric = rubrics.rubric_from_items(
            [{"name": "verdict", "kind": "thumbs"}], name=f"{data['name']} · thumbs", created_by=user
        )
    pairwise = data["kind"] == Queue.Kind.PAIRWISE
    ids = list(Step.objects.filter(pk__in=data["step_ids"]).values_list("pk", flat=True))
    known = set(ids)
    ids = [i for i in data["step_ids"] if i in known]  # in the order they were selected
    pairs = None
    if pairwise:
        source = data["pair_source"]
        if source == "selection":
            if len(ids) != 2:
                raise ValidationError("One of the two selected steps is no longer here.")
            pairs = [
                tuple(
                    Step.objects.filter(pk__in=ids).order_by("step_time", "id").values_list("pk", flat=True)
                )
            ]
        elif source == "runs":
            pairs = queues.pairs_from_runs(data["run_a"], data["run_b"])
        else:
            pairs = queues.pairs_matched_on_user_input(data["query"], data["query_b"], PAIRS_FROM_FILTERS)
        if not pairs:
            raise ValidationError("No pairs came out of that: nothing to compare.")
    return queues.create_queue(
        name=data["name"],
        query=data["query"],
        mode=data["mode"],
        rubric=rubric,
        reviewers_per_item=data["reviewers_per_item"],
        reservation_minutes=data["reservation_minutes"],
        created_by=user,
        kind=data["kind"],
        access=data["access"],
        assigned=data["assigned"],
        instructions=data["instructions"],
        tag_items=data["tag_items"],
        write_feedback=data["write_feedback"],
        step_ids=None if pairwise or not ids else ids,
        pairs=pairs,
    )


@require_GET
def queue_detail(request: HttpRequest, queue_id: int) -> HttpResponse:
    queue = _queue(queue_id)
    context = {
        "queue": queue,
        "p": _progress(queue, request.user),
        "can_work": reserve.can_work(queue, request.user),
        "can_manage": can_manage(request.user),
        "items": list(queue.rubric.items.order_by("position", "pk")),
        "assigned": list(queue.assigned.order_by("username"))
        if queue.access == Queue.Access.ASSIGNED
        else [],
    }
    return render(request, "review/queue_detail.html", context)


def _progress(queue: Queue, user) -> dict:
    figures = progress.queue_progress(queue)
    figures["mine"] = next((r["done"] for r in figures["reviewers"] if r["id"] == user.pk), 0)
    return figures


@require_http_methods(["GET", "POST"])
def queue_edit(request: HttpRequest, queue_id: int) -> HttpResponse:
    _managers_only(request)
    queue = _queue(queue_id)
    if request.method == "POST" and request.POST.get("archive") in ("1", "0"):
        queue = queues.update_queue(queue, archived=request.POST["archive"] == "1")
        if queue.archived_at:
            return redirect("review:queue_list")
        return redirect("review:queue_detail", queue_id=queue.pk)
    initial = {
        "name": queue.name,
        "instructions": queue.instructions,
        "reviewers_per_item": queue.reviewers_per_item,
        "access": queue.access,
        "assigned": [str(pk) for pk in queue.assigned.values_list("pk", flat=True)],
        "reservation_minutes": queue.reservation_minutes,
        "tag_items": ", ".join(queue.tag_items or []),
        "write_feedback": queue.write_feedback,
    }
    form = QueueSettingsForm(
        request.POST if request.method == "POST" else None, initial=initial, rubric=queue.rubric
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["access"] != Queue.Access.ASSIGNED:
            data["assigned"] = []
        try:
            queues.update_queue(queue, **{name: data[name] for name in SETTINGS})
        except ValidationError as error:
            _errors_onto(form, error)
        else:
            return redirect("review:queue_detail", queue_id=queue.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "review/queue_edit.html", {"queue": queue, "form": form}, status=status)


def _errors_onto(form, error: ValidationError) -> None:
    """The core's refusal beside the field it names (the whole form's when it names none here)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages in error.message_dict.items():
        form.add_error(name if name in form.fields else None, messages)
