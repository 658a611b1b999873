"""The compare pages: two steps, two runs, and the small pickers that lead there."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import Truncator
from django.views.decorators.http import require_GET

from .. import diff
from ..fields import whole_number
from ..ids import is_letta_id
from ..models import Agent, Run, Step
from ..pages import compare

VIEW_CHOICES = (("structural", "Structural"), ("side", "Side by side"), ("json", "Unified JSON"))
# the collapsible runs of unchanged messages: the request's, and the messages each step wrote
MESSAGE_PARTS = ("request", "written")
RECENT_STEPS = 15
RECENT_RUNS = 15


def _clean_id(raw: str, prefix: str) -> str:
    """A pasted id or link to a step/run page, as the id it names; "" when it names none, so a
    hand-typed value never reaches a query or the URL resolver."""
    raw = (raw or "").strip()
    # a pasted link to a step page works as well as its id (a ?from=... query is dropped)
    raw = raw.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return raw if is_letta_id(prefix, raw) else ""


def _start(request: HttpRequest, kind: str, target: str) -> HttpResponse:
    """Redirect two pasted ids to `target`; otherwise the form again, keeping what was typed (the
    step page's hidden side too, so the reader does not lose the step they came from) and saying
    which value is not an id."""
    raw = {side: request.GET.get(side, "").strip() for side in ("a", "b")}
    ids = {side: _clean_id(value, kind) for side, value in raw.items()}
    if ids["a"] and ids["b"]:
        if kind == "step" and request.GET.get("order") == "time":
            ids["a"], ids["b"] = _earlier_first(ids["a"], ids["b"])
        return redirect(target, a_id=ids["a"], b_id=ids["b"])
    problems = [
        f"{side.upper()}: “{Truncator(value).chars(80)}” is not a {kind} id or a link to a {kind} page."
        for side, value in raw.items()
        if value and not ids[side]
    ]
    context = {
        "problem": f"Paste a {kind} id, or a link to a {kind} page.",
        "problems": problems,
        "a_value": raw["a"][:300],
        "b_value": raw["b"][:300],
        "runs": kind == "run",
    }
    # an empty form (a bookmarked /compare/) is a page to fill in, not a bad request
    status = 400 if raw["a"] or raw["b"] else 200
    return render(request, "steps/compare_missing.html", context, status=status)


def _earlier_first(a_id: str, b_id: str) -> tuple[str, str]:
    """The two steps as (earlier, later) by the list's own order key: (step_time, id). Steps of
    one run share the run's time to the millisecond, so only the server can tell them apart."""
    keys = dict(Step.objects.filter(pk__in=[a_id, b_id]).values_list("id", "step_time"))
    if len(keys) < 2:
        return a_id, b_id  # an unknown side: the compare page says which
    return tuple(sorted((a_id, b_id), key=lambda pk: (keys[pk], pk)))


def _options(request: HttpRequest) -> dict:
    view = request.GET.get("view", "structural")
    return {
        "view": view if view in compare.VIEWS else "structural",
        "hide_unchanged": request.GET.get("hide_unchanged") == "1",
    }


def _sides(request: HttpRequest, a_id: str, b_id: str) -> tuple[compare.Side, compare.Side]:
    """Both steps with the traces the request picks (3 queries); 404 when either is unknown."""
    pair = compare.load_pair(a_id, b_id)
    if pair is None:
        raise Http404("No such step")
    a, b = pair
    compare.pick_trace(a, request.GET.get("trace_a"))
    compare.pick_trace(b, request.GET.get("trace_b"))
    return a, b


def _load(request: HttpRequest, a_id: str, b_id: str) -> compare.StepComparison:
    return compare.compare_steps(*_sides(request, a_id, b_id))


def _trace_query(c: compare.StepComparison) -> str:
    # only numbers that differ from the default go in the link, so a plain compare URL stays short
    parts = []
    for name, side in (("trace_a", c.a), ("trace_b", c.b)):
        if side.trace_number and side.trace_number != compare.default_trace_number(side.traces):
            parts.append(f"{name}={side.trace_number}")
    return "&".join(parts)


@require_GET
def compare_steps(request: HttpRequest, a_id: str, b_id: str) -> HttpResponse:
    c = _load(request, a_id, b_id)
    options = _options(request)
    agents = Agent.objects.names([c.a.step.agent_id, c.b.step.agent_id])
    context = {
        "c": c,
        **options,
        "sides": [(c.a, "a"), (c.b, "b")],
        "agent_a": agents.get(c.a.step.agent_id),
        "agent_b": agents.get(c.b.step.agent_id),
        "view_choices": VIEW_CHOICES,
        "trace_query": _trace_query(c),
    }
    if options["view"] == "json":
        context["json_parts"] = compare.json_views(c)
    return render(request, "steps/compare_steps.html", context)


@require_GET
def compare_expand(request: HttpRequest, a_id: str, b_id: str) -> HttpResponse:
    """One collapsed part expanded in place (htmx): a run of unchanged messages, or unchanged JSON lines."""
    part = request.GET.get("part")
    entry = whole_number(request.GET.get("entry"))
    if entry is None or part not in (*compare.JSON_PARTS, *MESSAGE_PARTS):
        raise Http404("No such collapsed part")
    # only the part asked for is diffed, not the whole comparison
    a, b = _sides(request, a_id, b_id)
    if part in compare.JSON_PARTS:
        lines = compare.folded_json_lines(a, b, part, entry)
        if lines is None:
            raise Http404("No such collapsed part")
        return render(request, "steps/_compare_json.html#fold-lines", {"lines": lines})
    if part == "written":
        entries = compare.written_messages(a, b).entries
    else:
        entries = diff.diff_requests(a.request, b.request).messages.entries
    if entry >= len(entries) or not isinstance(entries[entry], diff.UnchangedRun):
        raise Http404("No such collapsed part")
    return render(
        request,
        "steps/_compare_messages.html#unchanged-items",
        {"items": entries[entry].items, "view": _options(request)["view"]},
    )


@require_GET
def compare_start(request: HttpRequest) -> HttpResponse:
    """The "Compare with…" form: two ids (or pasted links) in, the compare page's stable URL out."""
    return _start(request, "step", "compare_steps")


@require_GET
def compare_recent(request: HttpRequest, step_id: str) -> HttpResponse:
    """Recent steps of the same agent, to pick the other side of a comparison (htmx dropdown)."""
    step = Step.objects.filter(pk=step_id).only("id", "agent_id", "step_time").first()
    if step is None:
        raise Http404("No such step")
    recent = []
    if step.agent_id:
        recent = list(
            Step.objects.filter(agent_id=step.agent_id)
            .exclude(pk=step.pk)
            .for_list()
            .ordered("-time")[:RECENT_STEPS]
        )
    return render(request, "steps/compare_pickers.html#recent-steps", {"step": step, "recent": recent})


@require_GET
def compare_runs(request: HttpRequest, a_id: str, b_id: str) -> HttpResponse:
    a, b = compare.load_run(a_id), compare.load_run(b_id)
    if a is None or b is None:
        raise Http404("No such run")
    alignment = compare.compare_runs(a, b)
    steps = {s.pk: s for s in a.steps + b.steps}
    pairs = [(pair, [(steps[x.id] if x else None, x) for x in (pair.a, pair.b)]) for pair in alignment.pairs]
    context = {"a": a, "b": b, "sides": [(a, "a"), (b, "b")], "alignment": alignment, "pairs": pairs}
    return render(request, "steps/compare_runs.html", context)


@require_GET
def compare_runs_start(request: HttpRequest) -> HttpResponse:
    return _start(request, "run", "compare_runs")


@require_GET
def compare_recent_runs(request: HttpRequest, run_id: str) -> HttpResponse:
    """Recent runs of the same agent, to compare a run with (htmx dropdown)."""
    run = Run.objects.filter(pk=run_id).only("id", "agent_id").first()
    agent_id = run.agent_id if run else ""
    if not agent_id:
        first = Step.objects.filter(run_id=run_id).only("agent_id").first()
        agent_id = first.agent_id if first else ""
    recent = []
    if agent_id:
        recent = list(
            Run.objects.filter(agent_id=agent_id).exclude(pk=run_id).order_by("-created_at")[:RECENT_RUNS]
        )
    return render(request, "steps/compare_pickers.html#recent-runs", {"run_id": run_id, "recent": recent})
