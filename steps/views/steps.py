"""Thin views: parse the request, ask the querysets, render a page or its htmx partial."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from ..access import can_revoke_link, can_share
from ..access.decorators import reviewer_required
from ..alerts.views_saved import sidebar as saved_views
from ..cost.pages import run_cost, step_breakdown
from ..feedback import recent_reviewer_counts, vote_state
from ..filters import LiveForm, StepFilterForm, encode_cursor, facets, known_tags, list_query, without_empty
from ..models import Agent, Run, ShareLink, Step
from ..overview.sparkline import sparkline
from ..pages import compare, share
from ..pages.list_count import list_count
from ..pages.rows import list_rows, run_rows
from ..pages.timeline import timeline
from ..querysets import SORTS

PAGE_SIZE = 50
LIVE_MAX_ROWS = 100


@require_GET
def step_list(request: HttpRequest) -> HttpResponse:
    kept = without_empty(request.GET)
    if not request.htmx and len(kept) < len(request.GET):
        # a form submitted without JavaScript sends every empty field: show the short URL
        return redirect(reverse("step_list") + (f"?{kept.urlencode()}" if kept else ""))
    form = StepFilterForm(request.GET)
    sort = form.sort_order()
    matching = form.filter(Step.objects.for_list())
    ordered = qs = matching.ordered(sort)
    key = form.cursor_key
    if key:
        qs = qs.after_key(sort, *key)
    steps = list(qs[: PAGE_SIZE + 1])
    has_more = len(steps) > PAGE_SIZE
    next_cursor = encode_cursor(sort, steps[PAGE_SIZE - 1]) if has_more else ""
    steps = steps[:PAGE_SIZE]
    query = list_query(request.GET)
    context = {
        "form": form,
        "sort": sort,
        "rows": list_rows(steps, from_query=query, search=form.search_term),
        "count": list_count(form, ordered, shown=len(steps), has_more=has_more, first_page=key is None),
        # "did you mean", asked only when an agent or model filter found nothing
        "unknown": form.unknown if not steps and key is None else [],
        "next_cursor": next_cursor,
        "newer_cursor": _newer_cursor(matching, sort, key) if key else None,
        "list_query": query,
        "is_first_page": key is None,
        # live updates only make sense at the top of the newest-first list
        "live": form.data.get("live") == "1" and sort == "-time" and key is None,
        "top": steps[0] if steps else None,
    }
    template = "steps/step_list.html"
    context["sparkline"] = sparkline(form)
    # A history restore asks for the full page, like a first visit.
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        template += "#step-table"
        context["sparkline_oob"] = True  # the toolbar's sparkline follows the filters
    else:
        context["facets"] = facets()
        context["reviewers"] = recent_reviewer_counts()
        context["saved_views"] = saved_views(request.user, counted=False)  # counts follow by htmx
    return render(request, template, context)


def _newer_cursor(matching, sort: str, key: tuple) -> str:
    """The cursor of the page before the one starting after `key` ("" when that is the first
    page): the same keyset walk backwards, one index seek of PAGE_SIZE rows."""
    backwards = sort[1:] if sort.startswith("-") else f"-{sort}"
    # the previous page is `key`'s row and the PAGE_SIZE - 1 rows before it; its cursor, the row before those
    before = list(
        matching.ordered(backwards).after_key(backwards, *key).only("id", SORTS[sort][0])[:PAGE_SIZE]
    )
    return encode_cursor(sort, before[-1]) if len(before) == PAGE_SIZE else ""


@require_GET
def step_list_live(request: HttpRequest) -> HttpResponse:
    """Steps newer than the list's top row, to prepend; 204 (htmx swaps nothing) when none."""
    form = LiveForm(request.GET)
    if form.data.get("live") != "1":
        return HttpResponseStopPolling()
    qs = form.filter(Step.objects.for_list()).ordered("time")
    if bad := form.errors.keys() & {"newest_time", "newest_id"}:
        # only our own poller sends these, so a bad one is a hand-made request
        raise BadRequest(f"Not a valid {' or '.join(sorted(bad))}.")
    newest_time, newest_id = form.cleaned_data.get("newest_time"), form.cleaned_data.get("newest_id")
    if newest_time and newest_id:
        qs = qs.newer_than(newest_time, newest_id)
    steps = list(qs[:LIVE_MAX_ROWS])[::-1]
    if not steps:
        return HttpResponse(status=204)
    query = list_query(request.GET)
    context = {
        "rows": list_rows(steps, from_query=query, search=form.search_term),
        "list_query": query,
        "top": steps[0],
        "form": form,
        "live": True,
        "fresh": True,
        "oob": True,
    }
    return render(request, "steps/step_list.html#live-rows", context)


def _step_context(step: Step, *, with_traces: bool = True) -> dict:
    messages = list(step.messages.order_by("position").only("payload", "date", "step_id", "position"))
    traces = list(step.traces.order_by("created_at", "pk")) if with_traces else []
    for trace in traces:
        trace.parts = [("request", trace.request_json), ("response", trace.response_json)]
    metrics = getattr(step, "metrics", None)
    return {
        "step": step,
        "entries": timeline(messages),
        "traces": traces,
        "metrics": metrics,
        "timing": _timing(metrics),
        "error": step.error_data,
        "traces_withheld": not with_traces,
    }


def _timing(metrics) -> dict | None:
    """The step's parts; None where Letta measured nothing (a failed LLM call has no llm_request_ns,
    a step without a tool no tool_execution_ns): the page says "—" there, never "0 ms"."""
    if not metrics or not metrics.step_ns:
        return None
    llm, tool = metrics.llm_request_ns, metrics.tool_execution_ns
    measured = [part for part in (llm, tool) if part is not None]
    rest = max(0, metrics.step_ns - sum(measured)) if measured else None
    return {"total": metrics.step_ns, "llm": llm, "tool": tool, "rest": rest}


