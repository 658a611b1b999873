"""A vote owns no tags: the step's tags stay what Letta has until a reviewer edits them here
(letta-api.md §1.5: a PATCH replaces tags only when it sends a non-empty list)."""

import pytest
from django.urls import reverse

from steps import feedback
from steps.feedback import vote_state
from steps.models import FeedbackPush, Step, StepVote
from steps.sync import run_sync

pytestmark = pytest.mark.django_db

TAGS = ["hallucination", "needs-review"]


@pytest.fixture
def synced(simulator, letta, settings):
    settings.LETTA_BASE_URL = simulator.base_url
    settings.LETTA_MAX_RETRIES = 0
    settings.CELERY_TASK_ALWAYS_EAGER = True
    return lambda: run_sync(letta)


def feedback_patches(simulator):
    return [r.json() for r in simulator.requests if r.method == "PATCH"]


def review_card(client, step) -> str:
    html = client.get(reverse("step_detail", args=[step.pk])).content.decode()
    return html[html.index('id="review-card"') : html.index('id="review-note"')]


def test_a_vote_on_a_pending_step_keeps_the_tags_letta_has(
    simulator, synced, user, user_client, django_capture_on_commit_callbacks
):
    added = simulator.world.add_run(agent=0, steps=2, pending=True)
    step_id = added.step_ids[0]
    synced()
    step = Step.objects.get(pk=step_id)
    assert step.status == "pending" and step.tags == []  # mirrored before anyone tagged it
    simulator.world.set_feedback(step_id, None, TAGS)  # tagged in Letta: the mirror does not know yet
    simulator.clear_requests()

    with django_capture_on_commit_callbacks(execute=True):
        push = feedback.cast_vote(step, user=user, feedback="positive")
    synced()

    assert feedback_patches(simulator) == [{"feedback": "positive"}]  # no `tags` key at all
    assert simulator.world.step_payload(step_id)["tags"] == TAGS
    push.refresh_from_db()
    assert push.status == FeedbackPush.Status.DONE and push.note == ""
    assert StepVote.objects.get(step_id=step_id).tags is None  # a vote owns no tag list
    step.refresh_from_db()
    assert step.tags == TAGS and vote_state(step).tags == TAGS
    card = review_card(user_client, step)
    assert "hallucination" in card and "needs-review" in card
    assert "No tags" not in card and "Removed here only" not in card


def test_votes_after_a_tag_edit_send_the_tags_set_here(simulator, synced, user):
    synced()
    step = Step.objects.filter(status="success", tags=[]).first()
    feedback.cast_vote(step, user=user, tags=["slow"])
    feedback.cast_vote(step, user=user, feedback="negative")
    simulator.clear_requests()
    with feedback.push_client() as client:
        feedback.deliver(client, step.pk)

    assert feedback_patches(simulator) == [{"feedback": "negative", "tags": ["slow"]}]
    assert simulator.world.step_payload(step.pk)["tags"] == ["slow"]


def test_removing_every_tag_here_says_letta_keeps_them(user_client):
    step = Step.objects.create(id="step-00000000-0000-4000-8000-000000000001", tags=["slow"])
    StepVote.objects.create(step=step, tags=[])  # the reviewer removed the last tag here

    card = review_card(user_client, step)

    assert "No tags" in card and "it still has <b>slow</b>. Removed here only." in card
