"""Review actions: votes, tags, notes, bulk rating, the review queue. Thin views over
steps/feedback/, which owns the outbox; every POST answers with the fragment it changed, and
needs the reviewer role (viewers get a 403 saying so)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import feedback
from ..access.decorators import reviewer_required
from ..feedback import vote_state, vote_states
from ..filters import StepFilterForm, known_tags
from ..ids import is_letta_id
from ..models import FeedbackBatch, Step, StepVote
from ..models.feedback import FEEDBACK_VALUES
from ..querysets import SORTS

# what a bulk bar button does: action -> start_bulk keyword arguments (tag actions add the tag)
BULK_ACTIONS = {
    "positive": {"feedback": "positive"},
    "negative": {"feedback": "negative"},
    "clear": {"feedback": ""},
    "add_tag": {},
    "remove_tag": {},
}
MAX_SELECTED = 5000
MAX_SHOWN = 100  # rows of the list page a bulk action redraws (a page, and live rows above it)
MAX_TAGS = 50
MAX_QUERY_CHARS = 4000
PLACEHOLDER = "step-00000000-0000-4000-8000-000000000000"  # reversed once, replaced by each id


def _step(step_id: str) -> Step:
    return get_object_or_404(Step.objects.for_list(), pk=step_id)


def _vote_response(request: HttpRequest, step: Step) -> HttpResponse:
    """The vote widget for htmx; without JavaScript, back to where the form was."""
    if not request.htmx:
        return _back(request, step)
    if request.method == "POST":
        step = _step(step.pk)  # as the push left it (delivered at once: Letta's tags, or gone)
    if request.POST.get("compact", request.GET.get("compact")) == "1":
        # a list row's widget, the same partial the list renders
        context = {"vs": vote_state(step), "vote_url": reverse("step_vote", args=[step.pk])}
        return render(request, "steps/step_list.html#vote-compact", context)
    return render(request, "steps/_vote.html", {"vs": vote_state(step)})


def _back(request: HttpRequest, step: Step) -> HttpResponse:
    target = request.META.get("HTTP_REFERER", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("step_detail", step_id=step.pk)


@reviewer_required
@require_http_methods(["GET", "POST"])
def vote(request: HttpRequest, step_id: str) -> HttpResponse:
    """GET: the widget (polled while a push is open). POST value=positive|negative toggles it,
    as one click should; with set=1 (the keyboard) it sets the value, "" clearing it."""
    step = _step(step_id)
    if request.method == "POST":
        value = request.POST.get("value", "")
        setting = request.POST.get("set") == "1"
        if value not in FEEDBACK_VALUES and not (setting and value == ""):
            raise BadRequest("Unknown vote: use positive or negative.")
        if setting:
            feedback.cast_vote(step, user=request.user, feedback=value, source="key")
        else:
            feedback.toggle_vote(step, user=request.user, value=value)
    return _vote_response(request, step)


@reviewer_required
@require_POST
def vote_retry(request: HttpRequest, step_id: str) -> HttpResponse:
    step = _step(step_id)
    feedback.retry(step, user=request.user)
    return _vote_response(request, step)


@reviewer_required
@require_POST
def vote_resolve(request: HttpRequest, step_id: str) -> HttpResponse:
    step = _step(step_id)
    keep = request.POST.get("keep", "")
    if keep not in ("mine", "theirs"):
        raise BadRequest("Choose keep=mine or keep=theirs.")
    if not StepVote.objects.filter(step=step, conflict_seen_at__isnull=False).exists():
        raise BadRequest("This step has no conflict to resolve.")
    feedback.resolve_conflict(step, user=request.user, keep=keep)
    return _vote_response(request, step)


@reviewer_required
@require_POST
def tags_update(request: HttpRequest, step_id: str) -> HttpResponse:
    """add=<comma separated> and/or remove=<tag>; the full new list goes to Letta."""
    step = _step(step_id)
    current = vote_state(step).tags
    added = [t for t in request.POST.get("add", "").split(",") if t.strip()]
    removed = request.POST.getlist("remove")
    if not added and not removed:
        raise BadRequest("Nothing to change: give add= or remove=.")
    if len(added) > MAX_TAGS:
        raise BadRequest(f"Too many tags at once ({MAX_TAGS} at most).")
    new = feedback.clean_tags([t for t in current if t not in removed] + added)
    if new != current:
        feedback.cast_vote(step, user=request.user, tags=new, source="tags")
    if not request.htmx:
        return _back(request, step)
    return render(request, "steps/step_detail.html#review-card", _review_context(_step(step.pk)))


@reviewer_required
@require_POST
def note_update(request: HttpRequest, step_id: str) -> HttpResponse:
    step = _step(step_id)
    if "notes" not in request.POST:
        # a request without the field is not a request to clear the note
        raise BadRequest("Nothing to save: send notes= (empty clears the note).")
    notes = request.POST["notes"]
    if len(notes) > 20_000:
        raise BadRequest("The note is too long (20,000 characters at most).")
    review = feedback.save_note(step, user=request.user, notes=notes)
    if not request.htmx:
        return _back(request, step)
    return render(
        request, "steps/step_detail.html#review-note", {"step": step, "review": review, "saved": True}
    )


def _review_context(step: Step) -> dict:
    return {"step": step, "vs": vote_state(step), "known_tags": known_tags()}


@require_GET
def next_unreviewed(request: HttpRequest, step_id: str) -> HttpResponse:
    """The next step without a vote after this one, in the order of the list it came from."""
    query = request.GET.get("from", "")
    form = StepFilterForm(QueryDict(query))
    sort = form.sort_order()
    qs = form.filter(Step.objects.only("id", "step_time", "total_tokens", "duration_ns")).unreviewed()
    qs = qs.ordered(sort).exclude(pk=step_id)
    current = Step.objects.filter(pk=step_id).only("id", "step_time", "total_tokens", "duration_ns").first()
    value = getattr(current, SORTS[sort][0], None) if current else None
    following = qs.after_key(sort, value, current.pk).first() if value is not None else None
    # past the end of the list, start again from its top: skipped steps come round again
    nxt = following or qs.first()
    if nxt is None:
        messages.success(request, "No unreviewed steps left in this list.")
        return redirect(reverse("step_list") + (f"?{query}" if query else ""))
    url = reverse("step_detail", args=[nxt.pk])
    return redirect(url + (f"?{urlencode({'from': query})}" if query else ""))


@reviewer_required
@require_POST
def bulk_start(request: HttpRequest) -> HttpResponse:
    action = request.POST.get("action", "")
    if action not in BULK_ACTIONS:
        raise BadRequest("Unknown bulk action.")
    kwargs = dict(BULK_ACTIONS[action])
    if action in ("add_tag", "remove_tag"):
        tags = feedback.clean_tags(request.POST.get("tag", "").split(","))
        if not tags:
            raise BadRequest("Type the tag to add or remove first.")
        kwargs["add_tags" if action == "add_tag" else "remove_tags"] = tags
    if request.POST.get("scope") == "all":
        kwargs["query"] = _valid_list_query(request.POST.get("query", ""))
    else:
        wanted = request.POST.getlist("step_ids")[:MAX_SELECTED]
        if not all(is_letta_id("step", i) for i in wanted):
            raise BadRequest("step_ids must be step ids (step-…).")
        known = set(Step.objects.filter(pk__in=wanted).values_list("pk", flat=True))
        ids = [i for i in dict.fromkeys(wanted) if i in known]  # in the order they were selected
        if not ids:
            raise BadRequest("Select at least one step.")
        kwargs["step_ids"] = ids
    batch = feedback.start_bulk(user=request.user, action=action, **kwargs)
    if not request.htmx:
        messages.success(request, f"Applying to {batch.total} steps in the background.")
        return redirect(reverse("step_list") + "?" + request.POST.get("query", ""))
    # the rows of the page it was started from (checked, also for "all matching"): the
    # progress redraws their votes as the worker applies them
    return _progress(request, batch, _shown(request.POST.getlist("step_ids")))


def _valid_list_query(query: str) -> str:
    """A list's query string that a bulk action may use: with an invalid value left out, "all
    matching" would match far more than the list the reviewer was looking at."""
    if len(query) > MAX_QUERY_CHARS:
        raise BadRequest("This filter is too long to apply in bulk.")
    form = StepFilterForm(QueryDict(query))
    if problems := form.problems:
        label, value, problem = problems[0]
        raise BadRequest(f"Fix the filter first: {label} “{value[:40]}” is not valid ({problem})")
    return query


