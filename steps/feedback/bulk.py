"""One vote or tag change for many steps (FeedbackBatch): queued by a request, applied by a worker
in short transactions through the outbox's cast_vote."""

from __future__ import annotations

from celery import current_app
from django.db import models, transaction
from django.utils import timezone

from .. import facets
from ..models import FeedbackBatch, FeedbackPush, Step
from .outbox import Unchanged, _enqueue, _update_rollups, cast_vote, clean_tags

BULK_CHUNK = 500


def start_bulk(
    *, user, action: str, feedback=Unchanged, add_tags=(), remove_tags=(), step_ids=None, query: str = ""
) -> FeedbackBatch:
    """Queue one vote or tag change for many steps: the selected ids, or every step matching
    a list filter (its query string). The work runs in a worker; the request returns at once."""
    params = {"add_tags": clean_tags(add_tags), "remove_tags": clean_tags(remove_tags)}
    if feedback is not Unchanged:
        params["feedback"] = feedback
    if step_ids is not None:
        params["step_ids"] = list(dict.fromkeys(step_ids))
    else:
        params["query"] = query
    with transaction.atomic():
        batch = FeedbackBatch.objects.create(created_by=user, action=action, params=params)
        batch.total = len(params["step_ids"]) if "step_ids" in params else _matching(query).count()
        batch.save(update_fields=["total"])
        transaction.on_commit(lambda: _enqueue_bulk(batch.pk))
    return batch


def _enqueue_bulk(batch_id: int) -> None:
    # by name, as outbox._enqueue (which says why)
    current_app.tasks["steps.tasks.apply_bulk_feedback"].delay(batch_id)


def _matching(query: str):
    from django.http import QueryDict

    from ..filters import StepFilterForm

    return StepFilterForm(QueryDict(query)).filter(Step.objects.all())


def apply_bulk(batch: FeedbackBatch) -> None:
    """Worker side of start_bulk: short transactions of BULK_CHUNK steps, progress saved after each."""
    params = batch.params
    feedback = params.get("feedback", Unchanged)
    add, remove = params.get("add_tags", []), set(params.get("remove_tags", []))
    if "step_ids" in params:
        chunks = (
            params["step_ids"][i : i + BULK_CHUNK] for i in range(0, len(params["step_ids"]), BULK_CHUNK)
        )
    else:
        ids = _matching(params.get("query", "")).order_by("pk").values_list("pk", flat=True)
        chunks = _chunked(ids.iterator(chunk_size=BULK_CHUNK), BULK_CHUNK)
    user = batch.created_by
    for chunk in chunks:
        # one facet count update per chunk (the cast_vote calls inside add nothing of their own)
        with transaction.atomic(), facets.tracking(chunk):
            for step in Step.objects.filter(pk__in=chunk).select_related("vote"):
                current = getattr(step, "vote", None)
                tags = [t for t in (current.tags if current else step.tags) if t not in remove] + add
                cast_vote(
                    step,
                    user=user,
                    feedback=feedback,
                    tags=tags if (add or remove) else Unchanged,
                    source="bulk",
                    batch=batch,
                    enqueue=False,
                )
            transaction.on_commit(lambda chunk=chunk: _enqueue(chunk))
        _update_rollups()
        FeedbackBatch.objects.filter(pk=batch.pk).update(applied=models.F("applied") + len(chunk))
    FeedbackBatch.objects.filter(pk=batch.pk).update(finished_at=timezone.now())


def _chunked(iterable, size):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def batch_progress(batch: FeedbackBatch) -> dict[str, int]:
    """How far a bulk action got: steps applied locally, then their pushes by state
    (a push replaced by a later vote on the same step counts as delivered)."""
    counts = {"total": batch.total, "applied": batch.applied, "done": 0, "saving": 0, "failed": 0}
    by_status = FeedbackPush.objects.filter(batch=batch).values("status").annotate(n=models.Count("id"))
    for row in by_status:
        if row["status"] in (FeedbackPush.Status.DONE, FeedbackPush.Status.SUPERSEDED):
            counts["done"] += row["n"]
        elif row["status"] in FeedbackPush.OPEN_STATUSES:
            counts["saving"] += row["n"]
        else:
            counts["failed"] += row["n"]
    return counts
