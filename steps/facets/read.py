"""What pages read: a few hundred rows of FacetCount, whatever the number of steps."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery

from .values import LIST_DIMENSIONS, TAG_DIMENSIONS

# facets() keys, per dimension (the template reads these names)
LIST_KEYS = {
    "agent": "agents",
    "model": "models",
    "provider": "providers",
    "stop_reason": "stop_reasons",
    "error_type": "error_types",
    "tool": "tools",
}


def facets() -> dict[str, list[tuple]]:
    """Filter choices from the data, with counts, most common first; agents as
    (id, steps, name), listed by name where one is known. One query (steps_facetcount_unique)."""
    from ..models import Agent, FacetCount

    name = Agent.objects.filter(id=OuterRef("value")).values("name")[:1]
    rows = (
        FacetCount.objects.filter(dimension__in=LIST_DIMENSIONS, steps__gt=0)
        .annotate(agent_name=Subquery(name))
        .values_list("dimension", "value", "steps", "agent_name")
    )
    found: dict[str, list[tuple]] = {k: [] for k in LIST_KEYS.values()}
    for dimension, value, steps, agent_name in rows:
        if dimension == "agent":
            found["agents"].append((value, steps, agent_name or ""))
        else:
            found[LIST_KEYS[dimension]].append((value, steps))
    for choices in found.values():
        choices.sort(key=lambda r: (-r[1], r[0]))
    return found


def values_of(dimension: str) -> list[str]:
    """The values one dimension has in some step ("provider": ["anthropic", "openai"]), sorted."""
    from ..models import FacetCount

    found = FacetCount.objects.filter(dimension=dimension, steps__gt=0).exclude(value="")
    return sorted(found.values_list("value", flat=True))


def known_tags(limit: int = 500) -> list[str]:
    """Tags in use, here or in Letta, for the tag input's autocomplete."""
    from ..models import FacetCount

    tags = (
        FacetCount.objects.filter(dimension__in=TAG_DIMENSIONS, steps__gt=0)
        .order_by("value")
        .values_list("value", flat=True)
        .distinct()
    )
    return list(tags[:limit])