def _neighbours(step: Step, **same) -> tuple[Step | None, Step | None]:
    """(previous, next) step in time among steps sharing the `same` column values."""
    if not all(same.values()):
        return None, None
    base = Step.objects.filter(**same).only("id", "step_time")
    prev = base.ordered("-time").after_key("-time", step.step_time, step.pk).first()
    nxt = base.ordered("time").after_key("time", step.step_time, step.pk).first()
    return prev, nxt


def _run_neighbours(step: Step) -> tuple[Step | None, Step | None]:
    """(previous, next) step in the run's own sequence; by time for a step without a position."""
    if not step.run_id or step.run_position is None:
        return _neighbours(step, run_id=step.run_id)
    base = Step.objects.filter(run_id=step.run_id).only("id", "run_position")
    prev = base.filter(run_position__lt=step.run_position).order_by("-run_position", "-id").first()
    nxt = base.filter(run_position__gt=step.run_position).order_by("run_position", "id").first()
    return prev, nxt


@require_GET
def step_detail(request: HttpRequest, step_id: str) -> HttpResponse:
    step = get_object_or_404(Step.objects.select_related("metrics", "review"), pk=step_id)
    context = _step_context(step)
    context["prev_in_run"], context["next_in_run"] = _run_neighbours(step)
    context["agent"] = Agent.objects.names([step.agent_id]).get(step.agent_id)
    context["prev_in_agent"], context["next_in_agent"] = _neighbours(step, agent_id=step.agent_id)
    context.update(
        compare.step_page_context(step, context["traces"], context["prev_in_run"], context["prev_in_agent"])
    )
    context.update(_share_context(request, step))
    context.update(
        vs=vote_state(step),
        known_tags=known_tags(),
        review=getattr(step, "review", None),
        cost=step_breakdown(step),
        can_add_price=request.user.has_perm("steps.add_modelprice"),
        # the list this step was opened from, for "Next unreviewed"
        from_query=request.GET.get("from", ""),
    )
    return render(request, "steps/step_detail.html", context)


def _share_context(request: HttpRequest, step: Step) -> dict:
    links = list(step.share_links.select_related("created_by", "revoked_by").order_by("-created_at"))
    for link in links:
        link.url = request.build_absolute_uri(reverse("shared_step", args=[share.signed_token(link)]))
        link.revocable = can_revoke_link(request.user, link)
    return {
        "share_links": links,
        "can_share": can_share(request.user),
        "expiry_choices": share.EXPIRY_LABELS.items(),
        "default_expiry": share.DEFAULT_EXPIRY,
    }


@reviewer_required
@require_POST
def share_create(request: HttpRequest, step_id: str) -> HttpResponse:
    # Checked here, not only in the template: a client can POST without the button.
    if not can_share(request.user):
        raise PermissionDenied
    step = get_object_or_404(Step.objects.only("id"), pk=step_id)
    share.create_link(
        step,
        request.user,
        request.POST.get("expiry", share.DEFAULT_EXPIRY),
        include_traces=request.POST.get("include_traces") == "on",
    )
    return _share_response(request, step)


@reviewer_required
@require_POST
def share_revoke(request: HttpRequest, link_id: int) -> HttpResponse:
    link = get_object_or_404(ShareLink, pk=link_id)
    if not can_revoke_link(request.user, link):
        raise PermissionDenied
    share.revoke(link, request.user)
    return _share_response(request, link.step)


def _share_response(request: HttpRequest, step: Step) -> HttpResponse:
    if request.htmx:
        context = {"step": step, **_share_context(request, step)}
        return render(request, "steps/step_detail.html#share-links", context)
    return redirect("step_detail", step_id=step.pk)


@login_not_required
@require_GET
def shared_step(request: HttpRequest, token: str) -> HttpResponse:
    link, problem = share.find_link(token)
    if problem:
        response = render(
            request,
            "steps/share_unavailable.html",
            {"problem": problem, "link": link},
            status=410 if link else 404,
        )
    else:
        step = Step.objects.select_related("metrics").get(pk=link.step_id)
        context = _step_context(step, with_traces=link.include_traces)
        response = render(request, "steps/step_shared.html", {**context, "link": link})
    # Belt and braces with the meta tag: also covers crawlers that do not parse HTML.
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def run_detail(request: HttpRequest, run_id: str) -> HttpResponse:
    run = Run.objects.filter(pk=run_id).first()
    steps = list(Step.objects.filter(run_id=run_id).for_list().in_run_order())
    if run is None and not steps:
        return render(request, "steps/run_detail.html", {"run_id": run_id, "missing": True}, status=404)
    totals = Step.objects.filter(run_id=run_id).aggregate(
        prompt=Sum("prompt_tokens"),
        completion=Sum("completion_tokens"),
        tokens=Sum("total_tokens"),
        duration=Sum("duration_ns"),
    )
    agent_id = run.agent_id if run and run.agent_id else (steps[0].agent_id if steps else "")
    rows = run_rows(steps)  # sets step.cost, which run_cost adds up
    context = {
        "run": run,
        "run_id": run_id,
        "agent_id": agent_id,
        "agent": Agent.objects.names([agent_id]).get(agent_id),
        "rows": rows,
        "cost": run_cost(steps),
        "totals": totals,
        "failed": sum(1 for s in steps if s.status == "failed"),
    }
    return render(request, "steps/run_detail.html", context)
