"""A queue's agreement figures and the steps its reviewers disagree on, from its Reviews.

Everything here reads the queue's own reviews (``review_review`` joined to the queue's items by
the item foreign key's index), so the cost follows the queue's size, never the step table's. The maths
is ``agreement`` (pure); this module only turns rows into its plain dicts and back into names.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.db.models.fields.json import KeyTextTransform

from ..pages.timeline import previews
from . import agreement
from .models import Queue, QueueItem, Review, RubricItem


@dataclass
class QueueReviews:
    """A queue's reviews, once read: per compared rubric item the ratings
    ``{queue item id: {reviewer id: value}}`` (free-text items are not read: nothing compares them)."""

    rubric_items: list[RubricItem]
    pairwise: bool = False
    ratings: dict[str, dict[int, dict[int, Any]]] = field(default_factory=dict)
    positions: dict[int, int] = field(default_factory=dict)  # queue item id -> its position
    done: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # reviewer -> reviews
    seconds: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    count: int = 0

    def compared(self, pairwise: bool | None = None) -> list[tuple[RubricItem, str]]:
        """The rubric items agreement is computed for, with their level (free text is not)."""
        pairwise = self.pairwise if pairwise is None else pairwise
        out = []
        for item in self.rubric_items:
            level = agreement.level_of(item.kind, pairwise=pairwise)
            if level:
                out.append((item, level))
        return out


INTEGER = re.compile(r"-?\d{1,9}")
BOOLEAN_TEXTS = {"true": True, "false": False}


def _reader(item: RubricItem, pairwise: bool) -> Callable[[str], Any]:
    """A score's value back from its JSON text (`scores ->> name`): the value the rubric stores
    for this kind (a scale's int, a yes/no's bool); anything else a hand edit left stays text,
    which no rubric value equals."""
    if pairwise or item.kind in (RubricItem.Kind.THUMBS, RubricItem.Kind.CATEGORICAL):
        return str
    if item.kind == RubricItem.Kind.SCALE:
        return lambda text: int(text) if INTEGER.fullmatch(text) else text
    return lambda text: BOOLEAN_TEXTS.get(text, text)


def read_reviews(queue: Queue) -> QueueReviews:
    """Two queries: the rubric's items, and the queue's reviews (only the columns the figures use).

    Each compared item's value is read as text by PostgreSQL (``scores ->> 'name'``) and typed
    here from the item's kind: decoding 10,000 JSON documents in the ORM took most of the time of
    the agreement page (tests/bench/bench_agreement.py)."""
    pairwise = queue.kind == Queue.Kind.PAIRWISE
    data = QueueReviews(
        rubric_items=list(RubricItem.objects.filter(rubric_id=queue.rubric_id)), pairwise=pairwise
    )
    compared = [item for item, _ in data.compared()]
    data.ratings = {item.name: {} for item in compared}
    keys = {f"score_{i}": KeyTextTransform(item.name, "scores") for i, item in enumerate(compared)}
    readers = [(item.name, _reader(item, pairwise)) for item in compared]
    rows = (
        Review.objects.filter(item__queue_id=queue.pk)
        .annotate(**keys)
        .values_list("item_id", "item__position", "reviewer_id", "seconds", *keys)
    )
    for item_id, position, reviewer_id, seconds, *texts in rows:
        data.count += 1
        data.positions[item_id] = position
        data.done[reviewer_id] += 1
        if seconds is not None:
            data.seconds[reviewer_id].append(seconds)
        for (name, read), text in zip(readers, texts, strict=True):
            if text is not None:  # not scored (an optional item), or scores that are no object
                data.ratings[name].setdefault(item_id, {})[reviewer_id] = read(text)
    return data


def agreement_report(queue: Queue, data: QueueReviews | None = None) -> dict[str, Any]:
    """The queue's agreement, JSON-ready (the API returns it as it is)::

    {"items": {"<rubric item>": {"alpha", "percent", "n", "kind", "level", "disagreements"}},
     "reviewers": [{"id", "username", "done", "median_seconds", "agree_percent", "compared"}],
     "pairs": [{"a", "b", "a_username", "b_username", "percent", "n"}],
     "reviews": <count>, "items_reviewed": <queue items with a review>}

    alpha is Krippendorff's (None when undefined), percent 0-100 (None without two ratings of a step),
    n the steps with at least two ratings of that rubric item. Free-text items are not compared.
    """
    data = data or read_reviews(queue)
    compared = data.compared()
    items: dict[str, dict[str, Any]] = {}
    for item, level in compared:
        domain = item.choices if level == agreement.ORDINAL and item.choices else None
        found = agreement.item_figures(data.ratings[item.name], level, domain)
        figures = found.agreement.as_dict()
        figures.update(kind=item.kind, level=level, disagreements=len(found.disagreements))
        items[item.name] = figures
    pairs = agreement.reviewer_pairs(data.ratings[item.name] for item, _ in compared)
    reviewer_ids = set(data.done) | {r for pair in pairs for r in pair}
    usernames = dict(get_user_model().objects.filter(pk__in=reviewer_ids).values_list("pk", "username"))
    with_others: dict[int, agreement.PairCount] = defaultdict(agreement.PairCount)
    for (a, b), count in pairs.items():
        for reviewer in (a, b):
            with_others[reviewer].agree += count.agree
            with_others[reviewer].total += count.total
    reviewers = [
        {
            "id": reviewer,
            "username": usernames.get(reviewer, f"#{reviewer}"),
            "done": data.done.get(reviewer, 0),
            "median_seconds": statistics.median(data.seconds[reviewer])
            if data.seconds.get(reviewer)
            else None,
            # how often this reviewer's ratings equal a co-reviewer's, over every rating they share
            "agree_percent": with_others[reviewer].percent,
            "compared": with_others[reviewer].total,
        }
        for reviewer in reviewer_ids
    ]
    reviewers.sort(key=lambda r: (-r["done"], r["username"]))
    return {
        "items": items,
        "reviewers": reviewers,
        "pairs": [
            {
                "a": a,
                "b": b,
                "a_username": usernames.get(a, f"#{a}"),
                "b_username": usernames.get(b, f"#{b}"),
                "percent": count.percent,
                "n": count.total,
            }
            for (a, b), count in sorted(pairs.items(), key=lambda p: (-p[1].total, p[0]))
        ],
        "reviews": data.count,
        "items_reviewed": len(data.positions),
    }


def disagreement_ids(
    queue: Queue, item_name: str | None = None, data: QueueReviews | None = None
) -> list[int]:
    """Ids of the queue's items whose reviewers gave different values, in queue order: for one
    rubric item, or (None) for any compared item. An unknown item name has none."""
    data = data or read_reviews(queue)
    compared = [item.name for item, _ in data.compared()]
    names = compared if item_name is None else [n for n in compared if n == item_name]
    found = {unit for name in names for unit in agreement.disagreements(data.ratings[name])}
    return sorted(found, key=lambda unit: data.positions[unit])


def disagreements(queue: Queue, item_name: str | None = None) -> QuerySet[QueueItem]:
    """The queue's items its reviewers disagree on (see disagreement_ids), in queue order."""
    ids = disagreement_ids(queue, item_name)
    return QueueItem.objects.filter(queue_id=queue.pk, pk__in=ids).order_by("position")


