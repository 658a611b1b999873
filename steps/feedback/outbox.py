"""Votes and tags written back to Letta, never lost (docs/letta-api.md §1.5).

Letta's PATCH overwrites `feedback` every time (omitting it clears the vote) and replaces
`tags` only when the list is non-empty, so every push sends the full intended vote, and tags
only where a reviewer set them here: a vote alone leaves Letta's tags as they are (a pending
step's mirror may not know them yet). A tag list emptied here cannot reach Letta (we say so).

Durability: a vote and its FeedbackPush are committed together; delivery happens after the
commit (Celery task) and again from a periodic sweep, so a killed worker or a lost broker
message delays a vote but never loses it. Per step, pushes are delivered one at a time,
newest first, older undelivered ones superseded: the last click always wins.

Conflicts: before writing, the step is read back from Letta; if its vote is neither what the
mirror last knew nor a value we sent ourselves (see values_we_sent: a PATCH whose answer was
lost may have landed), someone else changed it, and the reviewer decides (nothing is
overwritten in either direction). The sync flags the same when it sees such a change.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import audit, facets, taskqueue
from ..models import FeedbackPush, Step, StepVote, mark_dirty
from ..models.feedback import FEEDBACK_VALUES
from ..sync.conflicts import PUSH_COLUMNS, sent_among
from ..sync.upstream import (
    LettaClient,
    UpstreamAuthError,
    UpstreamError,
    UpstreamNotFound,
    UpstreamUnavailable,
    process_client,
)

log = logging.getLogger(__name__)

# A push is one GET and one PATCH with a short timeout and no client-side retries (the
# outbox retries, with backoff): the claim outlives that, and a worker killed mid-push has
# its push taken over by the sweep soon after.
PUSH_TIMEOUT_SECONDS = 10.0
CLAIM_SECONDS = 3 * PUSH_TIMEOUT_SECONDS + 5


@contextlib.contextmanager
def push_client() -> Iterator[LettaClient]:
    """The client for one task's pushes: `with push_client() as client:`. The worker process's
    own (one per process, reused by every task: upstream.process_client), left open on exit;
    it checks the demo simulator's identity again first, as a client made per task did."""
    client = process_client(timeout=PUSH_TIMEOUT_SECONDS, max_retries=0)
    client.recheck_identity()
    yield client


RETRY_BASE_SECONDS, RETRY_CAP_SECONDS = 5.0, 300.0
# A push's last_error when Letta answers 404: a sentence, not Letta's 600-character detail.
GONE_ERROR = "Letta no longer has this step (deleted there): the vote is kept here but cannot be sent."

Unchanged = object()  # "leave as it is", distinct from None / [] which mean "clear"


