"""Streaming exports of a filtered step set: CSV, JSONL and fine-tuning JSONL.

The API and the page call the same two functions::

    export_from_query(params, fmt, include_traces=...)  # the list's query string -> response, or
                                                        # ExportRequestError with the form's message
    stream_export(queryset, fmt, sort=..., include_traces=..., filename=...)  # any step queryset

Nothing is buffered: the body is a generator that reads a chunk of steps (``walk``), writes it and
forgets it, so memory stays flat whatever the row count, and there is no temp file and no row cap.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from django.http import QueryDict, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

from ..filters import SORT_CHOICES, StepFilterForm, list_query
from ..models import Step
from ..querysets import StepQuerySet
from .finetune import Skipped, finetune_example
from .rows import BOM, csv_header, csv_row, csv_text, jsonl_line, jsonl_object
from .walk import keyset_chunks, records

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Format:
    label: str
    content_type: str
    extension: str
    # steps a chunk: a CSV row is small; traces can be a megabyte a step
    chunk: int


FORMATS = {
    "csv": Format("CSV", "text/csv; charset=utf-8", "csv", 1000),
    "jsonl": Format("JSONL", "application/x-ndjson; charset=utf-8", "jsonl", 500),
    "finetune": Format("Fine-tuning JSONL", "application/x-ndjson; charset=utf-8", "jsonl", 50),
}
TRACES_CHUNK = 50


class ExportRequestError(ValueError):
    """A request that must not become an export (unknown format, invalid filter); the message is
    written for the person or script that sent it."""


@dataclass
class ExportStats:
    """What a finished (or stopped) export wrote; the body fills it while it streams."""

    fmt: str
    steps: int = 0  # steps read
    written: int = 0  # rows or lines written, header excluded
    skipped: Counter = field(default_factory=Counter)  # fine-tuning: reason -> steps without an example
    finished: bool = False


def export_from_query(
    params: QueryDict, fmt: str, *, include_traces: bool = False, bom: bool = True
) -> StreamingHttpResponse:
    """The export of the list page's query string (filters and sort; paging ignored).

    An invalid filter raises instead of being left out as the list does: exporting "everything"
    because of a typo in a hand-edited URL would be a silent, large mistake.
    """
    if fmt not in FORMATS:
        raise ExportRequestError(f"Unknown export format “{fmt[:40]}”: use one of {', '.join(FORMATS)}.")
    form = StepFilterForm(QueryDict(list_query(params)))
    if problems := form.problems:
        label, value, problem = problems[0]
        raise ExportRequestError(f"Fix the filter first: {label} “{value[:40]}” is not valid ({problem})")
    return stream_export(
        form.filter(Step.objects.all()),
        fmt,
        sort=form.sort_order(),
        include_traces=include_traces,
        filename=export_filename(form, fmt),
        bom=bom,
    )


def stream_export(
    queryset: StepQuerySet,
    fmt: str,
    *,
    sort: str = "-time",
    include_traces: bool = False,
    filename: str | None = None,
    bom: bool = True,
) -> StreamingHttpResponse:
    """A download of `queryset` in `sort` order (a key of querysets.SORTS). `include_traces` adds
    each step's provider traces to JSONL lines; `bom` starts a CSV with a UTF-8 BOM (for Excel).
    ``response.export_stats`` holds the counts once the body has been read."""
    spec = FORMATS[fmt]
    stats = ExportStats(fmt)
    body = export_body(queryset, fmt, sort=sort, include_traces=include_traces, bom=bom, stats=stats)
    response = StreamingHttpResponse(body, content_type=spec.content_type)
    response["Content-Disposition"] = content_disposition_header(
        True, filename or f"letta-steps_{timezone.localdate().isoformat()}.{spec.extension}"
    )
    # the data is as sensitive as the pages; and a proxy must pass chunks on, not collect them
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    response.export_stats = stats  # type: ignore[attr-defined]
    return response


def export_body(
    queryset: StepQuerySet,
    fmt: str,
    *,
    sort: str = "-time",
    include_traces: bool = False,
    bom: bool = True,
    stats: ExportStats | None = None,
) -> Iterator[bytes]:
    """The file, one encoded chunk of steps at a time."""
    stats = stats or ExportStats(fmt)
    size = TRACES_CHUNK if include_traces and fmt == "jsonl" else FORMATS[fmt].chunk
    try:
        if fmt == "csv":
            yield ((BOM if bom else "") + csv_text([csv_header()])).encode()
        for rows in keyset_chunks(queryset, sort, size):
            stats.steps += len(rows)
            yield _chunk(rows, fmt, include_traces, stats).encode()
        stats.finished = True
    finally:
        # also when the client goes away: the generator is closed and says how far it got
        skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(stats.skipped.items()))
        logger.info(
            "export %s %s: %d steps read, %d written%s",
            fmt,
            "finished" if stats.finished else "stopped",
            stats.steps,
            stats.written,
            f", skipped {skipped}" if skipped else "",
        )


def _chunk(rows: list[dict], fmt: str, include_traces: bool, stats: ExportStats) -> str:
    if fmt == "csv":
        found = records(rows, texts=True)
        stats.written += len(found)
        return csv_text(csv_row(r) for r in found)
    if fmt == "jsonl":
        found = records(rows, messages=True, traces=include_traces)
        stats.written += len(found)
        return "".join(jsonl_line(jsonl_object(r, include_traces=include_traces)) for r in found)
    lines = []
    for record in records(rows, traces=True, people=False):
        try:
            lines.append(jsonl_line(finetune_example(record.traces)))
        except Skipped as skipped:
            stats.skipped[skipped.reason] += 1
    stats.written += len(lines)
    return "".join(lines)


# --- the file's name -------------------------------------------------------------------------

FILENAME_NAMES = {"q": "search"}
SORT_NAMES = {value: label for value, label in SORT_CHOICES}
UNSAFE = re.compile(r"[^\w.]+")


def export_filename(form: StepFilterForm, fmt: str, today: date | None = None) -> str:
    """What was exported, e.g. ``letta-steps_agent-support_status-failed_2026-12-02.csv``: each
    filter in use (values cut to 40 characters, anything but letters, digits and dots made a dash)."""
    form.is_valid()
    parts = ["letta-finetune" if fmt == "finetune" else "letta-steps"]
    for name, value in form.cleaned_data.items():
        if name in form.NOT_FILTERS or value in (None, False, ""):
            continue
        name = FILENAME_NAMES.get(name, name)
        if value is True:
            parts.append(_clean(name))
        else:
            if isinstance(value, datetime):
                value = timezone.localtime(value).strftime("%Y-%m-%dT%H%M")
            text = _clean(str(value))[:40].strip("-.")
            parts.append(f"{_clean(name)}-{text}" if text else _clean(name))
    sort = form.sort_order()
    if sort != "-time":
        parts.append("sort-" + _clean(SORT_NAMES[sort]).lower())
    parts.append((today or timezone.localdate()).isoformat())
    stem = "_".join(p for p in parts if p.strip("-"))
    return f"{stem[:180]}.{FORMATS[fmt].extension}"


def _clean(text: str) -> str:
    return UNSAFE.sub("-", text.replace("_", "-")).strip("-.")
