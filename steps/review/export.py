"""Exports of a queue: each reviewer's scores and the verdict (CSV, JSONL), and the queue's steps
whose verdict passes a condition (for the fine-tuning export of steps/export/).

Streamed like steps/export/: the body is a generator reading the queue's items in keyset chunks
of (state, position), the order of the ``review_item_next`` index, so chunk 100 costs what chunk 1
does and memory stays flat; each chunk's reviews come in one more query. Items without a review
are left out of CSV (no row to write) and kept in JSONL (their verdict may be a manager's).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator

from django.db.models import F, Q, QuerySet
from django.db.models.fields.json import KeyTransform
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify

from ..export.rows import BOM, csv_text, jsonl_line, safe_cell, utc_text
from ..export.stream import stream_export
from ..models import Step
from . import conditions
from .models import Queue, QueueItem, Review, RubricItem

logger = logging.getLogger(__name__)

CHUNK = 500  # items a query; with k reviews each, a chunk is CHUNK * k review rows
FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "jsonl": ("application/x-ndjson; charset=utf-8", "jsonl"),
}
ITEM_COLUMNS = ("queue_id", "queue", "item_id", "position", "step_id", "step_b_id", "state")
REVIEW_COLUMNS = ("reviewer", "submitted_at_utc", "seconds")
VERDICT_COLUMNS = ("verdict_by", "resolved_at_utc")


class ExportError(ValueError):
    """A request that cannot become this export; the message is for the person who sent it."""


# --- each reviewer's scores and the verdict -----------------------------------------------------


def item_chunks(queue: Queue, size: int | None = None) -> Iterator[list[QueueItem]]:
    """The queue's items in (state, position) order, `size` (CHUNK) at a time."""
    size = size or CHUNK
    items = (
        QueueItem.objects.filter(queue_id=queue.pk)
        .select_related("adjudicated_by")
        .order_by("state", "position")
        .only(
            "id",
            "queue_id",
            "position",
            "step_id",
            "step_b_id",
            "state",
            "verdict",
            "resolved_at",
            "adjudicated_by__username",
        )
    )
    key = None
    while True:
        page = items.filter(TupleGreaterThan(Tuple(F("state"), F("position")), key)) if key else items
        rows = list(page[:size])
        if rows:
            yield rows
        if len(rows) < size:
            return
        key = (rows[-1].state, rows[-1].position)


def reviews_of(items: list[QueueItem]) -> dict[int, list[Review]]:
    found: dict[int, list[Review]] = defaultdict(list)
    rows = (
        Review.objects.filter(item_id__in=[item.pk for item in items])
        .select_related("reviewer")
        .only("item_id", "scores", "note", "submitted_at", "seconds", "reviewer__username")
        .order_by("item_id", "submitted_at", "pk")
    )
    for review in rows:
        found[review.item_id].append(review)
    return found


def csv_header(names: list[str]) -> list[str]:
    return [
        *ITEM_COLUMNS,
        *REVIEW_COLUMNS,
        *(f"score:{n}" for n in names),
        "note",
        *(f"verdict:{n}" for n in names),
        *VERDICT_COLUMNS,
    ]


def _cell(value) -> object:
    # true/false as JSON writes them (a spreadsheet's TRUE would read back as a label)
    if isinstance(value, bool):
        return "true" if value else "false"
    return safe_cell(value)


def csv_rows(queue: Queue, names: list[str], items: list[QueueItem], reviews: dict[int, list[Review]]):
    for item in items:
        verdict = item.verdict if isinstance(item.verdict, dict) else {}
        shared = [
            queue.pk,
            safe_cell(queue.name),
            item.pk,
            item.position,
            item.step_id,
            item.step_b_id or "",
            item.state,
        ]
        tail = [
            *(_cell(verdict.get(n)) for n in names),
            safe_cell(
                item.adjudicated_by.username if item.adjudicated_by else ("policy" if item.verdict else "")
            ),
            utc_text(item.resolved_at),
        ]
        for review in reviews.get(item.pk, ()):
            scores = review.scores if isinstance(review.scores, dict) else {}
            yield [
                *shared,
                safe_cell(review.reviewer.username),
                utc_text(review.submitted_at),
                "" if review.seconds is None else round(review.seconds, 3),
                *(_cell(scores.get(n)) for n in names),
                safe_cell(review.note),
                *tail,
            ]


def jsonl_object(queue: Queue, item: QueueItem, reviews: list[Review]) -> dict:
    return {
        "queue": {"id": queue.pk, "name": queue.name},
        "item": item.pk,
        "position": item.position,
        "step_id": item.step_id,
        "step_b_id": item.step_b_id,
        "state": item.state,
        "verdict": item.verdict,
        "verdict_by": item.adjudicated_by.username
        if item.adjudicated_by
        else ("policy" if item.verdict else None),
        "resolved_at": item.resolved_at.isoformat() if item.resolved_at else None,
        "reviews": [
            {
                "reviewer": review.reviewer.username,
                "scores": review.scores,
                "note": review.note,
                "submitted_at": review.submitted_at.isoformat(),
                "seconds": review.seconds,
            }
            for review in reviews
        ],
    }


