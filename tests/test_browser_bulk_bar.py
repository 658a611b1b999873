"""The selection bar of the list, in Chromium: it never hides the rows it acts on."""

import pytest

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
