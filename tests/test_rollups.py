"""Hourly rollups equal a direct aggregate of the steps, whatever wrote the steps."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from steps import feedback
from steps.models import DirtyHour, HourlyRollup, Step, StepReview
from steps.overview.rollup import flush, rebuild
from steps.sync import run_sync
from tests.factories import StepFactory, UserFactory
from tests.rollup_helpers import (
    expected_daily,
    expected_rollups,
    expected_tools,
    stored_daily,
    stored_rollups,
    stored_tools,
)

pytestmark = pytest.mark.django_db


def assert_rollups_match():
    assert stored_rollups() == expected_rollups()
    assert stored_daily() == expected_daily()
    assert stored_tools() == expected_tools()


def test_a_sync_leaves_rollups_equal_to_the_steps(simulator, letta):
    run_sync(letta)

    assert Step.objects.count() > 40
    assert HourlyRollup.objects.exists()
    assert not DirtyHour.objects.exists()  # every batch flushed what it marked
    assert_rollups_match()
    assert sum(stored_tools().values()) > 0


def test_a_resync_and_new_steps_keep_them_equal(simulator, letta):
    run_sync(letta)
    before = stored_rollups()

    run_sync(letta, reverify_batch=20)  # re-reads change nothing
    assert stored_rollups() == before

    simulator.world.add_run(pending=True, steps=3, outcome="failed")
    run_sync(letta)  # new steps, pending then details: they move hours and gain durations
    simulator.world.finish_pending()
    run_sync(letta)
    assert_rollups_match()


def test_a_vote_updates_its_hour(simulator, letta, django_capture_on_commit_callbacks):
    run_sync(letta)
    step = Step.objects.filter(feedback="").order_by("step_time").first()
    positive_before = sum(r.positive for r in HourlyRollup.objects.all())

    with django_capture_on_commit_callbacks(execute=True):
        feedback.cast_vote(step, user=UserFactory(), feedback="positive")

    assert sum(r.positive for r in HourlyRollup.objects.all()) == positive_before + 1
    assert_rollups_match()


def test_archiving_moves_a_step_to_the_hidden_rollups():
    step = StepFactory()
    StepFactory(step_time=step.step_time + timedelta(minutes=1))
    flush()
    StepReview.objects.create(step=step, hidden=True)
    flush()

    rows = {r.hidden: r.steps for r in HourlyRollup.objects.all()}
    assert rows == {True: 1, False: 1}
    assert_rollups_match()


def test_rebuild_gives_the_same_rows_and_drops_hours_without_steps(simulator, letta):
    run_sync(letta)
    synced = stored_rollups()
    stray = HourlyRollup.objects.create(hour=Step.objects.earliest("step_time").step_time - timedelta(days=3))

    rebuild()

    assert not HourlyRollup.objects.filter(pk=stray.pk).exists()
    assert stored_rollups() == synced
    assert_rollups_match()


def test_rebuild_command_prints_progress(simulator, letta, capsys):
    run_sync(letta)
    HourlyRollup.objects.all().delete()

    call_command("rebuild_rollups", "--since", "3650d")

    out = capsys.readouterr().out
    assert "hours (100%)" in out and "Done:" in out
    assert_rollups_match()


def test_rebuild_command_refuses_a_bad_since():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ISO time"):
        call_command("rebuild_rollups", "--since", "yesterday")
