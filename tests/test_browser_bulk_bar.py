"""The selection bar of the list, in Chromium: it never hides the rows it acts on, and the rows it
rated show their new vote without a reload."""

import io

import pytest
from django.core.management import call_command

from tests.browser_fixtures import open_logged_in, shot
from tests.factories import StepFactory, UserFactory, conversation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser, live_server):
    UserFactory(username="reviewer", is_staff=True)
    for i in range(40):
        conversation(StepFactory(), user_text=f"question number {i}", answer="an answer")
    context, page = open_logged_in(browser, live_server, timeout=10_000)
    yield page
    context.close()


def bottom(page, selector):
    box = page.locator(selector).first.bounding_box()
    return box["y"] + box["height"]


def top(page, selector):
    return page.locator(selector).first.bounding_box()["y"]


def test_the_bulk_bar_covers_no_row(page):
    page.locator("tr.step-row input.row-check").first.check()
    page.locator("#bulk-form:not([hidden])").wait_for()
    shot(page, "bulk-bar-first-row", full_page=False)
    # above the table, in the flow: the header and the first row below it, not under it
    assert bottom(page, "#bulk-form") <= top(page, ".steps-table thead") + 1
    assert bottom(page, ".steps-table thead") <= top(page, "tr.step-row") + 1

    # scrolled: the bar sticks under the top bar, and a row the keyboard moves to is not under it
    page.evaluate("document.activeElement.blur()")  # keys typed into the checkbox are not shortcuts
    for _ in range(12):
        page.keyboard.press("j")
    for _ in range(10):  # up past the rows now under the bars: back to the third row
        page.keyboard.press("k")
    shot(page, "bulk-bar-scrolled", full_page=False)
    assert page.evaluate("window.scrollY") > 0
    assert top(page, "#bulk-form") == pytest.approx(bottom(page, ".topbar"), abs=1)
    assert top(page, "tr.step-row.kbd-focus") >= bottom(page, "#bulk-form") - 1


@pytest.fixture
def synced(simulator, settings):
    """Steps synced from the simulator, and votes written back to it at once (Celery eager)."""
    settings.LETTA_BASE_URL = simulator.base_url
    settings.LETTA_MAX_RETRIES = 0
    settings.CELERY_TASK_ALWAYS_EAGER = True
    call_command("sync_steps", stdout=io.StringIO())
    return simulator


def test_a_bulk_vote_redraws_the_rows_it_rated(browser, live_server, synced):
    UserFactory(username="reviewer", is_staff=True)
    context, page = open_logged_in(browser, live_server, timeout=15_000)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.evaluate("window.notReloaded = true")
    ids = page.eval_on_selector_all("tr.step-row", "rows => rows.map(r => r.dataset.step)")
    before = {i: page.locator(f"#vote-{i}").get_attribute("data-state") for i in ids[3:]}
    for i in range(3):
        page.locator("input.row-check").nth(i).click()
    page.click("#bulk-form button[value=positive]")
    page.locator(".bulk-progress.is-finished").wait_for()
    for step_id in ids[:3]:
        page.locator(f"#vote-{step_id}[data-state=saved] button.vote-up.is-active").wait_for()
    shot(page, "bulk-vote-rows-redrawn", full_page=False)
    assert page.evaluate("window.notReloaded") is True  # no "Refresh list" needed
    assert {i: page.locator(f"#vote-{i}").get_attribute("data-state") for i in ids[3:]} == before
    assert {synced.world.step_payload(i)["feedback"] for i in ids[:3]} == {"positive"}
    context.close()
