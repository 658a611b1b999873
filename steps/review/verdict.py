"""One verdict per item from its reviews, and its way to Letta.

Policy, per rubric item: the most given value for thumbs, labels, yes/no and pairwise choices; the
median for a scale; free text is never aggregated (each reviewer's stays on their review). A tie
on the thumbs item, or on a labels item that becomes a Letta tag, is a manager's to decide
(state "adjudicate"); any other tie leaves that item without a verdict (null). A pairwise A/B tie
is "tie".

The verdict goes to Letta through the outbox (steps.feedback.cast_vote, source "queue"): the
thumbs verdict as the step's feedback (when the queue says so), labels as "item:value" tags
merged with the step's current tags. Delivery is the outbox's: once, retried, and never over a
value someone else set in Letta after ours (the push then ends as a conflict for a person).
"""

from __future__ import annotations

import statistics
from collections import Counter

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .. import audit, feedback
from ..access import MANAGER_REFUSED, RoleRequired, can_manage
from ..models import StepVote
from . import rubrics
from .models import Queue, QueueItem, Review, RubricItem

Kind = RubricItem.Kind
TIE = object()  # no majority


def _majority(values: list):
    counts = Counter(values).most_common()
    if not counts:
        return None
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        return TIE
    return counts[0][0]


def _median(values: list[int]):
    middle = statistics.median(values)
    return int(middle) if float(middle).is_integer() else middle


def combine(
    rubric_items: list[RubricItem], scores: list[dict], *, pairwise: bool, tag_items=()
) -> tuple[dict, bool]:
    """(verdict, needs a manager) from the reviews' scores. Pure: the tests feed it dicts."""
    verdict, undecided = {}, False
    for item in rubric_items:
        if item.kind == Kind.TEXT:
            continue
        values = [s[item.name] for s in scores if s.get(item.name) is not None]
        if not values:
            verdict[item.name] = None
            continue
        if pairwise:
            counts = Counter(values)
            a, b = counts.get("a", 0), counts.get("b", 0)
            verdict[item.name] = "a" if a > b else "b" if b > a else "tie"
            continue
        if item.kind == Kind.SCALE:
            verdict[item.name] = _median(values)
            continue
        value = _majority(values)
        if value is TIE:
            value = None
            if item.kind == Kind.THUMBS or item.name in tag_items:
                undecided = True
        verdict[item.name] = value
    return verdict, undecided


def resolve(item: QueueItem) -> QueueItem:
    """Settle an item whose reviews reached k. Call with the item row locked, inside the
    transaction that saved the last review (submit_review does), so two last reviews at once
    resolve it once. Moves the queue's counters in that transaction."""
    queue = Queue.objects.select_related("rubric").get(pk=item.queue_id)
    pairwise = queue.kind == Queue.Kind.PAIRWISE
    scores = list(
        Review.objects.filter(item=item).order_by("submitted_at", "pk").values_list("scores", flat=True)
    )
    verdict, undecided = combine(
        rubrics.items_of(queue.rubric), scores, pairwise=pairwise, tag_items=queue.tag_items
    )
    item.verdict = verdict
    item.reserved_by, item.reserved_until, item.reserved_at = None, None, None
    if undecided:
        item.state = QueueItem.State.ADJUDICATE
        item.save(update_fields=["verdict", "state", "reserved_by", "reserved_until", "reserved_at"])
        Queue.objects.filter(pk=queue.pk).update(items_adjudicate=F("items_adjudicate") + 1)
        return item
    _finish(item, queue, verdict)
    return item


def _finish(item: QueueItem, queue: Queue, verdict: dict, user=None) -> None:
    item.state, item.verdict, item.resolved_at = QueueItem.State.DONE, verdict, timezone.now()
    item.push, item.write_note = write_back(item, queue, verdict, user=user)
    item.save(
        update_fields=[
            "state",
            "verdict",
            "resolved_at",
            "adjudicated_by",
            "push",
            "write_note",
            "reserved_by",
            "reserved_until",
            "reserved_at",
        ]
    )
    Queue.objects.filter(pk=queue.pk).update(items_done=F("items_done") + 1)


