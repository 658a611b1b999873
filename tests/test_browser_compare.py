"""Comparing in a real Chromium: from the list selection to the diff, and every view on simulator data."""

import os
import shutil
from pathlib import Path

import pytest
from django.db.models import Count
from playwright.sync_api import expect

from steps.models import Message, ProviderTrace, Step
from steps.sync import run_sync
from steps.sync.upstream import LettaClient
from tests.browser_fixtures import ARTIFACTS, open_logged_in, shot
from tests.compare_fixtures import consecutive_steps
from tests.conftest import quick_sleep
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# Where a person looks at the screenshots besides test-artifacts/ (set COMPARE_SHOTS to copy them).
SHOTS = os.environ.get("COMPARE_SHOTS", "")


def save(page, name: str) -> None:
    shot(page, name)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        shutil.copy(ARTIFACTS / f"{name}.png", Path(SHOTS) / f"{name}.png")


@pytest.fixture
def page(browser, live_server):
    UserFactory(username="reviewer")
    context, page = open_logged_in(browser, live_server, timeout=15_000)
    yield page
    context.close()


def test_select_two_rows_press_compare_and_see_the_headline(page, live_server):
    a, b = consecutive_steps()
    page.reload()
    button = page.locator("[data-compare-selected]")
    page.locator(f"tr[data-step='{b.pk}'] input.row-check").click()
    expect(button).to_be_disabled()  # one selected row is not a pair
    page.locator(f"tr[data-step='{a.pk}'] input.row-check").click()
    expect(button).to_be_enabled()
    save(page, "list-two-selected")
    button.click()
    page.wait_for_url(f"**/compare/{a.pk}/{b.pk}/")
    headline = page.locator("#headline").inner_text()
    assert "2 messages appended (tool call + tool return)" in headline
    assert "block human changed" in headline
    assert "+1,204 prompt tokens" in headline
    save(page, "compare-from-list")
    # the hostile text in memory and messages stays text
    assert page.evaluate("window.__xss === undefined && !document.querySelector('img[src=x]')")

    fold = page.locator(".dmsg-fold").first
    count_before = page.locator("#request-messages li.dmsg").count()
    fold.locator("button").click()
    page.wait_for_function(f"document.querySelectorAll('#request-messages li.dmsg').length > {count_before}")
    assert page.locator("#request-messages li.dmsg-unchanged").count() >= 12


def test_the_c_key_compares_the_selection(page, live_server):
    a, b = consecutive_steps()
    page.reload()
    page.locator(f"tr[data-step='{a.pk}'] input.row-check").click()
    page.locator(f"tr[data-step='{b.pk}'] input.row-check").click()
    page.locator("body").press("c")
    page.wait_for_url(f"**/compare/{a.pk}/{b.pk}/")
    assert "2 messages appended" in page.locator("#headline").inner_text()


def _consecutive_pair_with_memory_change() -> tuple[Step, Step]:
    """Two steps of one run whose system prompts differ (a memory tool ran in between)."""
    traces = {
        t.step_id: t
        for t in ProviderTrace.objects.filter(call_type="agent_step").only("step_id", "request_json")
    }
    for step in Step.objects.filter(run__isnull=False).order_by("run_id", "step_time"):
        following = (
            Step.objects.filter(run_id=step.run_id, step_time__gt=step.step_time)
            .order_by("step_time")
            .first()
        )
        if not following or step.pk not in traces or following.pk not in traces:
            continue
        system = [traces[s.pk].request_json["messages"][0]["content"] for s in (step, following)]
        if system[0] != system[1] and "messages" in traces[step.pk].request_json:
            return step, following
    raise AssertionError("the simulator made no memory edit between two steps of a run")


def test_screenshots_of_every_view_on_simulator_data(page, live_server, simulator):
    with LettaClient(simulator.base_url, sleep=quick_sleep, max_retries=2) as client:
        run_sync(client)
    a, b = _consecutive_pair_with_memory_change()
    url = f"{live_server.url}/compare/{a.pk}/{b.pk}/"

    page.goto(url)
    headline = page.locator("#headline").inner_text()
    assert "appended" in headline and "block human changed" in headline
    # the real prompt-token difference sits on the parts that changed, never on the tools or instructions
    for part in ("tool schemas", "system instructions"):
        row = page.locator("#context tbody tr", has_text=part)
        expect(row.locator("td").last).to_have_text("0")
    save(page, "compare-structural")
    page.goto(url + "?view=side")
    save(page, "compare-side")
    page.goto(url + "?view=json")
    assert page.locator(".ud-add").count() > 0
    save(page, "compare-json")
    rows = page.locator("#json-request tr.ud-line").count()
    page.locator("#json-request .fold-json").first.click()
    page.wait_for_function(f"document.querySelectorAll('#json-request tr.ud-line').length > {rows}")
    page.goto(url + "?hide_unchanged=1")
    save(page, "compare-hide-unchanged")

    page.goto(f"{live_server.url}/steps/{b.pk}/")
    assert page.locator("#context-window .ctx-bar rect").count() >= 4
    save(page, "step-context-bar")
    page.click("#compare-card summary")
    picked = page.locator("#compare-card .pick-list a").first
    picked.wait_for()
    assert f"/{b.pk}/" in picked.get_attribute("href")
    page.keyboard.press("c")  # compare with the previous step
    page.wait_for_url("**/compare/**")
    assert page.locator("#headline").count() == 1

    # the other run: one of the same agent that finished with several steps, if there is one
    runs = (
        Step.objects.filter(agent_id=a.agent_id, run__isnull=False, run__status="completed")
        .exclude(run_id=a.run_id)
        .values("run_id")
        .annotate(n=Count("id"))
        .order_by("-n", "run_id")
    )
    page.goto(f"{live_server.url}/compare/runs/{a.run_id}/{runs[0]['run_id']}/")
    assert page.locator(".run-pairs tbody tr").count() >= 1
    save(page, "compare-runs")
    assert Message.objects.exists()
