"""Votes on steps Letta no longer has (deleted there, or a demo simulator that began a new
world): kept here, never retried, said in one sentence; the step is no review work."""

import pytest
from django.urls import reverse

from steps import feedback
from steps.feedback.outbox import GONE_ERROR
from steps.models import FeedbackPush, Step, StepVote
from steps.sync import refresh_steps, run_sync
from tests.factories import StepFactory, UserFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def mirrored(simulator, letta, settings):
    settings.LETTA_BASE_URL = simulator.base_url
    settings.LETTA_MAX_RETRIES = 0
    settings.CELERY_TASK_ALWAYS_EAGER = True
    run_sync(letta)
    return list(Step.objects.filter(status="success", feedback="").order_by("pk"))


def vote_widget(client, step) -> str:
    return client.get(reverse("step_vote", args=[step.pk]), headers=HX).content.decode()


def test_a_vote_on_a_step_deleted_in_letta_ends_gone_with_one_sentence(
    mirrored, simulator, user, user_client, django_capture_on_commit_callbacks
):
    step = mirrored[0]
    simulator.world.delete_step(step.pk)

    with django_capture_on_commit_callbacks(execute=True):
        push = feedback.cast_vote(step, user=user, feedback="positive")

    push.refresh_from_db()
    assert push.status == FeedbackPush.Status.GONE and push.last_error == GONE_ERROR  # not Letta's dump
    assert feedback.due_step_ids() == []  # never retried
    assert Step.objects.get(pk=step.pk).gone_upstream_at is not None
    assert StepVote.objects.get(step=step).feedback == "positive"  # the vote is kept
    html = vote_widget(user_client, step)
    assert "Deleted in Letta" in html and "your vote is kept here but cannot be sent" in html
    assert "Retry" not in html and "actor=" not in html


def test_a_bulk_vote_after_half_the_steps_were_deleted_counts_them_apart(
    mirrored, simulator, user, django_capture_on_commit_callbacks
):
    agent = mirrored[0].agent_id
    matching = list(Step.objects.filter(agent_id=agent).order_by("pk").values_list("pk", flat=True))
    deleted = matching[::2]
    for step_id in deleted:
        simulator.world.delete_step(step_id)

    with django_capture_on_commit_callbacks(execute=True):
        batch = feedback.start_bulk(user=user, action="positive", feedback="positive", query=f"agent={agent}")

    progress = feedback.batch_progress(batch)
    assert (progress["gone"], progress["failed"]) == (len(deleted), 0)
    assert progress["done"] == len(matching) - len(deleted)
    assert set(Step.objects.exclude(gone_upstream_at=None).values_list("pk", flat=True)) == set(deleted)


def test_a_step_back_in_letta_loses_the_mark_and_its_vote_can_be_sent_again(
    mirrored, simulator, letta, user, user_client, django_capture_on_commit_callbacks
):
    step = mirrored[1]
    row = simulator.world.delete_step(step.pk)
    with django_capture_on_commit_callbacks(execute=True):
        feedback.cast_vote(step, user=user, feedback="negative")
    simulator.world.put_back_step(row)

    refresh_steps(letta, [step.pk])  # Letta answers for it again

    step.refresh_from_db()
    assert step.gone_upstream_at is None
    html = vote_widget(user_client, step)
    assert "it is back now" in html and "Retry" in html  # the kept vote can go now
    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(reverse("step_vote_retry", args=[step.pk]), headers=HX)
    assert simulator.world.step_payload(step.pk)["feedback"] == "negative"


def gone_step() -> Step:
    step = StepFactory()
    Step.objects.filter(pk=step.pk).mark_gone_upstream()
    return Step.objects.get(pk=step.pk)


def test_gone_steps_are_no_review_work_but_show_in_the_list_with_a_badge(user_client):
    kept = StepFactory()
    gone, voted_gone = gone_step(), gone_step()
    feedback.cast_vote(voted_gone, user=UserFactory(), feedback="", enqueue=False)

    unreviewed = user_client.get(reverse("step_list") + "?unreviewed=1").context["rows"]
    assert [s.pk for s, _ in unreviewed] == [kept.pk]

    html = user_client.get(reverse("step_list")).content.decode()
    assert html.count(">deleted in Letta</span>") == 2
    row = html[html.index(f'data-step="{gone.pk}"') :]
    assert "deleted in Letta" in row[: row.index("</tr>")]
