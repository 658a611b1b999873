"""Which facet values a step carries: one definition for the incremental counts and the rebuild."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

# FacetCount.Dimension -> Step column, for the dimensions that are one column of the step
STEP_COLUMNS = {
    "agent": "agent_id",
    "model": "model",
    "provider": "provider_name",
    "stop_reason": "stop_reason",
    "error_type": "error_type",
}
# what the list page shows, in the order of the old facets() dict
LIST_DIMENSIONS = (*STEP_COLUMNS, "tool")
TAG_DIMENSIONS = ("tag", "vote_tag")
VALUE_MAX_LENGTH = 255  # FacetCount.value


def key(value) -> str:
    return str(value)[:VALUE_MAX_LENGTH]


def step_values(columns: dict, tags) -> set[tuple[str, str]]:
    """(dimension, value) pairs of one step row; empty values are no choice."""
    pairs = {(dim, key(columns[col])) for dim, col in STEP_COLUMNS.items() if columns.get(col)}
    pairs |= {("tag", key(t)) for t in (tags if isinstance(tags, list) else [])}
    return pairs


def tag_values(dimension: str, tags) -> set[tuple[str, str]]:
    return {(dimension, key(t)) for t in (tags if isinstance(tags, list) else [])}


def difference(before: Iterable[tuple[str, str]], after: Iterable[tuple[str, str]]) -> dict:
    """after - before, per (dimension, value), zeros left out."""
    delta = Counter(after)
    delta.subtract(Counter(before))
    return {k: n for k, n in delta.items() if n}
