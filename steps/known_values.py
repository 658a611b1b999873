"""Typed agent and model filter values, matched to the values the data holds.

People type names as they remember them ("polyglot" for "Polyglot"); the steps table is only
ever asked for exact stored values, so its (column, -step_time) indexes serve the list:

- an agent name is resolved to agent ids through the Agent table (steps_agent_name_upper:
  UPPER(name), what Django's iexact compares), an agent id is taken as it is;
- a model is resolved through the model facet (FacetCount rows of one dimension: a few dozen).

A value that matches nothing known gets "did you mean" suggestions, read only then.
"""

from __future__ import annotations

import difflib

from .ids import is_letta_id

MAX_AGENTS_PER_NAME = 100  # names are not unique in Letta; an IN list stays short
MAX_SUGGESTIONS = 3
MAX_CANDIDATES = 5000  # known names read for suggestions, most used first


def agent_ids(typed: str) -> list[str]:
    """Agent ids the agent filter value means: an id, or every agent whose name is `typed` in
    any case. The value itself stays in the list (agent ids Letta sent in another shape)."""
    from .models import Agent

    if is_letta_id("agent", typed):
        return [typed]
    named = Agent.objects.filter(name__iexact=typed).order_by("id").values_list("id", flat=True)
    return [typed, *named[:MAX_AGENTS_PER_NAME]]


def models_named(typed: str) -> list[str]:
    """Stored model names equal to `typed` in any case; [typed] when there is none."""
    from .models import FacetCount

    found = FacetCount.objects.filter(dimension="model", value__iexact=typed, steps__gt=0)
    return sorted(found.values_list("value", flat=True)) or [typed]


def is_known(dimension: str, values: list[str]) -> bool:
    """Whether some step carries one of `values` (as the facet counts them)."""
    from .models import FacetCount

    return FacetCount.objects.filter(dimension=dimension, value__in=values, steps__gt=0).exists()


def suggest_agents(typed: str) -> list[str]:
    """Agent names (or ids of unnamed agents) close to `typed`, for "did you mean"."""
    from .models import Agent, FacetCount

    used = FacetCount.objects.filter(dimension="agent", steps__gt=0).order_by("-steps")
    ids = list(used.values_list("value", flat=True)[:MAX_CANDIDATES])
    names = dict(Agent.objects.filter(id__in=ids).exclude(name="").values_list("id", "name"))
    return closest(typed, [names.get(i, i) for i in ids])


def suggest_models(typed: str) -> list[str]:
    from .models import FacetCount

    used = FacetCount.objects.filter(dimension="model", steps__gt=0).order_by("-steps")
    return closest(typed, list(used.values_list("value", flat=True)[:MAX_CANDIDATES]))


def closest(typed: str, candidates: list[str]) -> list[str]:
    """Candidates that contain `typed` (any case) first, in their order, then close spellings."""
    wanted = typed.casefold()
    unique = list(dict.fromkeys(c for c in candidates if c))
    containing = [c for c in unique if wanted and wanted in c.casefold()]
    by_fold = {c.casefold(): c for c in unique}
    similar = difflib.get_close_matches(wanted, list(by_fold), n=MAX_SUGGESTIONS, cutoff=0.6)
    found = containing + [by_fold[s] for s in similar]
    return list(dict.fromkeys(found))[:MAX_SUGGESTIONS]