# --- the disagreement list's rows --------------------------------------------------------------

MISSING = "—"
PAIRWISE_WORDS = {"a": "A", "b": "B", "tie": "tie"}
NOTE_CHARS = 300


@dataclass(slots=True)
class Cell:
    name: str  # the rubric item's
    shown: str  # the value as a person reads it
    differs: bool  # the reviewers gave this item different values
    thumb: str = ""  # "up" / "down" for a thumbs value (drawn as the page's thumb icon)


@dataclass(slots=True)
class Rating:
    reviewer: str
    values: list[Cell]
    note: str
    submitted_at: Any


@dataclass(slots=True)
class DisagreementRow:
    item: QueueItem
    preview: Any  # steps.pages.timeline.Preview of step (A)
    ratings: list[Rating]
    differing: list[str]  # the rubric items the reviewers disagree on


def shown_value(value: Any, item: RubricItem, *, pairwise: bool = False) -> str:
    """A score as a person reads it (templates escape it): yes/no, a scale point with its word, A/B/tie."""
    if value is None:
        return MISSING
    if pairwise and item.kind != RubricItem.Kind.TEXT:
        return PAIRWISE_WORDS.get(value, str(value)) if isinstance(value, str) else str(value)
    if item.kind == RubricItem.Kind.THUMBS:
        return str(value)
    if item.kind == RubricItem.Kind.BOOLEAN:
        return {True: "yes", False: "no"}.get(value, str(value)) if isinstance(value, bool) else str(value)
    if item.kind == RubricItem.Kind.SCALE and item.choice_labels and value in item.choices:
        word = (
            item.choice_labels[item.choices.index(value)]
            if item.choices.index(value) < len(item.choice_labels)
            else ""
        )
        return f"{value} · {word}" if word else str(value)
    return str(value)


