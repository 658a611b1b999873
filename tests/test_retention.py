"""Retention: old steps go with every row that hangs off them, in batches; new ones stay whole."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from steps import facets
from steps.models import (
    FacetCount,
    FeedbackPush,
    Message,
    ProviderTrace,
    Run,
    ShareLink,
    Step,
    StepMetrics,
    StepReview,
    StepTool,
    StepVote,
)
from steps.tasks import prune_old_steps
from tests.factories import (
    MessageFactory,
    ProviderTraceFactory,
    RunFactory,
    StepFactory,
    StepMetricsFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CHILDREN = (Message, StepTool, ProviderTrace, StepMetrics, StepVote, FeedbackPush, StepReview, ShareLink)


def a_step(days_old: float, run=None, tool="web_search", tag="t"):
    """A step with one row of each kind that hangs off a step."""
    step = StepFactory(
        step_time=timezone.now() - timedelta(days=days_old),
        tags=[tag],
        model=f"model-{'old' if days_old > 30 else 'new'}",
        **({"run_id": run.pk} if run else {}),
    )
    MessageFactory(step=step, message_type="tool_call_message", tool=tool)
    MessageFactory(step=step, content="hello")
    ProviderTraceFactory(step=step)
    StepMetricsFactory(step=step)
    user = UserFactory()
    StepVote.objects.create(step=step, feedback="positive", tags=["vote-" + tag], voted_by=user)
    FeedbackPush.objects.create(step=step, feedback="positive", created_by=user, status="done")
    StepReview.objects.create(step=step, notes="seen")
    ShareLink.objects.create(step=step, token=f"tok-{step.pk}", expires_at=timezone.now() + timedelta(days=1))
    return step


def children_of(step_ids) -> dict[str, int]:
    return {m.__name__: m.objects.filter(step_id__in=step_ids).count() for m in CHILDREN}


def test_prune_deletes_exactly_the_old_steps_and_their_rows(capsys):
    shared_run, old_run = RunFactory(), RunFactory()
    old = [a_step(40, old_run, tool="old_tool", tag="old"), a_step(35, shared_run, tag="old"), a_step(31)]
    new = [a_step(29, shared_run), a_step(1)]
    facets.rebuild()  # the votes and shares above were written without the feedback module

    call_command("prune_steps", "--older-than-days", "30", "--batch-size", "2")

    assert set(Step.objects.values_list("id", flat=True)) == {s.pk for s in new}
    assert set(children_of([s.pk for s in old]).values()) == {0}
    assert children_of([s.pk for s in new]) == {
        "Message": 4,
        "StepTool": 2,
        "ProviderTrace": 2,
        "StepMetrics": 2,
        "StepVote": 2,
        "FeedbackPush": 2,
        "StepReview": 2,
        "ShareLink": 2,
    }
    # a run goes with its last step; one with a step left stays
    assert not Run.objects.filter(pk=old_run.pk).exists()
    assert Run.objects.filter(pk=shared_run.pk).exists()
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Deleting steps older than")
    assert out[1].startswith("2 steps deleted") and out[2].startswith("3 steps deleted")
    assert "2 Message" not in out[1] and "4 Message" in out[1]
    assert out[-1] == "Done: 3 steps deleted."


def test_prune_keeps_the_facet_counts_right():
    for days in (45, 44, 2):
        a_step(days, tool="old_tool" if days > 30 else "web_search", tag="old" if days > 30 else "new")
    facets.rebuild()
    assert ("model", "model-old") in {(f.dimension, f.value) for f in FacetCount.objects.filter(steps__gt=0)}

    call_command("prune_steps", "--older-than-days", "30")

    kept = {(f.dimension, f.value): f.steps for f in FacetCount.objects.filter(steps__gt=0)}
    assert ("model", "model-old") not in kept and ("tool", "old_tool") not in kept
    assert kept[("model", "model-new")] == 1 and facets.known_tags() == ["new", "vote-new"]
    facets.rebuild()
    assert kept == {(f.dimension, f.value): f.steps for f in FacetCount.objects.filter(steps__gt=0)}


def test_dry_run_only_counts(capsys):
    a_step(50)
    a_step(3)
    call_command("prune_steps", "--older-than-days", "30", "--dry-run")
    assert Step.objects.count() == 2
    assert "1 steps are older than" in capsys.readouterr().out


def test_prune_needs_an_age():
    with pytest.raises(Exception, match="older-than-days"):
        call_command("prune_steps")


def test_the_daily_task_prunes_only_when_retention_is_set(settings):
    a_step(100)
    a_step(10)
    settings.RETENTION_DAYS = 0
    assert prune_old_steps() == 0 and Step.objects.count() == 2
    settings.RETENTION_DAYS = 30
    assert prune_old_steps() == 1 and Step.objects.count() == 1
    assert prune_old_steps() == 0  # safe to run again


def test_the_beat_schedule_has_the_recount_and_the_retention(settings):
    from dashboard.celery import app, schedule_periodic_tasks

    settings.RETENTION_DAYS = 7
    app.conf.beat_schedule = {}
    schedule_periodic_tasks(app)
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"steps.tasks.rebuild_facets", "steps.tasks.prune_old_steps"} <= tasks
