"""Where a list row matched its search, and the words around it, for a page of steps.

One query for the whole page: the page's messages and trace responses that contain the term
(the same ILIKE as steps/search.py), each cut in SQL to a short excerpt starting a little
before the first occurrence, so a trace of megabytes costs its few hundred characters here.
The excerpt is model output: it is escaped, and only our own <mark> goes around the term.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import F, Func, IntegerField, TextField, Value
from django.db.models.functions import Greatest, Lower, StrIndex, Substr
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ..search import ILike, TraceText, like_escape

BEFORE = 30  # characters of context shown before the term
LENGTH = 200  # characters read per excerpt; the cell shows what fits
TRACE = "trace"
# where a match is, in the order a reviewer wants to see it: message type -> label
PLACES = {
    "user_message": "user message",
    "assistant_message": "reply",
    "tool_call_message": "tool arguments",
    "approval_request_message": "tool arguments",
    "tool_return_message": "tool return",
    "reasoning_message": "reasoning",
    "hidden_reasoning_message": "reasoning",
    "approval_response_message": "approval",
    "summary_message": "summary",
    "event_message": "event",
    "system_message": "system prompt",
    TRACE: "trace",
}
RANK = {kind: i for i, kind in enumerate(PLACES)}


class Unindexed(Func):
    """A text as an expression no index matches, so that the page's steps are found by their
    ids and the term checked on their rows alone. Left to itself the planner also read the
    trigram index for a common word and ANDed it with them: 232,692 index rows against 107, in
    100 ms of the list page's time at a million steps."""

    template = "(%(expressions)s || '')"
    output_field = TextField()


@dataclass(frozen=True, slots=True)
class Match:
    where: str  # "user message", "reply", "tool arguments", "trace" ...
    html: SafeString  # the excerpt, escaped, the term in <mark>


def matches(step_ids: list[str], term: str) -> dict[str, Match]:
    """The best match of `term` in each of these steps (by PLACES order, then position)."""
    from ..models import Message, ProviderTrace

    if not step_ids or not term:
        return {}
    pattern = Value("%" + like_escape(term) + "%")
    messages = _excerpts(
        Message.objects.filter(step_id__in=step_ids).filter(ILike(Unindexed(F("text")), pattern)),
        F("text"),
        kind=F("message_type"),
        pos=F("position"),
        term=term,
    )
    traces = _excerpts(
        ProviderTrace.objects.filter(step_id__in=step_ids).filter(ILike(Unindexed(TraceText()), pattern)),
        TraceText(),
        kind=Value(TRACE),
        pos=Value(0, output_field=IntegerField()),
        term=term,
    )
    best: dict[str, tuple] = {}
    # order_by(): a union takes Message's default ordering back, which its columns cannot serve
    for step_id, kind, pos, start, excerpt in messages.union(traces, all=True).order_by():
        key = (RANK.get(kind, len(RANK) - 1), pos)
        if step_id not in best or key < best[step_id][0]:
            best[step_id] = (key, kind, start, excerpt)
    return {
        step_id: Match(PLACES.get(kind, kind.replace("_", " ")), marked(excerpt or "", term, start > 1))
        for step_id, (_, kind, start, excerpt) in best.items()
    }


def _excerpts(rows, text, *, kind, pos, term: str):
    start = Greatest(StrIndex(Lower(text), Lower(Value(term))) - BEFORE, 1)
    return (
        rows.order_by()
        .annotate(m_kind=kind, m_pos=pos, m_start=start, m_excerpt=Substr(text, start, LENGTH))
        .values_list("step_id", "m_kind", "m_pos", "m_start", "m_excerpt")
    )


def marked(excerpt: str, term: str, cut_before: bool) -> SafeString:
    """The excerpt on one line, escaped, with the first occurrence of `term` in <mark>."""
    text = " ".join(excerpt.split())
    lead = "…" if cut_before else ""
    found = re.search(re.escape(" ".join(term.split())), text, re.IGNORECASE)
    if found is None:  # the database's case folding found what Python's does not
        return format_html("{}{}", lead, text)
    return format_html(
        "{}{}<mark>{}</mark>{}", lead, text[: found.start()], found.group(), text[found.end() :]
    )
