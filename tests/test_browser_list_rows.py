"""A list row carries its step's URL once (in its time link); a click anywhere on the row, or
`o` on the focused row, still opens the step with the list it came from."""

import pytest

from tests.browser_fixtures import open_logged_in, shot
from tests.factories import BASE_TIME, StepFactory, UserFactory, conversation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def data():
    from datetime import timedelta

    UserFactory(username="reviewer")
    steps = [StepFactory(step_time=BASE_TIME + timedelta(minutes=i)) for i in range(3)]
    for step in steps:
        conversation(step, user_text=f"question {step.pk[5:13]}")
    return steps[::-1]  # newest first, as the list shows them


@pytest.fixture
def page(browser, live_server, data):
    context, page = open_logged_in(browser, live_server, timeout=10_000)
    yield page
    context.close()


def test_a_click_on_a_rows_conversation_opens_its_step_with_the_list(page, live_server, data):
    page.goto(live_server.url + "/?status=success")
    page.locator(f"tr[data-step='{data[1].pk}'] .col-convo").click()
    page.wait_for_url(f"**/steps/{data[1].pk}/?from=status%3Dsuccess")
    # the step page's "Next unreviewed" walks the list it was opened from
    assert "status%3Dsuccess" in page.locator("[data-key-queue]").get_attribute("href")


def test_o_opens_the_focused_row(page, live_server, data):
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.locator("tr.step-row.kbd-focus").get_attribute("data-step") == data[1].pk
    shot(page, "list-rows-focus", full_page=False)
    page.keyboard.press("o")
    page.wait_for_url(f"**/steps/{data[1].pk}/")


def test_a_click_on_the_rows_checkbox_or_vote_stays_on_the_list(page, live_server, data):
    page.locator(f"tr[data-step='{data[0].pk}'] input.row-check").click()
    assert page.locator("#bulk-form").is_visible()
    page.locator(f"#vote-{data[2].pk} button.vote-down").click()
    # only the server's answer says who voted: the widget was swapped in place of the row's own
    page.locator(f"#vote-{data[2].pk}[title^='voted by reviewer']").wait_for()
    assert page.locator(f"#vote-{data[2].pk} button.vote-down.is-active").count() == 1
    assert page.url == live_server.url + "/"
    assert page.locator(".vote-compact").count() == 3
    # the swapped-in widget draws its icons from the page's sprite too
    assert page.locator(f"#vote-{data[2].pk} svg.thumb use").count() == 2
