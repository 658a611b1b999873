"""One vote or tag change for many steps (FeedbackBatch): queued by a request, applied by a worker
in short transactions through the outbox's cast_vote.

The batch row is the durable part, as a FeedbackPush is for one vote: a worker claims it for a
while (renewed after each chunk), and the feedback sweep sends any batch left unfinished and
unclaimed (its message never queued because the broker was down, or its worker killed) to a
worker again. Applying resumes: a step that already has this batch's push is not voted again.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from .. import audit, facets, taskqueue
from ..models import FeedbackBatch, FeedbackPush, Step
from .outbox import Unchanged, _enqueue, _update_rollups, cast_vote, clean_tags

BULK_CHUNK = 500
# A worker's hold on a batch, renewed after every chunk (a chunk takes seconds): a killed
# worker's batch is sent to another this long after its last chunk at most.
CLAIM_SECONDS = 120
# A new batch's own message normally reaches a worker well within this; after it, the sweep
# sends the batch again (a duplicate finds the batch claimed and returns).
UNQUEUED_AFTER_SECONDS = 30


def start_bulk(
    *, user, action: str, feedback=Unchanged, add_tags=(), remove_tags=(), step_ids=None, query: str = ""
) -> FeedbackBatch:
    """Queue one vote or tag change for many steps: the selected ids, or every step matching
    a list filter (its query string). The work runs in a worker; the request returns at once,
    the batch recorded whether or not the broker took its message (the sweep sends it later)."""
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
        audit.record(
            user,
            "bulk.start",
            ("bulk", batch.pk, f"bulk #{batch.pk}"),
            None,
            {"action": action, "steps": batch.total, **params},
        )
        taskqueue.send_on_commit("steps.tasks.apply_bulk_feedback", batch.pk)
    return batch


def unfinished_batch_ids(now=None, limit: int = 20) -> list[int]:
    """Batches nobody is applying: unfinished, unclaimed or whose worker's claim ran out, and old
    enough that their own message should have been taken already."""
    now = now or timezone.now()
    stranded = FeedbackBatch.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        finished_at__isnull=True,
        created_at__lt=now - timedelta(seconds=UNQUEUED_AFTER_SECONDS),
    )
    return list(stranded.order_by("created_at").values_list("pk", flat=True)[:limit])


def _claim(batch: FeedbackBatch) -> bool:
    """Take the batch for this worker (a conditional UPDATE: one worker at a time)."""
    now = timezone.now()
    return bool(
        FeedbackBatch.objects.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(pk=batch.pk, finished_at__isnull=True)
        .update(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
    )


def _matching(query: str):
    from django.http import QueryDict

    from ..filters import StepFilterForm

    return StepFilterForm(QueryDict(query)).filter(Step.objects.all())


def apply_bulk(batch: FeedbackBatch) -> None:
    """Worker side of start_bulk: short transactions of BULK_CHUNK steps, progress saved with each.
    Safe to run twice, or after a worker died halfway: the batch is claimed, and a step that
    already has this batch's push is skipped."""
    if not _claim(batch):
        return  # finished, or another worker is applying it
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
            # Locked while the chunk is applied: had our claim run out under a slow chunk, a
            # second worker waits here, then sees this chunk's pushes and skips its steps.
            FeedbackBatch.objects.select_for_update().filter(pk=batch.pk).exists()
            applied = set(
                FeedbackPush.objects.filter(batch=batch, step_id__in=chunk).values_list("step_id", flat=True)
            )
            todo = [step_id for step_id in chunk if step_id not in applied]
            for step in Step.objects.filter(pk__in=todo).select_related("vote"):
                current = getattr(step, "vote", None)
                base = current.tags if current and current.tags is not None else step.tags
                tags = [t for t in base if t not in remove] + add
                cast_vote(
                    step,
                    user=user,
                    feedback=feedback,
                    tags=tags if (add or remove) else Unchanged,
                    source="bulk",
                    batch=batch,
                    enqueue=False,
                )
            if todo:
                _enqueue(todo)
            FeedbackBatch.objects.filter(pk=batch.pk).update(
                applied=models.F("applied") + len(todo),
                claimed_until=timezone.now() + timedelta(seconds=CLAIM_SECONDS),
            )
        _update_rollups()
    FeedbackBatch.objects.filter(pk=batch.pk).update(finished_at=timezone.now(), claimed_until=None)


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
    (a push replaced by a later vote on the same step counts as delivered; a step deleted in
    Letta is neither delivered nor a failure to retry)."""
    counts = {"total": batch.total, "applied": batch.applied, "done": 0, "saving": 0, "failed": 0, "gone": 0}
    by_status = FeedbackPush.objects.filter(batch=batch).values("status").annotate(n=models.Count("id"))
    for row in by_status:
        if row["status"] in (FeedbackPush.Status.DONE, FeedbackPush.Status.SUPERSEDED):
            counts["done"] += row["n"]
        elif row["status"] in FeedbackPush.OPEN_STATUSES:
            counts["saving"] += row["n"]
        elif row["status"] == FeedbackPush.Status.GONE:
            counts["gone"] += row["n"]
        else:
            counts["failed"] += row["n"]
    return counts
