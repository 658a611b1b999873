"""Steps deleted in Letta, as the sync meets them (a 404 when it reads one by id): kept as last
synced, marked, not asked for on a schedule, and unmarked when Letta has them again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from steps.models import Message, Step, SyncRun
from steps.sync import run_sync

pytestmark = pytest.mark.django_db


def test_a_pending_step_deleted_in_letta_is_marked_and_no_longer_followed(simulator, letta):
    added = simulator.world.add_run(agent=0, steps=2, pending=True)
    step_id = added.step_ids[0]
    run_sync(letta)
    assert Step.objects.get(pk=step_id).status == "pending"
    simulator.world.delete_step(step_id)
    Step.objects.filter(pk=step_id).update(refresh_due_at=timezone.now() - timedelta(seconds=1))

    sync_run = run_sync(letta, reverify_batch=0)

    assert sync_run.status == SyncRun.Status.SUCCESS and sync_run.errors == 0  # not our failure
    step = Step.objects.get(pk=step_id)
    assert step.gone_upstream_at is not None
    assert step.refresh_due_at is None and step.last_sync_error == ""  # no retries on a schedule


def test_re_verification_marks_a_deleted_step_and_unmarks_it_when_it_is_back(simulator, letta):
    run_sync(letta)
    step = Step.objects.filter(status="success").exclude(messages=None).first()
    messages = Message.objects.filter(step=step).count()
    row = simulator.world.delete_step(step.pk)

    sync_run = run_sync(letta, reverify_batch=10_000)

    step.refresh_from_db()
    assert step.gone_upstream_at is not None and step.last_sync_error == ""
    assert Message.objects.filter(step=step).count() == messages  # kept as last synced
    assert sync_run.errors == 0 and "1 step(s) no longer in Letta" in sync_run.notes
    assert not Step.objects.unreviewed().filter(pk=step.pk).exists()
    marked_at = step.gone_upstream_at

    again = run_sync(letta, reverify_batch=10_000)  # still gone: the first 404's time stays
    assert Step.objects.get(pk=step.pk).gone_upstream_at == marked_at
    assert "no longer in Letta" not in again.notes  # said once, when it happened

    simulator.world.put_back_step(row)
    run_sync(letta, reverify_batch=10_000)

    assert Step.objects.get(pk=step.pk).gone_upstream_at is None
    assert Step.objects.unreviewed().filter(pk=step.pk).exists()
