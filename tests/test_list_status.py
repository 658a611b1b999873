"""A step that carries an error is failed: in its row, under "Status: failed", and in the
overview's status counts, whatever Letta's status column says (null on legacy rows)."""

import importlib
from datetime import UTC, timedelta

import pytest
from django.apps import apps
from django.urls import reverse

from steps.models import DirtyHour, HourlyRollup, Step
from steps.overview.rollup import recompute_range
from tests.factories import BASE_TIME, StepFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def listed(client, query: str = "") -> dict[str, str]:
    """step id -> the status its row shows."""
    response = client.get(reverse("step_list") + "?" + query, headers=HX)
    return {row.step.pk: row.status for row in response.context["rows"]}


@pytest.mark.parametrize(
    "upstream",
    [
        {"status": None, "stop_reason": "llm_api_error", "error_type": "LLMServerError"},  # legacy row
        {"status": None, "stop_reason": "llm_api_error"},
        {"status": "pending", "stop_reason": None, "error_type": "LLMTimeoutError"},
        {"status": None, "stop_reason": "error"},
    ],
)
def test_a_step_with_an_error_is_failed_in_the_row_and_the_filter(user_client, upstream):
    errored = StepFactory(**upstream)
    fine = StepFactory(status="success")
    assert listed(user_client) == {errored.pk: "failed", fine.pk: "success"}
    assert set(listed(user_client, "status=failed")) == {errored.pk}
    assert set(listed(user_client, "status=success")) == {fine.pk}
    assert Step.objects.get(pk=errored.pk).payload["status"] == upstream["status"]  # Letta's, kept


def test_cancelled_and_legacy_steps_without_an_error_keep_their_status(user_client):
    cancelled = StepFactory(status="cancelled", stop_reason="cancelled", error_type="CancelledError")
    legacy = StepFactory(status=None, stop_reason="end_turn")
    assert listed(user_client) == {cancelled.pk: "cancelled", legacy.pk: "unknown"}


def test_the_overviews_status_counts_follow(user_client):
    StepFactory(status=None, stop_reason="llm_api_error", error_type="LLMServerError", step_time=BASE_TIME)
    recompute_range(BASE_TIME - timedelta(hours=1), BASE_TIME + timedelta(hours=1))
    assert list(HourlyRollup.objects.values_list("status", "steps")) == [("failed", 1)]


def test_the_migration_marks_stored_errored_steps_failed_and_their_hours_dirty():
    legacy = StepFactory(status=None, stop_reason="llm_api_error", error_type="X", step_time=BASE_TIME)
    pending = StepFactory(status="pending", stop_reason="error", step_time=BASE_TIME + timedelta(hours=2))
    cancelled = StepFactory(status="cancelled", stop_reason="cancelled", error_type="CancelledError")
    fine = StepFactory(status=None, stop_reason="end_turn")
    # as rows stored before the status was derived
    Step.objects.filter(pk=legacy.pk).update(status="")
    Step.objects.filter(pk=pending.pk).update(status="pending")
    DirtyHour.objects.all().delete()

    importlib.import_module("steps.migrations.0020_errored_steps_failed").mark_errored_failed(apps, None)

    statuses = dict(Step.objects.values_list("pk", "status"))
    assert statuses == {legacy.pk: "failed", pending.pk: "failed", cancelled.pk: "cancelled", fine.pk: ""}
    hours = {h.astimezone(UTC) for h in DirtyHour.objects.values_list("hour", flat=True)}
    assert hours == {BASE_TIME.replace(minute=0), BASE_TIME.replace(minute=0) + timedelta(hours=2)}