def adjudicate(item: QueueItem, user, verdict: dict) -> QueueItem:
    """A manager decides an item the reviewers tied on: `verdict` gives the undecided values
    (and may correct others); the rest stays as the reviewers' majority. Then it goes to Letta."""
    if not can_manage(user):
        raise RoleRequired(MANAGER_REFUSED)
    with transaction.atomic():
        item = QueueItem.objects.select_for_update().get(pk=item.pk)
        if item.state != QueueItem.State.ADJUDICATE:
            raise ValidationError("This step is not waiting for a decision.")
        queue = Queue.objects.select_related("rubric").get(pk=item.queue_id)
        pairwise = queue.kind == Queue.Kind.PAIRWISE
        given = rubrics.validate_scores(queue.rubric, verdict, pairwise=pairwise, partial=True)
        rubric_items = rubrics.items_of(queue.rubric)
        names = {i.name for i in rubric_items}
        final = {k: v for k, v in {**(item.verdict or {}), **given}.items() if k in names}
        for rubric_item in rubric_items:
            decides_letta = rubric_item.kind == Kind.THUMBS or rubric_item.name in queue.tag_items
            if decides_letta and final.get(rubric_item.name) is None:
                raise ValidationError({rubric_item.name: ["The reviewers tied here: pick a value."]})
        before = item.verdict
        item.adjudicated_by = user
        _finish(item, queue, final, user=user)
        audit.record(
            user,
            "review.adjudicate",
            ("step", item.step_id, f"{item.step_id} in queue {queue.name}"),
            {"queue": queue.pk, "verdict": before},
            {"queue": queue.pk, "verdict": final},
        )
        Queue.objects.filter(pk=queue.pk).update(items_adjudicate=F("items_adjudicate") - 1)
    return item


def _tags(current: list[str], queue: Queue, verdict: dict) -> list[str] | None:
    """The step's tags with this verdict's "item:value" ones (an earlier value of the same item
    replaced); None when nothing changes."""
    names = [n for n in queue.tag_items if verdict.get(n) is not None]
    if not names:
        return None
    prefixes = tuple(f"{n}:" for n in names)
    new = [t for t in current if not t.startswith(prefixes)] + [f"{n}:{verdict[n]}" for n in names]
    new = feedback.clean_tags(new)
    return None if new == list(current) else new


def write_back(item: QueueItem, queue: Queue, verdict: dict, *, user=None):
    """Record the verdict in the outbox (one FeedbackPush, delivered after the commit). Returns the
    push, or None and the reason nothing was sent."""
    if queue.kind == Queue.Kind.PAIRWISE:
        return None, "Pairwise verdicts stay here (Letta holds one vote per step)."
    step = item.step
    vote = StepVote.objects.filter(step=step).first()
    if vote is not None and vote.conflict_seen_at is not None:
        # Someone changed this step in Letta and nobody has decided yet: a verdict sent now would
        # write over their value. The person resolving the conflict on the step page decides.
        return None, "Not sent: this step's vote was changed in Letta and waits for a decision on its page."
    thumbs = rubrics.names_of_kind(queue.rubric, [Kind.THUMBS])
    value = verdict.get(thumbs[0]) if thumbs and queue.write_feedback else None
    current_feedback = vote.feedback if vote is not None else step.feedback
    new_feedback = value if value and value != current_feedback else feedback.Unchanged
    current_tags = feedback.vote_state(step).tags
    new_tags = _tags(current_tags, queue, verdict)
    if new_feedback is feedback.Unchanged and new_tags is None:
        return None, "Letta already holds this verdict." if (
            value or new_tags is not None
        ) else "Nothing to send."
    by = user or _last_reviewer(item)
    push = feedback.cast_vote(
        step,
        user=by,
        feedback=new_feedback,
        tags=feedback.Unchanged if new_tags is None else new_tags,
        source="queue",
    )
    return push, ""


def _last_reviewer(item: QueueItem):
    review = (
        Review.objects.filter(item=item).select_related("reviewer").order_by("-submitted_at", "-pk").first()
    )
    return review.reviewer if review else None
