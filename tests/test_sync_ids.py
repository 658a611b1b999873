"""Upstream ids are input too: a row whose id is not a Letta id is skipped and said, never fatal,
and a page that would link to it still renders."""

import dataclasses

import pytest
from django.urls import reverse

from steps.models import Run, Step, SyncRun
from steps.sync import run_sync

pytestmark = pytest.mark.django_db


def rename_step(world, step_id, new_id):
    step = world.steps.pop(step_id)
    step.payload["id"] = new_id
    world.steps[new_id] = step
    for run in world.runs.values():
        run.step_ids = [new_id if i == step_id else i for i in run.step_ids]


def test_malformed_ids_upstream_are_skipped_noted_and_never_break_a_page(
    simulator, letta, user_client, settings
):
    settings.SYNC_PAGE_SIZE = 10
    world = simulator.world
    ids = world.step_ids()
    assert all(world.steps[i].payload["status"] != "pending" for i in ids[:21])
    # the last row of the first page, and of the second (an id too long to be a cursor)
    rename_step(world, ids[9], "step-42")
    rename_step(world, ids[19], "step-" + "9" * 400)
    # a step that names a run and an agent by something that is no id
    orphan = world.steps[ids[20]]
    orphan.payload |= {"run_id": "run-../../admin", "agent_id": "agent-not-an-id"}
    some_run = next(iter(world.runs.values()))
    world.runs["run-1"] = dataclasses.replace(some_run, payload=some_run.payload | {"id": "run-1"})

    sync_run = run_sync(letta)

    assert sync_run.status == SyncRun.Status.SUCCESS, sync_run.error_message
    assert set(Step.objects.values_list("id", flat=True)) == set(ids) - {ids[9], ids[19]}
    assert sync_run.errors == 3
    assert "Skipped a step whose id is not a Letta step id: 'step-42'" in sync_run.notes
    assert "Skipped a run whose id is not a Letta run id: 'run-1'" in sync_run.notes
    assert not Run.objects.filter(id="run-1").exists()
    stored = Step.objects.get(pk=ids[20])
    # the run link is dropped (what Letta said stays in the payload); the agent id, only ever a
    # filter value, is kept but never becomes a path
    assert (stored.run_id, stored.agent_id) == (None, "agent-not-an-id")
    assert stored.payload["run_id"] == "run-../../admin"
    assert stored.details_synced_at is not None  # and the step got its messages
    assert not [r.path for r in simulator.requests if "not-an-id" in r.path or "admin" in r.path]

    assert user_client.get(reverse("step_list")).status_code == 200
    assert user_client.get(reverse("step_detail", args=[stored.pk])).status_code == 200
    assert user_client.get("/admin/steps/syncrun/").status_code in (200, 302)

    again = run_sync(letta)
    assert again.status == SyncRun.Status.SUCCESS and again.steps_created == 0
