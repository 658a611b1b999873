"""Saved views, rules and alerts in real Chromium: saving the list's filters from the sidebar, the
"N new" badge, the editors with "Send a test" to a real receiver, and an alert's history."""

from __future__ import annotations

import contextlib
import os
import shutil
from datetime import timedelta

import pytest
from django.utils import timezone

from steps.alerts.models import Alert, AlertEvent, Destination, Notification, Rule, SavedView
from tests.browser_fixtures import ARTIFACTS, open_logged_in, shot
from tests.factories import StepFactory, UserFactory, conversation
from tests.test_alerts_e2e import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def keep(page, name: str) -> None:
    """A screenshot in test-artifacts/, copied to $SCREENSHOT_DIR when that is set."""
    shot(page, name)
    if target := os.environ.get("SCREENSHOT_DIR"):
        with contextlib.suppress(OSError):
            shutil.copy(ARTIFACTS / f"{name}.png", f"{target}/{name}.png")


@pytest.fixture
def world():
    now = timezone.now()
    for i in range(6):
        step = StepFactory(
            status="failed" if i < 3 else "success",
            error_type="LLMTimeoutError" if i < 3 else "",
            step_time=now - timedelta(minutes=i + 1),
        )
        conversation(step)
    UserFactory(username="mona", role="manager", password="correct horse battery")
    return now


@pytest.fixture
def page(browser, live_server, world):
    context, page = open_logged_in(browser, live_server, username="mona")
    yield page
    context.close()


def test_a_manager_saves_a_view_sees_its_new_steps_and_shares_it(page, live_server):
    page.goto(live_server.url + "/?status=failed")
    page.click("text=Save this view")
    page.fill(".save-view input[name=name]", "Failed steps")
    page.check(".save-view input[name=shared]")
    page.click(".save-view button[type=submit]")
    page.wait_for_url(live_server.url + "/?status=failed")
    view = SavedView.objects.get()
    assert view.shared and view.query == "status=failed"
    SavedView.objects.create(
        owner=view.owner, name="Bad votes on gpt-4.1", query="feedback=negative&model=gpt-4.1"
    )
    page.goto(live_server.url + "/")
    page.wait_for_selector(".saved-views-body:not([hx-get])")  # the counts follow the page
    item = page.locator(".saved-views-list li", has_text="Failed steps")
    assert "3 new" in item.inner_text() and "team" in item.inner_text()
    keep(page, "alerts-sidebar")
    item.locator("a").click()
    page.wait_for_url(live_server.url + "/?status=failed")
    page.wait_for_selector(".saved-views-body:not([hx-get])")
    assert "3 new" not in page.locator(".saved-views-list").inner_text()  # opened: counted from now
    page.goto(live_server.url + "/overview/")
    panel = page.locator("section.card", has_text="Saved views")
    assert "Failed steps" in panel.inner_text() and "Alert on these filters" in panel.inner_text()
    keep(page, "alerts-overview")


def test_the_rule_editor_sends_a_test_and_creates_a_rule(page, live_server):
    SavedView.objects.create(
        owner=UserFactory(username="o"), name="Failed", query="status=failed", shared=True
    )
    with Receiver() as receiver:
        page.goto(live_server.url + "/rules/")
        page.fill("input[name=name]", "Failed → needs-triage")
        page.fill("input[name=tags]", "needs-triage")
        page.fill("#id_destination", f"json://127.0.0.1:{receiver.port}/hook")
        page.click("text=Send a test")
        page.wait_for_selector(".test-result")
        assert "Test sent" in page.locator(".test-result").inner_text()
        assert receiver.bodies and receiver.bodies[0]["title"].startswith("Test from")
        keep(page, "alerts-rule-editor")
        page.click("text=Create rule")
        page.wait_for_selector("text=acts on newly synced steps")
    rule = Rule.objects.get()
    assert (rule.action, rule.tags) == ("tag", ["needs-triage"])


def test_an_alerts_history_shows_each_change_with_its_figure_and_delivery(page, live_server, world):
    destination = Destination.for_url("json://127.0.0.1:9/hooks/secret-token-123")
    alert = Alert.objects.create(
        name="Support errors up",
        query="agent=support-bot",
        series="error_rate",
        condition="above",
        threshold=0.2,
        window_minutes=60,
        destination=destination,
        state="resolved",
        last_value=0.08,
        last_evaluated_at=world,
    )
    start = world.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    for kind, value, minutes, status, error in (
        ("firing", 0.45, 50, "sent", ""),
        ("resolved", 0.08, 10, "failed", "Connection refused by 127.0.0.1 (after 8 attempts)"),
    ):
        event = AlertEvent.objects.create(
            alert=alert,
            kind=kind,
            at=world - timedelta(minutes=minutes),
            value=value,
            threshold=0.2,
            steps=40,
            window_start=start,
            window_end=start + timedelta(hours=2),
            text=f"error rate {100 * value:.1f}% {'is above' if kind == 'firing' else 'back under'} 20.0% (40 steps)",
            link="/?agent=support-bot",
        )
        Notification.objects.create(
            destination=destination,
            alert=alert,
            event=event,
            title=f"[{kind.upper()}] Support errors up",
            body="…",
            status=status,
            attempts=8 if status == "failed" else 1,
            last_error=error,
        )
    page.goto(live_server.url + f"/alerts/{alert.pk}/")
    html = page.content()
    assert "secret-token-123" not in html and "json://127.0.0.1:9/…" in html
    assert page.locator("table >> text=started firing").count() == 1
    assert page.locator("text=Connection refused").count() == 1 and page.locator("text=Retry").count() == 1
    keep(page, "alerts-history")
    page.goto(live_server.url + "/alerts/")
    keep(page, "alerts-editor")
