"""Rules: "when a newly synced step matches view V, do A", run inside the sync's batches.

The sync calls `run_rules(step_ids)` (registered with steps/sync/hooks.py) in the transaction that
writes a batch's details, with the batch's newly detailed steps only; never a scan of the table.
Per batch: one query for the enabled rules, then per rule a fixed handful (the view's filter
restricted to the batch's ids, the firing rows, the action, the rule's counters), whatever the
batch's size. Each rule runs in its own savepoint: one rule failing never stops the others.

Idempotent: a RuleFiring (rule, step) row is inserted with ON CONFLICT DO NOTHING ... RETURNING,
and the action applies only to the steps whose row was inserted now, so a re-synced step (or a
batch retried after a crash) never fires a rule twice.

Actions (Rule.Action): "tag" adds tags to the steps' votes and writes them to Letta through the
feedback outbox (a FeedbackPush per step, delivered by the same task as a reviewer's tags);
"notify" writes one Notification for the batch; "queue" adds the steps to a review queue
(steps.review.queues.add_steps: a fixed number of statements per batch). A new action is a
Rule.Action choice and one function in ACTIONS taking (rule, step_ids).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import connection, models, transaction
from django.http import QueryDict
from django.utils import timezone

from .. import facets, taskqueue
from ..feedback import clean_tags
from ..filters import StepFilterForm
from ..models import FeedbackPush, Step, StepVote, mark_dirty
from ..review.queues import add_steps
from ..sync.hooks import on_new_steps
from .models import Notification, Rule, RuleFiring
from .notify import enqueue

log = logging.getLogger(__name__)


def matching(rule: Rule, step_ids: list[str]) -> list[str]:
    """The batch's steps the rule's view matches: the list's own filter code, on these ids only."""
    form = StepFilterForm(QueryDict(rule.view.query))
    qs = form.filter(Step.objects.filter(pk__in=step_ids))
    return list(qs.order_by().values_list("pk", flat=True))


def claim_firings(rule: Rule, step_ids: list[str]) -> list[str]:
    """Insert (rule, step) firing rows; the ids whose row is new (the others fired before)."""
    if not step_ids:
        return []
    table = connection.ops.quote_name(RuleFiring._meta.db_table)
    now = timezone.now()
    values = ", ".join(["(%s, %s, %s)"] * len(step_ids))
    params = [x for step_id in step_ids for x in (rule.pk, step_id, now)]
    # RETURNING after ON CONFLICT DO NOTHING lists only the rows inserted: PostgreSQL, and
    # SQLite 3.35+; Django's bulk_create(ignore_conflicts=True) cannot say which those were.
    sql = (
        f"INSERT INTO {table} (rule_id, step_id, fired_at) VALUES {values} "
        f"ON CONFLICT (rule_id, step_id) DO NOTHING RETURNING step_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def tag_steps(rule: Rule, step_ids: list[str]) -> None:
    """Add the rule's tags to these steps, here and in Letta, in a fixed number of statements:
    the votes read and written in bulk, one FeedbackPush per step (the outbox), one task."""
    add = clean_tags(rule.tags)
    if not add or not step_ids:
        return
    with facets.tracking(step_ids):
        steps = list(Step.objects.filter(pk__in=step_ids).only("id", "tags", "feedback", "step_time"))
        votes = StepVote.objects.select_for_update().in_bulk([s.pk for s in steps])
        new_votes, changed, pushes = [], [], []
        for step in steps:
            vote = votes.get(step.pk)
            base = vote.tags if vote is not None and vote.tags is not None else step.tags or []
            tags = clean_tags([*base, *add])
            if vote is None:
                # as cast_vote: the vote stays Letta's, only the tags become the team's
                vote = StepVote(step=step, feedback=step.feedback, tags=tags)
                new_votes.append(vote)
            else:
                vote.tags = tags
                changed.append(vote)
            pushes.append(FeedbackPush(step=step, feedback=vote.feedback, tags=tags, source="rule"))
        StepVote.objects.bulk_create(new_votes)
        StepVote.objects.bulk_update(changed, ["tags"])
        FeedbackPush.objects.bulk_create(pushes)
        mark_dirty([s.step_time for s in steps])
    taskqueue.send_on_commit("steps.tasks.push_feedback", [s.pk for s in steps])


def notify_steps(rule: Rule, step_ids: list[str]) -> None:
    """One notification for the batch, whatever its size: a rule never floods a channel."""
    if rule.destination_id is None or not step_ids:
        return
    from django.conf import settings

    n = len(step_ids)
    link = f"{settings.DASHBOARD_URL.rstrip('/')}{rule.view.url}"
    sample = "\n".join(f"{settings.DASHBOARD_URL.rstrip('/')}/steps/{s}/" for s in step_ids[:5])
    more = f"\n… and {n - 5} more" if n > 5 else ""
    enqueue(
        Notification(
            destination_id=rule.destination_id,
            rule=rule,
            title=f"[RULE] {rule.name}: {n} new step{'s' if n != 1 else ''}",
            body=f"{n} newly synced step{'s' if n != 1 else ''} match the view “{rule.view.name}”.\n"
            f"{sample}{more}\nThe view: {link}",
        )
    )


def queue_steps(rule: Rule, step_ids: list[str]) -> None:
    """Add the steps to the rule's review queue, after the queue's own steps (reviewed in order)."""
    queue = rule.queue
    if queue is None or queue.archived_at is not None:
        log.warning(
            "Rule %s: its review queue is gone or archived; %d steps not queued", rule.pk, len(step_ids)
        )
        return
    add_steps(queue, step_ids)


ACTIONS: dict[str, Callable[[Rule, list[str]], None]] = {
    Rule.Action.TAG: tag_steps,
    Rule.Action.NOTIFY: notify_steps,
    Rule.Action.QUEUE: queue_steps,
}


def apply_rule(rule: Rule, step_ids: list[str]) -> list[str]:
    """Run one rule on a batch's new steps; the steps it acted on."""
    fired = claim_firings(rule, matching(rule, step_ids))
    if fired:
        ACTIONS[rule.action](rule, fired)
        Rule.objects.filter(pk=rule.pk).update(
            last_fired_at=timezone.now(),
            fired_steps=models.F("fired_steps") + len(fired),
            fired_batches=models.F("fired_batches") + 1,
        )
    return fired


@on_new_steps
def run_rules(step_ids: list[str]) -> None:
    rules = list(Rule.objects.filter(enabled=True).select_related("view", "queue").order_by("id"))
    for rule in rules:
        if rule.action not in ACTIONS:
            continue  # an action of an app that is not installed (yet)
        try:
            with transaction.atomic():
                apply_rule(rule, step_ids)
        except Exception:
            log.exception("Rule %s failed on a batch of %d new steps", rule.pk, len(step_ids))
