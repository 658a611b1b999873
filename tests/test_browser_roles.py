"""A viewer in real Chromium: the list and the step page show the votes without controls, the role
sits in the top bar, and the vote keys say why nothing happens instead of saving."""

import pytest

from steps.models import StepVote
from tests.browser_fixtures import open_logged_in, shot
from tests.factories import ProviderTraceFactory, StepFactory, UserFactory, conversation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def steps():
    made = [
        StepFactory(feedback="positive" if i % 3 == 0 else None, tags=("checked",) if i == 0 else ())
        for i in range(8)
    ]
    for step in made:
        conversation(step)
    ProviderTraceFactory(step=made[0])
    return made


@pytest.fixture
def page(browser, live_server, steps):
    UserFactory(username="vic", role="viewer")
    context, page = open_logged_in(browser, live_server, username="vic")
    yield page
    context.close()


def test_a_viewer_reads_the_list_and_is_told_why_votes_do_nothing(page, steps):
    assert page.locator(".role-chip").inner_text().strip().lower() == "viewer"
    first = page.locator("tr.step-row").first
    assert first.locator(".vote-btn").first.is_disabled()
    assert page.locator("form.vote-form").count() == 0
    page.keyboard.press("j")
    page.keyboard.press("+")
    toast = page.locator("#toast")
    toast.wait_for()
    assert toast.inner_text() == "Viewers can read; ask a manager for the reviewer role."
    assert not StepVote.objects.exists()
    # selecting rows still works (for Compare); the bulk bar offers no rating
    first.locator("input.row-check").check()
    bar = page.locator("#bulk-form")
    bar.wait_for()
    assert "Viewers can read; ask a manager for the reviewer role." in bar.inner_text()
    assert bar.locator("button[value=positive]").count() == 0
    shot(page, "roles-viewer-list", full_page=False)


def test_a_viewer_reads_a_step_without_review_controls(page, live_server, steps):
    step = steps[0]
    page.goto(f"{live_server.url}/steps/{step.pk}/")
    review = page.locator("#review-card")
    assert review.locator(".vote-up.is-active").is_disabled()
    assert review.locator(".chip", has_text="checked").count() == 1
    assert review.locator("input[name=add]").count() == 0
    assert page.locator("#review-note textarea").count() == 0
    assert page.locator("#share-links form").count() == 0
    assert "ask a manager for the reviewer role" in page.locator("#share-links").inner_text()
    shot(page, "roles-viewer-step", full_page=False)
    page.keyboard.press("-")
    page.locator("#toast").wait_for()
    assert page.locator("#toast").inner_text().startswith("Viewers can read")
    assert not StepVote.objects.exists()