@require_GET
def bulk_progress(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = get_object_or_404(FeedbackBatch, pk=batch_id)
    return _progress(request, batch, _shown(request.GET.getlist("row")))


def _shown(ids: list[str]) -> list[str]:
    if not all(is_letta_id("step", i) for i in ids):
        raise BadRequest("Rows must be step ids (step-…).")
    return list(dict.fromkeys(ids))[:MAX_SHOWN]


def _progress(request: HttpRequest, batch: FeedbackBatch, shown: list[str]) -> HttpResponse:
    """The progress bar, polling while the batch runs, and the votes of the list rows it
    changes (`shown`), swapped in out of band at every poll: three queries, whatever the rows.
    While the bar polls the row widgets do not poll themselves."""
    progress = feedback.batch_progress(batch)
    steps = Step.objects.filter(pk__in=shown).only("id", "feedback", "tags") if shown else []
    prefix, _, suffix = reverse("step_vote", args=[PLACEHOLDER]).partition(PLACEHOLDER)
    context = {
        "batch": batch,
        "p": progress,
        "finished": batch.finished_at is not None and progress["saving"] == 0,
        "rows_query": urlencode([("row", i) for i in shown]),
        "votes": [(vs, f"{prefix}{vs.step.pk}{suffix}") for vs in vote_states(list(steps)).values()],
    }
    return render(request, "steps/step_list.html#bulk-progress", context)


@require_GET
def bulk_count(request: HttpRequest) -> HttpResponse:
    """How many steps "all matching" means; counted on demand, never on each list page."""
    form = StepFilterForm(QueryDict(_valid_list_query(request.GET.get("query", ""))))
    total = form.filter(Step.objects.all()).count()
    return render(request, "steps/step_list.html#bulk-count", {"total": total})
