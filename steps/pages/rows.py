"""Row view-models for the step list and the run page, built in one pass in Python.

A 50-row page used to do its per-row work in the template (includes, custom tags, URL
reversing, filters): about four fifths of a warm list request. Here each row's text is
computed once with plain string operations, so the row template only prints attributes.

To add a column: give `StepRow` a field, fill it in `_row()`, print it in the `step-row`
partial of templates/steps/step_list.html. `row.step` is the model instance (only the list's
columns are loaded, see `StepQuerySet.for_list`) for anything that needs no formatting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

from django.urls import reverse
from django.utils import dateformat, timezone

from ..cost.pages import with_costs
from ..feedback import VoteState, vote_states
from ..models import Agent, Step
from ..templatetags.cost_ui import step_cost_cell
from ..templatetags.steps_ui import ago, ns_duration, short_id, svg_bar
from .snippets import Match, matches
from .timeline import Preview, previews

# Any id the URL pattern accepts: reversed once per page, then replaced by each row's id.
_PLACEHOLDER = "step-00000000-0000-4000-8000-000000000000"
DASH = "—"
CONVO_CHARS = 200  # of a conversation line: more than the widest cell shows (CSS ends it in "…")
TIME_SOURCES = dict(Step.TimeSource.choices)


@dataclass(slots=True)
class StepRow:
    step: Step
    preview: Preview
    url: str  # the step page; on the list with ?from=<the list's query> for "Next unreviewed"
    vote_url: str
    vote: VoteState | None
    short_id: str
    status: str
    time_iso: str
    time_title: str
    time_text: str
    agent_name: str  # "" when Letta has not told us the agent's name
    agent_label: str
    agent_title: str
    model: str
    user: str
    assistant: str
    reasoning: str
    tokens: str
    tokens_title: str
    duration: str
    duration_ns: int
    cost: str  # "$0.0123", "no price" (never $0 for an unknown model), "—" for a pending step
    match: Match | None = None  # with a search: where the step matched, the term marked
    clock: str = ""  # run page: the time of day, with its zone
    duration_bar: str = ""  # run page: the step's duration against the run's longest, as SVG

    def __iter__(self):
        # Unpacks as the former (step, preview) pairs: `for step, preview in rows` still reads.
        return iter((self.step, self.preview))


def list_rows(
    steps: list[Step], *, from_query: str = "", with_votes: bool = True, search: str = ""
) -> list[StepRow]:
    """Rows of a page of steps: previews, agent names, (with_votes) vote states and (with a
    search term) where each matched, in one query each, whatever the number of rows."""
    found = previews([s.pk for s in steps])
    matched = matches([s.pk for s in steps], search) if search else {}
    agents = Agent.objects.names(s.agent_id for s in steps)
    votes = vote_states(steps) if with_votes else {}
    with_costs(steps)  # step.cost: one query for the price table, none per row
    detail_prefix, detail_suffix = _url_parts("step_detail")
    vote_prefix, vote_suffix = _url_parts("step_vote")
    if from_query:
        detail_suffix += "?" + urlencode({"from": from_query})
    rows = []
    for step in steps:
        quoted = quote(step.pk, safe="")
        step.agent_record = agents.get(step.agent_id)  # templates that still read the step find it
        rows.append(
            _row(
                step,
                found[step.pk],
                url=f"{detail_prefix}{quoted}{detail_suffix}",
                vote_url=f"{vote_prefix}{quoted}{vote_suffix}",
                vote=votes.get(step.pk),
            )
        )
        rows[-1].match = matched.get(step.pk)
    return rows


def _url_parts(name: str) -> tuple[str, str]:
    prefix, _, suffix = reverse(name, args=[_PLACEHOLDER]).partition(_PLACEHOLDER)
    return prefix, suffix


def _row(step: Step, preview: Preview, *, url: str, vote_url: str, vote) -> StepRow:
    agent = step.agent_record
    agent_id = step.agent_id or ""
    if agent is not None and agent.name:
        agent_label, agent_title = agent.name, agent_id + (f" · {agent.model}" if agent.model else "")
    else:
        agent_label = short_id(agent_id) or DASH
        agent_title = agent_id + (" (name not synced)" if agent_id else "")
    local = timezone.localtime(step.step_time) if step.step_time else None
    iso = local.isoformat() if local else ""
    return StepRow(
        step=step,
        preview=preview,
        url=url,
        vote_url=vote_url,
        vote=vote,
        short_id=short_id(step.pk),
        status=step.status or "unknown",
        time_iso=iso,
        time_title=f"{iso} · {TIME_SOURCES.get(step.step_time_source, step.step_time_source)}" if iso else "",
        time_text=ago(step.step_time),
        agent_name=agent.name if agent is not None else "",
        agent_label=agent_label,
        agent_title=agent_title,
        model=step.model or DASH,
        user=clip(preview.user, CONVO_CHARS),
        assistant=clip(preview.assistant, CONVO_CHARS),
        reasoning=clip(preview.reasoning, CONVO_CHARS),
        tokens=DASH if step.total_tokens is None else f"{step.total_tokens:,}",
        tokens_title=f"prompt {step.prompt_tokens or 0} · completion {step.completion_tokens or 0}",
        duration=ns_duration(step.duration_ns),
        duration_ns=step.duration_ns or 0,
        cost=step_cost_cell(step),
    )


def clip(text: str, limit: int) -> str:
    """Django's `truncatechars`: at most `limit` characters, the last one an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clock(value: datetime | None, fmt: str = "H:i:s") -> str:
    """The text of `{% when value fmt %}` (time and zone name) for rows that print it."""
    if not value:
        return ""
    local = timezone.localtime(value)
    return f"{dateformat.format(local, fmt)} {local.tzname()}"


def run_rows(steps: list[Step]) -> list[StepRow]:
    """Rows of a run page: the same view-models, without votes (the run page shows none), with
    the time of day and a duration bar scaled to the run's longest step."""
    rows = list_rows(steps, with_votes=False)
    longest = max((row.duration_ns for row in rows), default=0)
    for row in rows:
        row.clock = clock(row.step.step_time)
        row.duration_bar = svg_bar(longest, [(row.duration_ns, "dt-fill", "")])
    return rows