def disagreement_rows(
    queue: Queue, item_ids: list[int], shown: list[str] | None = None
) -> list[DisagreementRow]:
    """The rows of a page of disagreeing items (a few queries, whatever the page's length): the step,
    its preview, and each reviewer's values of the compared rubric items (`shown`: those only)."""

    pairwise = queue.kind == Queue.Kind.PAIRWISE
    rubric = [
        item
        for item in RubricItem.objects.filter(rubric_id=queue.rubric_id)
        if agreement.level_of(item.kind, pairwise=pairwise) and (shown is None or item.name in shown)
    ]
    items = {
        item.pk: item
        # the page keeps item_ids' order (Meta's would join the queue table); the steps' ids are enough
        for item in QueueItem.objects.filter(queue_id=queue.pk, pk__in=item_ids).order_by()
    }
    reviews: dict[int, list[Review]] = defaultdict(list)
    for review in (
        Review.objects.filter(item_id__in=list(items))
        .select_related("reviewer")
        .order_by("item_id", "submitted_at")
    ):
        reviews[review.item_id].append(review)
    found = previews([item.step_id for item in items.values()])
    rows = []
    for item_id in item_ids:
        if item_id not in items:
            continue
        given = reviews[item_id]
        scores = [r.scores if isinstance(r.scores, dict) else {} for r in given]
        differing = [
            ri.name
            for ri in rubric
            if len({agreement.comparable(s[ri.name]) for s in scores if s.get(ri.name) is not None}) > 1
        ]
        ratings = [
            Rating(
                reviewer=review.reviewer.get_username(),
                values=[_cell(ri, score.get(ri.name), ri.name in differing, pairwise) for ri in rubric],
                note=review.note[:NOTE_CHARS],
                submitted_at=review.submitted_at,
            )
            for review, score in zip(given, scores, strict=True)
        ]
        rows.append(DisagreementRow(items[item_id], found[items[item_id].step_id], ratings, differing))
    return rows


def _cell(item: RubricItem, value: Any, differs: bool, pairwise: bool) -> Cell:
    thumb = ""
    if item.kind == RubricItem.Kind.THUMBS and not pairwise:
        thumb = {"positive": "up", "negative": "down"}.get(value, "")
    return Cell(item.name, shown_value(value, item, pairwise=pairwise), differs, thumb)


def reviewer_matrix(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The reviewer-by-reviewer table of a report: one row a reviewer (as report["reviewers"]),
    its cells the pair's {"percent", "n"} for every reviewer, None on the diagonal and where the
    two never reviewed the same step."""
    pairs = {(p["a"], p["b"]): p for p in report["pairs"]}
    ids = [r["id"] for r in report["reviewers"]]
    rows = []
    for reviewer in report["reviewers"]:
        cells = []
        for other in ids:
            pair = pairs.get((reviewer["id"], other)) or pairs.get((other, reviewer["id"]))
            cells.append(
                {"percent": pair["percent"], "n": pair["n"]} if pair and other != reviewer["id"] else None
            )
        rows.append({"reviewer": reviewer, "cells": cells})
    return rows