def clean_tags(tags: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for tag in tags:
        tag = str(tag).strip()[:100]
        if tag:
            seen[tag] = None
    return list(seen)


def _enqueue(step_ids: list[str]) -> None:
    """Push these steps' votes in a worker once the vote is committed; a broker that is down only
    leaves them to the sweep (steps/taskqueue.py)."""
    taskqueue.send_on_commit("steps.tasks.push_feedback", list(step_ids))


# --- casting ------------------------------------------------------------------------------


def cast_vote(
    step: Step,
    *,
    user,
    feedback=Unchanged,
    tags=Unchanged,
    source: str = "click",
    batch=None,
    enqueue: bool = True,
) -> FeedbackPush:
    """Record the intended vote and/or tags and queue their delivery, in one transaction."""
    if feedback is not Unchanged and feedback not in ("", *FEEDBACK_VALUES):
        raise ValueError(f"feedback must be positive, negative or empty, not {feedback!r}")
    # Facet counts follow tags (a vote's feedback is no facet): a vote alone skips their four reads.
    counting = facets.tracking([step.pk]) if tags is not Unchanged else contextlib.nullcontext()
    with transaction.atomic(), counting:
        vote = StepVote.objects.select_for_update().filter(step=step).first()
        if vote is None:
            # Tags stay Letta's (None) until a reviewer edits them: the mirror's copy may lag.
            vote = StepVote(step=step, feedback=step.feedback)
        before = {"feedback": vote.feedback, "tags": _tags_shown(vote, step)}
        if feedback is not Unchanged:
            vote.feedback = feedback
            vote.voted_by, vote.voted_at = user, timezone.now()
        if tags is not Unchanged:
            vote.tags = clean_tags(tags)
        # Voting again is the reviewer deciding: a pending conflict is settled by it.
        vote.conflict_feedback, vote.conflict_tags, vote.conflict_seen_at = "", None, None
        vote.save()
        push = FeedbackPush.objects.create(
            step=step, feedback=vote.feedback, tags=vote.tags, created_by=user, source=source, batch=batch
        )
        if batch is None:  # a bulk action is one event of its own (bulk.py), not one per step
            _audit(user, step, source, before, {"feedback": vote.feedback, "tags": _tags_shown(vote, step)})
        mark_dirty([step.step_time])  # the feedback counts of its hour
        if enqueue:
            _enqueue([step.pk])
            _enqueue_rollups()
    return push


def _tags_shown(vote: StepVote, step: Step) -> list[str]:
    # None: the step's tags are still Letta's (what the page shows)
    return list(vote.tags if vote.tags is not None else (getattr(step, "tags", None) or []))


AUDIT_ACTIONS = {"retry": "vote.retry", "conflict": "vote.resolve", "tags": "tags.change"}


def _audit(user, step: Step, source: str, before: dict, after: dict) -> None:
    action = AUDIT_ACTIONS.get(source)
    if action is None:  # a click, a key, the API: a vote, a tag edit, or both
        action = (
            "vote.cast"
            if before["feedback"] != after["feedback"] or before["tags"] == after["tags"]
            else "tags.change"
        )
    if action == "vote.cast" and before["tags"] == after["tags"]:
        before, after = {"feedback": before["feedback"]}, {"feedback": after["feedback"]}
    elif action == "tags.change" and before["feedback"] == after["feedback"]:
        before, after = {"tags": before["tags"]}, {"tags": after["tags"]}
    audit.record(user, action, step, before, after)


def _update_rollups() -> None:
    from ..overview.rollup import flush

    flush()


# A vote's hour is recomputed by a worker, never in the request: recomputing an hour, its day and
# its week was 36 of a vote's 54 queries and six commits, and concurrent votes' recomputes waited
# on each other's day and week rows (docs/benchmarks.md, capacity). One flush per this many
# seconds per web process takes the hours of every vote cast meanwhile: with a flush per vote,
# 20 reviewers' votes cost PostgreSQL 2.5 ms per request of the whole mix (pg_stat_statements).
# The overview shows a vote this much later at most (it keeps a drawing up to
# ROLLUP_DRAWING_MAX_AGE anyway); the list and step pages read the vote itself, at once.
ROLLUP_FLUSH_DELAY_SECONDS = 3.0


def _enqueue_rollups() -> None:
    taskqueue.send_once_within("steps.tasks.update_rollups", ROLLUP_FLUSH_DELAY_SECONDS)


def toggle_vote(step: Step, *, user, value: str, source: str = "click") -> FeedbackPush:
    """One click: vote `value`, or clear it when it is already the vote."""
    current = StepVote.objects.filter(step=step).values_list("feedback", flat=True).first()
    if current is None:
        current = step.feedback
    return cast_vote(step, user=user, feedback="" if current == value else value, source=source)


def retry(step: Step, *, user) -> FeedbackPush:
    """Send the intended state again (after a failure, or from the admin)."""
    return cast_vote(step, user=user, source="retry")


def resolve_conflict(step: Step, *, user, keep: str) -> FeedbackPush | None:
    """`keep="mine"` writes our vote over theirs; `keep="theirs"` adopts Letta's."""
    vote = StepVote.objects.get(step=step)
    if keep == "mine":
        return cast_vote(step, user=user, source="conflict")
    before = {"feedback": vote.feedback, "keep": "theirs"}
    vote.feedback = vote.conflict_feedback
    vote.tags = None  # Letta's, which the mirror holds since the conflict was seen
    vote.conflict_feedback, vote.conflict_tags, vote.conflict_seen_at = "", None, None
    vote.voted_by, vote.voted_at = user, timezone.now()
    with transaction.atomic(), facets.tracking([step.pk]):
        vote.save()
        mark_dirty([step.step_time])
        FeedbackPush.objects.filter(step=step, status=FeedbackPush.Status.CONFLICT).update(
            status=FeedbackPush.Status.SUPERSEDED, last_error="Letta's vote was kept"
        )
        audit.record(user, "vote.resolve", step, before, {"feedback": vote.feedback, "keep": "theirs"})
        _enqueue_rollups()
    return None


# --- delivery -----------------------------------------------------------------------------


def _claim_newest(step_id: str) -> FeedbackPush | None:
    """Take the step's newest undelivered push, superseding older ones, unless another
    worker is writing this step right now (pushes of one step go out one at a time)."""
    now = timezone.now()
    with transaction.atomic():
        Step.objects.select_for_update().filter(pk=step_id).exists()  # serialises claims per step
        pushes = FeedbackPush.objects.filter(step_id=step_id)
        if pushes.filter(status=FeedbackPush.Status.IN_FLIGHT, claimed_until__gt=now).exists():
            return None
        newest = pushes.filter(status__in=FeedbackPush.OPEN_STATUSES).order_by("-id").first()
        if newest is None or newest.not_before > now:
            return None
        pushes.filter(status__in=FeedbackPush.OPEN_STATUSES, id__lt=newest.id).update(
            status=FeedbackPush.Status.SUPERSEDED, claimed_until=None
        )
        newest.status, newest.claimed_until = (
            FeedbackPush.Status.IN_FLIGHT,
            now + timedelta(seconds=CLAIM_SECONDS),
        )
        newest.save(update_fields=["status", "claimed_until"])
        return newest


def deliver(client: LettaClient, step_id: str) -> float | None:
    """Deliver the step's newest push, then any that arrived meanwhile.

    Returns the seconds until a retry when Letta could not be reached, else None. Nothing
    due, or another worker busy with the step, is None too: that worker delivers what is
    newest when it finishes, and the sweep delivers what comes due later.
    """
    while (push := _claim_newest(step_id)) is not None:
        delay = _deliver_one(client, push)
        if delay is not None:
            return delay
    return None


def _deliver_one(client: LettaClient, push: FeedbackPush) -> float | None:
    step = Step.objects.get(pk=push.step_id)
    try:
        current = client.get_step(step.pk)
        ours = values_we_sent(step.pk)
        upstream_vote, upstream_tags = current.get("feedback") or "", current.get("tags") or []
        vote_moved = upstream_vote not in {step.feedback, push.feedback, *(vote for vote, _ in ours)}
        tags_moved = upstream_tags not in [step.tags, push.tags, *(tags for _, tags in ours)]
        if vote_moved or (tags_moved and push.tags):
            _record_conflict(step, push, current)
            return None
        # Committed before the PATCH: if its answer is lost, Letta may hold this value anyway.
        FeedbackPush.objects.filter(pk=push.pk).update(sent_at=timezone.now())
        returned = client.patch_feedback(step.pk, feedback=push.feedback or None, tags=push.tags)
    except (UpstreamUnavailable, UpstreamAuthError) as exc:
        return _retry_later(push, exc)
    except UpstreamNotFound:
        _step_gone(push)
        return None
    except UpstreamError as exc:
        # 422, 400: asking again will not help; show why.
        push.status, push.last_error, push.claimed_until = FeedbackPush.Status.FAILED, str(exc)[:2000], None
        push.save(update_fields=["status", "last_error", "claimed_until"])
        return None
    with transaction.atomic(), facets.tracking([step.pk]):
        step.apply_payload(returned)
        step.last_synced_at = timezone.now()
        step.save(update_fields=Step.synced_fields())
        mark_dirty([step.step_time])
        push.status, push.done_at, push.claimed_until, push.last_error = (
            FeedbackPush.Status.DONE,
            timezone.now(),
            None,
            "",
        )
        if push.tags == [] and step.tags:  # removed here; None is a vote that left tags alone
            push.note = f"Letta cannot clear tags; it still has: {', '.join(step.tags)}"
        push.save(update_fields=["status", "done_at", "claimed_until", "last_error", "note"])
    return None


def _step_gone(push: FeedbackPush) -> None:
    """The step was deleted in Letta: the push ends (no retry can succeed) and the step is
    marked, which keeps it out of the unreviewed list. The vote stays."""
    with transaction.atomic():
        Step.objects.filter(pk=push.step_id).mark_gone_upstream()
        push.status, push.last_error, push.claimed_until = FeedbackPush.Status.GONE, GONE_ERROR, None
        push.save(update_fields=["status", "last_error", "claimed_until"])
    log.info("Feedback for %s not sent: the step is gone from Letta", push.step_id)


def values_we_sent(step_id: str) -> list[tuple[str, list[str] | None]]:
    """Every (vote, tags) Letta may hold for this step because we wrote it: the last write it
    confirmed, and each one sent after it whose answer never came back (timeout, cut-off body,
    killed worker; the PATCH may have landed all the same). Letta holding any of them is our
    doing, never someone else's. The mirror may lag behind all of them."""
    return sent_among(FeedbackPush.objects.filter(step_id=step_id).values(*PUSH_COLUMNS))


def _retry_later(push: FeedbackPush, exc: UpstreamError) -> float:
    delay = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** min(push.attempts, 10))
    push.status, push.claimed_until = FeedbackPush.Status.PENDING, None
    push.attempts += 1
    push.not_before = timezone.now() + timedelta(seconds=delay)
    push.last_error = str(exc)[:2000]
    push.save(update_fields=["status", "claimed_until", "attempts", "not_before", "last_error"])
    log.warning("Feedback for %s not delivered (%s); retrying in %.0f s", push.step_id, exc, delay)
    return delay


