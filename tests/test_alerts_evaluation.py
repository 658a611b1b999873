"""Alert conditions and states (pure), the rollup figures, secrets kept out of pages and answers,
and the editors' roles."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from steps.alerts import conditions, evaluation, notify, secret_url
from steps.alerts.models import Alert, AlertEvent, Destination, Notification
from steps.models import mark_dirty
from steps.overview.rollup import flush
from tests.factories import StepFactory, UserFactory

SECRET = "https://hooks.slack.com/services/T0SECRET1/B0SECRET2/abcdefSECRETxyz"


def test_conditions_fire_and_resolve_once():
    assert conditions.breached("above", 0.5, 0.3) and not conditions.breached("above", 0.3, 0.3)
    assert conditions.breached("below", 2, 5) and not conditions.breached("below", None, 5)
    assert conditions.breached("rise", 20, 2, previous=10) and not conditions.breached(
        "rise", 19, 2, previous=10
    )
    assert conditions.breached("fall", 5, 2, previous=10) and not conditions.breached(
        "fall", 6, 2, previous=10
    )
    assert conditions.breached("rise", 1, 2, previous=0) and not conditions.breached("rise", 0, 2, previous=0)
    state, events = "ok", []
    for hit in (False, True, True, True, False, False, True):
        change = conditions.transition(state, hit)
        state = change.state
        events.append(change.event)
    assert events == [None, "firing", None, None, "resolved", None, "firing"]


def test_a_window_is_the_whole_hours_it_overlaps():
    at_20 = datetime(2026, 12, 6, 10, 20, tzinfo=UTC)
    w = evaluation.window_at(at_20, 15)  # this hour so far
    assert (w.start.hour, w.end.hour, w.until, w.hours) == (10, 11, at_20, pytest.approx(1 / 3))
    at_05 = at_20.replace(minute=5)
    w = evaluation.window_at(at_05, 15)  # reaches into 09:xx: that hour too
    assert (w.start.hour, w.end.hour, w.hours) == (9, 11, pytest.approx(65 / 60))
    w = evaluation.window_at(at_05, 60)
    assert (w.start.hour, w.end.hour) == (9, 11)
    nine, seven = at_05.replace(hour=9, minute=0), at_05.replace(hour=7, minute=0)
    assert w.previous() == evaluation.Window(seven, nine, nine)


def test_masks_show_the_scheme_and_host_only():
    assert secret_url.mask(SECRET) == "https://hooks.slack.com/…"
    assert secret_url.mask("slack://T0SECRET/B0SECRET/xyz") == "slack://…"
    assert secret_url.mask("json://user:pw@127.0.0.1:8123/hook") == "json://127.0.0.1:8123/…"
    scrubbed = secret_url.scrub(f"Failed to post to {SECRET}: T0SECRET1 refused", SECRET)
    assert "SECRET" not in scrubbed and "hooks.slack.com" not in scrubbed or "T0SECRET1" not in scrubbed


@pytest.mark.django_db
def test_a_destination_url_is_stored_encrypted_and_never_shown_or_logged(caplog):
    manager = UserFactory(username="mona", role="manager")
    client = Client()
    client.force_login(manager)
    payload = {
        "name": "slack",
        "query": "",
        "series": "steps",
        "condition": "below",
        "threshold": 1,
        "window_minutes": 60,
        "destination": SECRET,
    }
    created = client.post("/api/v1/alerts/", payload, "application/json")
    assert created.status_code == 201, created.content
    destination = Destination.objects.get()
    assert "SECRET" not in destination.url_encrypted and destination.url == SECRET
    alert_id = created.json()["id"]
    for url in (f"/alerts/{alert_id}/", "/alerts/", f"/api/v1/alerts/{alert_id}/", "/api/v1/alerts/"):
        assert "SECRET" not in client.get(url).content.decode(), url
    # a delivery that fails (nothing listens there) logs and keeps the error without the URL
    notification = Notification.objects.create(destination=destination, title="t", body="b")
    with caplog.at_level(logging.DEBUG):
        notify.deliver(notification.pk)
    notification.refresh_from_db()
    assert notification.status == "pending" and notification.attempts == 1 and notification.last_error
    assert "SECRET" not in notification.last_error and "SECRET" not in caplog.text


@pytest.mark.django_db
def test_figures_come_from_the_rollups():
    now = datetime.now(UTC)
    for i in range(4):
        StepFactory(
            step_time=now - timedelta(minutes=1),
            status="failed" if i < 1 else "success",
            error_type="E" if i < 1 else "",
            duration_ns=(i + 1) * 100_000_000,
        )
    mark_dirty([now])
    flush()
    destination = Destination.for_url("json://127.0.0.1:9/x")
    alert = Alert(series="error_rate", condition="above", threshold=0.2, destination=destination, query="")
    window = evaluation.window_at(now, 60)
    assert evaluation.measure(alert, window) == evaluation.Figure(0.25, 4)
    alert.series = "steps"
    assert evaluation.measure(alert, window).value == 4
    alert.series = "p95_duration"
    assert (
        316 < evaluation.measure(alert, window).value < 562
    )  # ms: inside the 400 ms bucket of the histogram
    alert.series, alert.min_steps = "error_rate", 5
    assert evaluation.measure(alert, window).value is None  # too few steps to say


@pytest.mark.django_db
def test_evaluating_100_alerts_is_a_fixed_number_of_queries_each(django_assert_max_num_queries):
    destination = Destination.for_url("json://127.0.0.1:9/x")
    Alert.objects.bulk_create(
        Alert(name=f"a{i}", series="error_rate", condition="above", threshold=0.5, destination=destination)
        for i in range(100)
    )
    # one figure each, then one UPDATE for all; plus the rollup flush, the prices, the alerts
    with django_assert_max_num_queries(100 + 12):
        assert evaluation.evaluate_all() == 0
    assert not AlertEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "reviewer"])
def test_only_managers_write_rules_and_alerts(role):
    client = Client()
    client.force_login(UserFactory(username="rita", role=role))
    for url in ("/alerts/", "/rules/", "/api/v1/alerts/", "/api/v1/rules/"):
        response = client.post(url, {"name": "x"}, headers={"HX-Request": "true"})
        assert response.status_code == 403, url
        assert client.get(url).status_code == 200  # everyone reads
    assert not Alert.objects.exists()


def test_credentials_in_a_url_never_reach_a_log_line():
    from dashboard.log_redaction import redact

    line = redact("apprise: could not reach mailto://bob:hunter2@mail.example.com (timeout)")
    assert "hunter2" not in line and "bob" not in line and "mail.example.com" in line
