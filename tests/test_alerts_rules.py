"""Rules in the sync's batches: a fixed number of queries per batch whatever its size, once per step,
and their actions (tags through the outbox, one notification per batch)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from steps.alerts import rules
from steps.alerts.models import Destination, Notification, Rule, RuleFiring, SavedView
from steps.models import FeedbackPush, StepVote
from tests.factories import StepFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tag_rule():
    manager = UserFactory(username="mona", role="manager")
    view = SavedView.objects.create(owner=manager, name="Failed", query="status=failed", shared=True)
    return Rule.objects.create(name="triage", view=view, action="tag", tags=["needs-triage"])


def batch(n: int, failed: int) -> list[str]:
    ids = [StepFactory(status="failed", error_type="E", tags=["seen"]).pk for _ in range(failed)]
    return ids + [StepFactory(status="success").pk for _ in range(n - failed)]


def queries_for(step_ids: list[str]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        rules.run_rules(step_ids)
    return len(ctx.captured_queries)


def test_a_rule_costs_the_same_queries_for_a_batch_of_2_or_of_60(tag_rule):
    small, large = queries_for(batch(2, 1)), queries_for(batch(60, 30))
    assert small == large
    assert RuleFiring.objects.count() == 31


def test_tags_are_added_to_what_the_step_has_and_sent_to_letta_through_the_outbox(tag_rule):
    ids = batch(3, 2)
    rules.run_rules(ids)
    votes = {v.step_id: v.tags for v in StepVote.objects.all()}
    assert votes == {ids[0]: ["seen", "needs-triage"], ids[1]: ["seen", "needs-triage"]}
    pushes = FeedbackPush.objects.filter(source="rule")
    assert {p.step_id for p in pushes} == set(ids[:2]) and all(p.created_by is None for p in pushes)
    # once per step: the same batch again (a re-sync) does nothing
    rules.run_rules(ids)
    assert FeedbackPush.objects.count() == 2
    tag_rule.refresh_from_db()
    assert (tag_rule.fired_steps, tag_rule.fired_batches) == (2, 1)


def test_a_paused_rule_does_nothing_and_a_failing_rule_does_not_stop_the_others(tag_rule, monkeypatch):
    tag_rule.enabled = False
    tag_rule.save()
    ids = batch(2, 2)
    rules.run_rules(ids)
    assert not RuleFiring.objects.exists()

    destination = Destination.for_url("json://127.0.0.1:9/hook")
    Rule.objects.create(name="broken", view=tag_rule.view, action="tag", tags=["x"])
    Rule.objects.create(name="tell", view=tag_rule.view, action="notify", destination=destination)

    def broken(rule, step_ids):
        raise RuntimeError("bug")

    monkeypatch.setitem(rules.ACTIONS, Rule.Action.TAG, broken)
    rules.run_rules(ids)
    assert Notification.objects.count() == 1  # one message for the batch
    assert RuleFiring.objects.filter(rule__name="broken").count() == 0  # undone with its savepoint


@pytest.fixture
def triage_queue():
    from tests.review_helpers import make_queue

    return make_queue([StepFactory()], k=1)  # one step queued by hand before the rule


def test_a_queue_rule_adds_exactly_the_new_matching_steps_after_the_queue_s_own_once(tag_rule, triage_queue):
    from steps.review.models import Queue, QueueItem

    rule = Rule.objects.create(name="to review", view=tag_rule.view, action="queue", queue=triage_queue)
    tag_rule.delete()
    ids = batch(4, 2)
    rules.run_rules(ids)
    rules.run_rules(ids)  # a re-sync of the same steps
    queued = list(
        QueueItem.objects.filter(queue=triage_queue).order_by("position").values_list("step_id", flat=True)
    )
    assert set(queued[1:]) == set(ids[:2]) and len(queued) == 3  # the failed ones, after the step there
    assert Queue.objects.get(pk=triage_queue.pk).items_total == 3
    rule.refresh_from_db()
    assert (rule.fired_steps, rule.fired_batches) == (2, 1)

    Queue.objects.filter(pk=triage_queue.pk).update(archived_at="2026-12-01T00:00:00Z")
    rules.run_rules(batch(1, 1))
    assert QueueItem.objects.filter(queue=triage_queue).count() == 3  # an archived queue takes no more


def test_a_queue_rule_is_created_through_the_api_and_refused_without_an_open_single_step_queue(
    client, tag_rule, triage_queue
):
    manager = tag_rule.view.owner
    client.force_login(manager)
    payload = {"name": "to review", "view": tag_rule.view.pk, "action": "queue"}
    refused = client.post("/api/v1/rules/", payload, "application/json")
    assert refused.status_code == 400 and "queue" in refused.json()["errors"]
    created = client.post("/api/v1/rules/", {**payload, "queue": triage_queue.pk}, "application/json")
    assert created.status_code == 201 and created.json()["queue"] == triage_queue.pk
    page = client.get("/rules/").content.decode()
    assert f'/review/queues/{triage_queue.pk}/"' in page and "add to" in page
