"""The rubric editor in Chromium under the real CSP: the choices box follows the kind picked (the
editor's static script), adding and moving items keeps what was typed, and a used rubric saves
as the next version."""

from __future__ import annotations

import pytest

from steps.review.models import Rubric
from tests.browser_fixtures import open_logged_in, shot
from tests.factories import UserFactory
from tests.review_data import make_queue, make_rubric

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lead():
    return UserFactory(username="reviewer", role="manager")


def test_build_a_rubric_and_version_it(browser, live_server, lead):
    context, page = open_logged_in(browser, live_server, bypass_csp=False)
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server.url}/review/rubrics/new/")
    page.fill("input[name=name]", "Support quality")
    page.fill("textarea[name=items-0-description]", "Would you ship this answer to the user?")
    choices = page.locator("[data-item]").nth(0).locator("[data-choices]")
    assert not choices.is_visible()  # a thumbs item has no choices
    page.get_by_role("button", name="+ Add item").click()
    page.wait_for_selector("input[name=items-1-name]")
    assert page.input_value("input[name=name]") == "Support quality"  # kept across the round trip
    page.fill("input[name=items-1-name]", "accuracy")
    page.fill("textarea[name=items-1-choices]", "1 = wrong\n2\n3 = partly right\n4\n5 = right")
    page.fill("textarea[name=items-1-description]", "Are the facts in the reply correct?")
    page.get_by_role("button", name="+ Add item").click()
    page.wait_for_selector("input[name=items-2-name]")
    page.fill("input[name=items-2-name]", "tone")
    page.select_option("select[name=items-2-kind]", "categorical")
    item = page.locator("[data-item]").nth(2)
    assert item.locator("[data-choices]").is_visible()
    assert "One label per line" in item.locator("[data-kind-help]").inner_text()
    page.fill("textarea[name=items-2-choices]", "friendly\nneutral\ncurt")
    page.get_by_role("button", name="Move item 3 up").click()
    page.wait_for_function("document.querySelector('input[name=items-1-name]').value === 'tone'")
    shot(page, "revieweval-rubric-editor")
    page.locator("button[value=save]").first.click()
    page.wait_for_url("**/review/rubrics/*/")
    assert "Rubric “Support quality” created." in page.content()
    rubric = Rubric.objects.get()
    assert [i.name for i in rubric.items.order_by("position")] == ["verdict", "tone", "accuracy"]

    make_queue([], rubric=rubric)  # a queue uses it now
    page.goto(f"{live_server.url}/review/rubrics/{rubric.pk}/edit/")
    assert "Save as version 2" in page.locator("button[value=save]").first.inner_text()
    shot(page, "revieweval-rubric-editor-locked", full_page=False)
    page.get_by_role("button", name="Remove item 2").click()
    page.wait_for_function("document.querySelectorAll('[data-item]').length === 2")
    page.locator("button[value=save]").first.click()
    page.wait_for_url("**/review/rubrics/*/")
    assert "Saved as version 2" in page.content()
    shot(page, "revieweval-rubric-detail")
    assert list(rubric.items.values_list("name", flat=True).order_by("position")) == [
        "verdict",
        "tone",
        "accuracy",
    ]
    assert refused == []
    context.close()


def test_the_list_for_a_reviewer(browser, live_server):
    UserFactory(username="reviewer")
    make_rubric(name="Support quality")
    make_rubric([{"name": "verdict", "kind": "thumbs"}], name="Thumbs only", description="The quick one.")
    context, page = open_logged_in(browser, live_server, bypass_csp=False)
    page.goto(f"{live_server.url}/review/rubrics/")
    assert page.locator(".rubric-table tbody tr").count() == 2
    assert page.get_by_role("link", name="New rubric").count() == 0  # managers only
    shot(page, "revieweval-rubric-list", full_page=False)
    context.close()