def reviews_body(queue: Queue, fmt: str, *, bom: bool = True) -> Iterator[bytes]:
    names = list(
        RubricItem.objects.filter(rubric_id=queue.rubric_id)
        .order_by("position")
        .values_list("name", flat=True)
    )
    written = 0
    finished = False
    try:
        if fmt == "csv":
            yield ((BOM if bom else "") + csv_text([csv_header(names)])).encode()
        for items in item_chunks(queue):
            reviews = reviews_of(items)
            if fmt == "csv":
                rows = list(csv_rows(queue, names, items, reviews))
                written += len(rows)
                yield csv_text(rows).encode()
            else:
                written += len(items)
                yield "".join(
                    jsonl_line(jsonl_object(queue, i, reviews.get(i.pk, []))) for i in items
                ).encode()
        finished = True
    finally:
        logger.info(
            "queue %s reviews export %s %s: %d written",
            queue.pk,
            fmt,
            "finished" if finished else "stopped",
            written,
        )


def reviews_export(queue: Queue, fmt: str, *, bom: bool = True) -> StreamingHttpResponse:
    """The download of every reviewer's scores and the verdicts of `queue`: `fmt` csv (a row a
    review, the item's verdict repeated on each) or jsonl (a line an item, its reviews inside)."""
    if fmt not in FORMATS:
        raise ExportError(f"Unknown format “{fmt[:40]}”: use one of {', '.join(FORMATS)}.")
    content_type, extension = FORMATS[fmt]
    response = StreamingHttpResponse(reviews_body(queue, fmt, bom=bom), content_type=content_type)
    name = f"letta-reviews_{slugify(queue.name)[:60] or 'queue'}-{queue.pk}_{timezone.localdate().isoformat()}.{extension}"
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    return response


# --- the fine-tuning export's verdict condition ---------------------------------------------------


def item_specs(queue: Queue) -> list[conditions.ItemSpec]:
    return [
        conditions.ItemSpec(name, kind, tuple(choices or ()))
        for name, kind, choices in RubricItem.objects.filter(rubric_id=queue.rubric_id).values_list(
            "name", "kind", "choices"
        )
    ]


def parse_condition(queue: Queue, text: str) -> list[conditions.Clause]:
    """The clauses of `text` for this queue's rubric; ExportError says why not."""
    if queue.kind == Queue.Kind.PAIRWISE:
        raise ExportError(
            "A pairwise queue's verdicts choose between two steps: the fine-tuning export takes single-step queues."
        )
    try:
        return conditions.parse(text, item_specs(queue))
    except conditions.ConditionError as error:
        raise ExportError(str(error)) from None


LOOKUPS = {">=": "gte", "<=": "lte", ">": "gt", "<": "lt"}


def passing_items(queue: Queue, clauses: list[conditions.Clause]) -> QuerySet[QueueItem]:
    """The queue's done items whose verdict meets every clause, in SQL (the verdict's keys read
    as JSON, so `accuracy >= 4` compares numbers). Served by review_item_next (queue, state)."""
    # no ordering: the Meta ordering (queue, position) would join the queue table for its own order
    items = QueueItem.objects.filter(queue_id=queue.pk, state=QueueItem.State.DONE).order_by()
    for index, clause in enumerate(clauses):
        alias = f"verdict_{index}"  # an alias, not a lookup path: item names may hold "__"
        items = items.alias(**{alias: KeyTransform(clause.name, "verdict")})
        if clause.op == "=":
            items = items.filter(**{alias: clause.value})
        elif clause.op == "!=":
            items = items.filter(**{f"{alias}__isnull": False}).exclude(**{alias: clause.value})
        else:
            items = items.filter(**{f"{alias}__{LOOKUPS[clause.op]}": clause.value})
    return items


def passing_steps(queue: Queue, clauses: list[conditions.Clause]) -> Q:
    """A filter on Step: the steps of `queue` whose verdict passes (add it to any step queryset)."""
    return Q(pk__in=passing_items(queue, clauses).values("step_id"))


def verdict_filter(queue_id: int | None, condition: str) -> Q:
    """For the step export's `queue` and `condition` parameters: a Step filter, or ExportError."""
    if queue_id is None:
        raise ExportError("A verdict condition needs the queue whose verdicts it reads: add queue=<id>.")
    queue = Queue.objects.filter(pk=queue_id).first()
    if queue is None:
        raise ExportError(f"There is no queue {queue_id}.")
    return passing_steps(queue, parse_condition(queue, condition))


def finetune_export(queue: Queue, condition: str) -> StreamingHttpResponse:
    """Fine-tuning JSONL (steps/export/'s) of the queue's steps whose verdict passes `condition`."""
    clauses = parse_condition(queue, condition)
    steps = Step.objects.filter(passing_steps(queue, clauses))
    name = f"letta-finetune_{slugify(queue.name)[:60] or 'queue'}-{queue.pk}"
    if clauses:
        text = conditions.describe(clauses)
        for op, word in ((">=", "ge"), ("<=", "le"), ("!=", "ne"), (">", "gt"), ("<", "lt"), ("=", "eq")):
            text = text.replace(f" {op} ", f" {word} ")
        name += "_" + slugify(text)[:80]
    return stream_export(steps, "finetune", filename=f"{name}_{timezone.localdate().isoformat()}.jsonl")
