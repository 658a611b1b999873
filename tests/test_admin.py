import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from steps import feedback
from steps.models import FeedbackPush, StepReview
from steps.pages import share
from tests.factories import (
    MessageFactory,
    ProviderTraceFactory,
    RunFactory,
    StepFactory,
    StepMetricsFactory,
    SyncRunFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "model",
    [
        "step",
        "run",
        "message",
        "providertrace",
        "stepmetrics",
        "syncrun",
        "synccursor",
        "sharelink",
        "stepreview",
        "stepvote",
        "feedbackpush",
        "feedbackbatch",
        "modelprice",
    ],
)
def test_changelists_render(admin_client, model):
    step = StepFactory(run_id=RunFactory().id)
    MessageFactory(step=step)
    ProviderTraceFactory(step=step)
    StepMetricsFactory(step=step)
    SyncRunFactory()
    share.create_link(step, None, "1d")
    StepReview.objects.create(step=step, notes="n")
    feedback.cast_vote(step, user=None, feedback="positive", enqueue=False)
    feedback.start_bulk(user=None, action="positive", feedback="positive", step_ids=[step.pk])
    response = admin_client.get(reverse(f"admin:steps_{model}_changelist"))
    assert response.status_code == 200


def test_step_change_page_and_readonly(admin_client):
    step = StepFactory()
    response = admin_client.get(reverse("admin:steps_step_change", args=[step.pk]))
    assert response.status_code == 200
    assert b'name="model"' not in response.content  # upstream field is read-only
    assert b'name="review-0-notes"' in response.content


def test_step_changelist_skips_full_count():
    from django.contrib import admin

    from steps.models import Step

    assert admin.site._registry[Step].show_full_result_count is False


def label_form(step, labels: str) -> dict:
    return {
        "review-TOTAL_FORMS": "1",
        "review-INITIAL_FORMS": "0",
        "review-MIN_NUM_FORMS": "0",
        "review-MAX_NUM_FORMS": "1",
        "review-0-step": step.pk,
        "review-0-labels": labels,
        "review-0-notes": "made up a citation",
        "share_links-TOTAL_FORMS": "0",
        "share_links-INITIAL_FORMS": "0",
        "share_links-MIN_NUM_FORMS": "0",
        "share_links-MAX_NUM_FORMS": "1000",
    }


def test_local_label_edit_is_in_history(admin_client):
    step = StepFactory()
    url = reverse("admin:steps_step_change", args=[step.pk])
    response = admin_client.post(url, label_form(step, '["hallucination"]'))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert StepReview.objects.get(step=step).labels == ["hallucination"]
    entry = LogEntry.objects.get(object_id=step.pk)
    assert entry.user.username == "boss"


@pytest.mark.parametrize("depth", [100_000, 5000])
def test_labels_nested_too_deep_are_the_forms_error(admin_client, depth):
    # json gives up on 100,000 levels with a RecursionError; 5,000 parse, and then recursed
    step = StepFactory()
    url = reverse("admin:steps_step_change", args=[step.pk])
    response = admin_client.post(url, label_form(step, "[" * depth + "]" * depth))
    assert response.status_code == 200
    assert "This JSON is nested more than 32 levels deep." in response.content.decode()
    assert not StepReview.objects.filter(step=step).exists()


def test_resync_action_refreshes_the_steps_in_a_worker_after_commit(
    admin_client, simulator, letta, settings, django_capture_on_commit_callbacks
):
    from steps.models import Step, SyncRun
    from steps.sync import run_sync

    settings.LETTA_BASE_URL = simulator.base_url
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the worker's part runs when the commit hook fires
    run_sync(letta)
    ids = list(Step.objects.order_by("pk").values_list("pk", flat=True)[:2])
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            reverse("admin:steps_step_changelist"), {"action": "resync_now", "_selected_action": ids}
        )
    assert response.status_code == 302
    assert not SyncRun.objects.filter(trigger="admin").exists()  # nothing read before the commit
    for callback in callbacks:
        callback()
    resync = SyncRun.objects.get(trigger="admin")
    assert (resync.status, resync.steps_refreshed) == (SyncRun.Status.SUCCESS, 2)


def test_revoke_action(admin_client):
    link = share.create_link(StepFactory(), None, "1d")
    admin_client.post(
        reverse("admin:steps_sharelink_changelist"), {"action": "revoke_links", "_selected_action": [link.pk]}
    )
    link.refresh_from_db()
    assert link.revoked_at and link.revoked_by.username == "boss"


def test_push_feedback_action_resends_local_votes(admin_client):
    voted, unvoted = StepFactory(), StepFactory()
    feedback.cast_vote(voted, user=None, feedback="negative", enqueue=False)
    response = admin_client.post(
        reverse("admin:steps_step_changelist"),
        {"action": "push_feedback_upstream", "_selected_action": [voted.pk, unvoted.pk]},
        follow=True,
    )
    assert b"Queued 1 step(s) for delivery to Letta. 1 without a local vote were skipped." in response.content
    newest = FeedbackPush.objects.filter(step=voted).latest("id")
    assert (newest.source, newest.feedback, newest.created_by.username) == ("retry", "negative", "boss")
    assert not FeedbackPush.objects.filter(step=unvoted).exists()


def test_outbox_is_read_only(admin_client):
    push = feedback.cast_vote(StepFactory(), user=None, feedback="positive", enqueue=False)
    response = admin_client.get(reverse("admin:steps_feedbackpush_change", args=[push.pk]))
    assert response.status_code == 200 and b'name="status"' not in response.content


def test_the_admin_index_names_models_in_proper_english(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "Feedback batches" in html and "Feedback pushes" in html
    assert "batchs" not in html and "pushs" not in html
    assert "API tokens" in html and "Api tokens" not in html


def test_the_token_change_list_says_api_token(admin_client):
    html = admin_client.get(reverse("admin:steps_apitoken_changelist")).content.decode()
    assert "Select API token to change" in html and "Api token" not in html


def test_the_admin_carries_the_products_name_and_icon(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "Letta review admin" in html and "Django administration" not in html
    assert 'rel="icon"' in html and "favicon.svg" in html
