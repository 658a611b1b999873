"""Reviewing a queue one item at a time. Enter submits through htmx and the answer is the next
item's form, reserved in the same request: one round trip from one step to the next."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages
from django.core.exceptions import BadRequest, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from ...access.decorators import reviewer_required
from ...access.roles import VIEWER_REFUSED, RoleRequired, can_review
from .. import reserve
from .. import submit as submitting
from ..forms import error_text, scores_from_post
from ..models import Queue, QueueItem, Review
from ..pages import diff_context, item_context, previous_in_run, rubric_items

MAX_NOTE = 20_000
ASSIGNED_REFUSED = "This queue is worked by the reviewers assigned to it."


def _queue(queue_id: int) -> Queue:
    return get_object_or_404(Queue.objects.select_related("rubric"), pk=queue_id)


def _item(queue: Queue, item_id: int) -> QueueItem:
    return get_object_or_404(QueueItem, pk=item_id, queue=queue)


def _may_work(request: HttpRequest, queue: Queue) -> None:
    if not reserve.can_work(queue, request.user):
        raise RoleRequired(VIEWER_REFUSED if not can_review(request.user) else ASSIGNED_REFUSED)


def _work(request: HttpRequest, queue: Queue, item: QueueItem | None, **form_state) -> HttpResponse:
    """The review form for `item` (or the end of the queue): the fragment for htmx, else the page."""
    if item is None:
        context = {"queue": queue, "item": None, "counts": _left(queue, request.user)}
    else:
        context = item_context(queue, item, request.user, **form_state)
    template = "review/review.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#work"
    return render(request, template, context)


def _left(queue: Queue, user) -> dict:
    """Why nothing is left for this reviewer: done, or held by others for now (bounded by the queue)."""
    now = timezone.now()
    waiting = queue.items.filter(state=QueueItem.State.WAITING)
    return {
        "in_review": waiting.filter(reserved_until__gt=now).exclude(reserved_by=user).count(),
        "waiting": waiting.count(),
    }


@require_GET
def review(request: HttpRequest, queue_id: int) -> HttpResponse:
    """The reviewer's current item: the one they hold, else the first they have not reviewed."""
    queue = _queue(queue_id)
    if not reserve.can_work(queue, request.user):
        # a viewer (or someone not assigned) reads the queue page instead, told why
        reason = VIEWER_REFUSED if not can_review(request.user) else ASSIGNED_REFUSED
        return render(request, "review/review.html", {"queue": queue, "refused": reason}, status=403)
    return _work(request, queue, reserve.next_item(queue, request.user))


def _started_at(raw: str) -> datetime | None:
    """When the form was shown (the page says so in a hidden field), for seconds per item; a
    value that is no time, or not within the last day, is ignored rather than refused."""
    try:
        value = datetime.fromisoformat(raw[:40])
    except ValueError:
        return None
    now = timezone.now()
    if timezone.is_naive(value) or not now - timedelta(days=1) <= value <= now:
        return None
    return value


@reviewer_required
@require_POST
def submit(request: HttpRequest, queue_id: int, item_id: int) -> HttpResponse:
    queue = _queue(queue_id)
    _may_work(request, queue)
    item = _item(queue, item_id)
    scores = scores_from_post(rubric_items(queue), request.POST)
    note = request.POST.get("note", "")
    if len(note) > MAX_NOTE:
        raise BadRequest(f"The note is too long ({MAX_NOTE:,} characters at most).")
    started_at = _started_at(request.POST.get("shown_at", ""))
    try:
        submitting.submit_review(item, request.user, scores, note=note.strip(), started_at=started_at)
    except ValidationError as error:
        raise BadRequest(error_text(error)) from error
    except submitting.NotReviewable as refusal:
        # taken meanwhile (a reservation that ran out, a second tab): say so, and go on
        return _onwards(request, queue, str(refusal))
    return _onwards(request, queue)


def _onwards(request: HttpRequest, queue: Queue, notice: str = "") -> HttpResponse:
    """The reviewer's next item after a submit or a skip (a page without htmx)."""
    if not request.htmx:
        if notice:
            messages.warning(request, notice)
        return redirect("review:queue_review", queue_id=queue.pk)
    response = _work(request, queue, reserve.next_item(queue, request.user))
    if notice:
        trigger_client_event(response, "reviewNotice", {"message": notice})
    return response


@reviewer_required
@require_POST
def skip(request: HttpRequest, queue_id: int, item_id: int) -> HttpResponse:
    queue = _queue(queue_id)
    _may_work(request, queue)
    item = _item(queue, item_id)
    submitting.skip(item, request.user)
    return _onwards(request, queue)


@reviewer_required
@require_POST
def undo(request: HttpRequest, queue_id: int) -> HttpResponse:
    """Reopen the reviewer's last review here, with its answers filled in again."""
    queue = _queue(queue_id)
    _may_work(request, queue)
    last = Review.objects.filter(item__queue=queue, reviewer=request.user).order_by("-submitted_at").first()
    try:
        item = submitting.undo_last(queue, request.user)
    except ValidationError as error:
        raise BadRequest(error_text(error)) from error
    if item is None:
        raise BadRequest("Nothing to undo in this queue.")
    values, note = ({}, "")
    if last is not None and last.item_id == item.pk:
        values, note = last.scores, last.note
    if not request.htmx:
        return redirect("review:queue_review", queue_id=queue.pk)
    return _work(request, queue, item, values=values, note=note)


@require_GET
def diff(request: HttpRequest, queue_id: int, item_id: int) -> HttpResponse:
    """The item's step against the step before it in its run (key d), as a fragment."""
    queue = _queue(queue_id)
    item = get_object_or_404(QueueItem.objects.select_related("step"), pk=item_id, queue=queue)
    previous = previous_in_run(item.step)
    context = {"queue": queue, "item": item, "previous": previous}
    if previous is not None:
        found = diff_context(previous, item.step)
        if found is None:
            raise Http404("No such step")
        context.update(found)
    return render(request, "review/_diff.html", context)