def _record_conflict(step: Step, push: FeedbackPush, upstream: dict) -> None:
    with transaction.atomic(), facets.tracking([step.pk]):
        step.apply_payload(upstream)
        step.save(update_fields=Step.synced_fields())
        mark_dirty([step.step_time])
        StepVote.objects.filter(step=step).update(
            conflict_feedback=step.feedback, conflict_tags=list(step.tags), conflict_seen_at=timezone.now()
        )
        push.status, push.claimed_until = FeedbackPush.Status.CONFLICT, None
        push.last_error = (
            f"Letta's vote or tags changed (now {step.feedback or 'no vote'}, tags {step.tags or 'none'}) "
            "since this page was read"
        )
        push.save(update_fields=["status", "claimed_until", "last_error"])


def due_step_ids(limit: int = 200) -> list[str]:
    """Steps with an undelivered push that is due, or whose worker died holding it."""
    now = timezone.now()
    stale = Q(status=FeedbackPush.Status.IN_FLIGHT, claimed_until__lt=now)
    due = Q(status=FeedbackPush.Status.PENDING, not_before__lte=now)
    FeedbackPush.objects.filter(stale).update(status=FeedbackPush.Status.PENDING, claimed_until=None)
    ids = FeedbackPush.objects.filter(due | stale).order_by("not_before").values_list("step_id", flat=True)
    return list(dict.fromkeys(ids[: limit * 4]))[:limit]
