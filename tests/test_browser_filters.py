"""The step list's filter form in real Chromium: chips, sort, toggles, URLs, errors, error pages."""

import re

import pytest
from django.contrib.auth.models import Permission

from steps.models import Step
from tests.browser_fixtures import open_logged_in, shot
from tests.factories import StepFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def data():
    user = UserFactory(username="reviewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_sharelink"))
    return {
        "small": StepFactory(prompt_tokens=100, feedback="positive"),
        "big": StepFactory(prompt_tokens=9000),
        "failed": StepFactory(failed=True),
    }


@pytest.fixture
def page(browser, live_server, data):
    context, page = open_logged_in(browser, live_server, timeout=10_000)
    yield page
    context.close()


def rows(page) -> list[str]:
    return page.eval_on_selector_all("tr.step-row", "rows => rows.map(r => r.dataset.step)")


def wait_rows(page, n):
    page.wait_for_function(f"document.querySelectorAll('tr.step-row').length === {n}")


def test_removing_a_chip_clears_the_sidebar_and_stays_removed(page, live_server, data):
    page.goto(live_server.url + "/?status=failed")
    wait_rows(page, 1)
    page.click("a.chip-filter:has-text('Status: Failed')")
    page.wait_for_url(live_server.url + "/")
    wait_rows(page, 3)
    assert page.locator("select[name=status]").input_value() == ""
    # the next change must not bring the removed filter back
    page.select_option("select[name=has_error]", "no")
    page.wait_for_url(live_server.url + "/?has_error=no")
    wait_rows(page, 2)


def test_sort_dropdown_reloads_the_list(page, live_server, data):
    page.select_option("select[name=sort]", "-tokens")
    page.wait_for_url(live_server.url + "/?sort=-tokens")
    page.wait_for_function(f"document.querySelector('tr.step-row').dataset.step === '{data['big'].pk}'")
    page.select_option("select[name=sort]", "")  # back to newest first: nothing in the URL
    page.wait_for_url(live_server.url + "/")


def test_sort_link_in_the_table_head_moves_the_dropdown_too(page, live_server, data):
    page.click("th a:has-text('Tokens')")
    page.wait_for_url(live_server.url + "/?sort=-tokens")
    assert page.locator("select[name=sort]").input_value() == "-tokens"
    page.select_option("select[name=status]", "success")
    page.wait_for_url(re.compile(r".*/\?status=success&sort=-tokens$"))


def test_unreviewed_and_live_toggles_reload_the_list(page, live_server, data):
    page.click("label.toggle:has(input[name=unreviewed])")
    page.wait_for_url(live_server.url + "/?unreviewed=1")
    wait_rows(page, 2)
    assert data["small"].pk not in rows(page)
    page.click("label.toggle:has(input[name=live])")
    page.wait_for_url(live_server.url + "/?unreviewed=1&live=1")
    page.locator("#live-poller").wait_for(state="attached")


def test_url_keeps_only_what_is_set(page, live_server, data):
    page.fill("input[name=q]", "zzz-nothing-matches")
    page.wait_for_url(live_server.url + "/?q=zzz-nothing-matches")
    page.locator(".empty-title:has-text('No steps match these filters')").wait_for()


def test_invalid_filter_shows_the_error_and_no_chip(page, live_server, data):
    page.goto(live_server.url + "/?status=bogus&tokens_min=lots&has_error=yes")
    assert "“bogus” was ignored" in page.locator(".filter-problems").inner_text()
    assert [" ".join(t.split()) for t in page.locator("a.chip-filter").all_inner_texts()] == ["Has error ×"]
    shot(page, "list-invalid-filter", full_page=False)


def test_chips_read_as_words(page, live_server, data):
    page.goto(live_server.url + "/?status=failed&has_error=yes&tokens_min=0&unreviewed=1&period=7d")
    chips = [" ".join(t.split()) for t in page.locator("a.chip-filter").all_inner_texts()]
    assert chips == ["Status: Failed ×", "Has error ×", "Tokens ≥ 0 ×", "Last 7 days ×", "Unreviewed ×"]
    shot(page, "list-chips", full_page=False)


def test_error_toast_for_a_step_deleted_meanwhile(page, live_server, data):
    target = data["big"].pk
    Step.objects.filter(pk=target).delete()
    page.click(f"#vote-{target} button.vote-up")
    toast = page.locator("#toast")
    toast.wait_for()
    assert toast.inner_text() == "That step or page no longer exists."


def test_not_found_page(page, live_server):
    page.goto(live_server.url + "/steps/step-00000000-0000-4000-8000-000000000000/")
    assert page.locator("h1").inner_text() == "Not found"
    shot(page, "error-404", full_page=False)
    page.click("text=Back to the step list")
    page.wait_for_url(live_server.url + "/")


@pytest.mark.urls("tests.error_urls")
def test_server_error_page(page, live_server):
    page.goto(live_server.url + "/boom/")
    assert page.locator("h1").inner_text() == "Something went wrong"
    shot(page, "error-500", full_page=False)
