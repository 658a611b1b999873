"""Hourly rollups equal a direct aggregate of the steps, whatever wrote the steps."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from steps import feedback
from steps.models import DailyToolRollup, DirtyHour, HourlyRollup, Step, StepReview, WeeklyRollup
from steps.overview.rollup import flush, rebuild
from steps.sync import run_sync
from tests.factories import StepFactory, UserFactory
from tests.rollup_helpers import (
    expected_daily,
    expected_daily_tools,
    expected_rollups,
    expected_tools,
    expected_weekly,
    stored_daily,
    stored_daily_tools,
    stored_rollups,
    stored_tools,
    stored_weekly,
)

pytestmark = pytest.mark.django_db


def assert_rollups_match():
    assert stored_rollups() == expected_rollups()
    assert stored_daily() == expected_daily()
    assert stored_weekly() == expected_weekly()
    assert stored_tools() == expected_tools()
    assert stored_daily_tools() == expected_daily_tools()


def test_a_sync_leaves_rollups_equal_to_the_steps(simulator, letta):
    run_sync(letta)

    assert Step.objects.count() > 40
    assert HourlyRollup.objects.exists()
    assert not DirtyHour.objects.exists()  # the end of the run flushed what it marked
    assert_rollups_match()
    assert sum(stored_tools().values()) > 0


@pytest.mark.parametrize("every, charts_follow", [(0, True), (3600, False)])
def test_a_long_sync_updates_the_charts_every_few_seconds(simulator, letta, settings, every, charts_follow):
    """The charts follow a running sync at ROLLUP_SYNC_FLUSH_SECONDS, not after every batch
    (an hour written by many batches would be recomputed as often); the end always flushes."""
    settings.ROLLUP_SYNC_FLUSH_SECONDS = every
    settings.SYNC_PAGE_SIZE = 10
    charted_mid_run = []
    run_sync(letta, on_progress=lambda p: charted_mid_run.append(HourlyRollup.objects.exists()))

    assert any(charted_mid_run[:-1]) is charts_follow
    assert charted_mid_run[-1] and not DirtyHour.objects.exists()
    assert_rollups_match()


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


def test_a_vote_updates_its_hour(simulator, letta, django_capture_on_commit_callbacks, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the worker recomputes the hour the vote marked
    run_sync(letta)
    step = Step.objects.filter(feedback="").order_by("step_time").first()
    positive_before = sum(r.positive for r in HourlyRollup.objects.all())

    with django_capture_on_commit_callbacks(execute=True):
        feedback.cast_vote(step, user=UserFactory(), feedback="positive")

    assert sum(r.positive for r in HourlyRollup.objects.all()) == positive_before + 1
    assert_rollups_match()


def queued_tasks(settings) -> list[str]:
    """Names of the tasks waiting in the default queue of the test's Redis broker."""
    import json

    import redis

    with redis.Redis.from_url(settings.CELERY_BROKER_URL) as broker:
        return [
            json.loads(m)["headers"]["task"] for m in broker.lrange(settings.CELERY_TASK_DEFAULT_QUEUE, 0, -1)
        ]


def test_votes_in_quick_succession_queue_one_flush_that_takes_all_their_hours(
    django_capture_on_commit_callbacks, settings, monkeypatch
):
    from celery import current_app

    from steps.tasks import update_rollups

    settings.CELERY_TASK_ALWAYS_EAGER = False  # to the real broker; the test plays the worker
    current_app.control.purge()
    monkeypatch.setattr("steps.feedback.outbox.ROLLUP_FLUSH_DELAY_SECONDS", 0.6)
    first = StepFactory()
    steps = [first] + [StepFactory(step_time=first.step_time + timedelta(hours=h)) for h in (1, 2, 30)]
    rebuild()  # factories write no marks
    reviewer = UserFactory()

    for step in steps[:3]:
        with django_capture_on_commit_callbacks(execute=True):
            feedback.cast_vote(step, user=reviewer, feedback="positive")
    assert queued_tasks(settings).count("steps.tasks.update_rollups") == 1
    assert queued_tasks(settings).count("steps.tasks.push_feedback") == 3  # each vote still pushed

    update_rollups()  # the one queued flush, run by a worker after its countdown
    assert sum(r.positive for r in HourlyRollup.objects.all()) == 3
    assert_rollups_match()

    # once the queued flush is about to run (here: 0.1 s before it), a vote queues its own
    import time

    time.sleep(0.15)
    with django_capture_on_commit_callbacks(execute=True):
        feedback.cast_vote(steps[3], user=reviewer, feedback="negative")
    assert queued_tasks(settings).count("steps.tasks.update_rollups") == 2
    update_rollups()
    assert sum(r.negative for r in HourlyRollup.objects.all()) == 1
    assert_rollups_match()
    current_app.control.purge()


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
    long_before = Step.objects.earliest("step_time").step_time - timedelta(days=30)
    stray = HourlyRollup.objects.create(hour=long_before + timedelta(days=27))
    WeeklyRollup.objects.create(hour=long_before.replace(hour=0, minute=0, second=0, microsecond=0), steps=5)
    DailyToolRollup.objects.create(hour=long_before.replace(minute=0, second=0, microsecond=0), tool_name="t")

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
