"""Real Chromium (Debian's, through Playwright) against the live server: what only a browser shows."""

import pytest
from django.contrib.auth.models import Permission

from tests.browser_fixtures import open_logged_in, shot
from tests.factories import (
    ProviderTraceFactory,
    RunFactory,
    StepFactory,
    StepMetricsFactory,
    UserFactory,
    conversation,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def data():
    user = UserFactory(username="reviewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_sharelink"))
    run = RunFactory(agent_id="agent-aaaaaaaa-0000")
    ok = StepFactory(run_id=run.id, agent_id="agent-aaaaaaaa-0000")
    conversation(ok, user_text="Find my notes about the Q3 roadmap", answer="The roadmap ships the UI first.")
    StepMetricsFactory(step=ok, llm_request_ns=20_000_000, tool_execution_ns=6_000_000, step_ns=30_000_000)
    ProviderTraceFactory(step=ok)
    failed = StepFactory(failed=True, run_id=run.id, agent_id="agent-bbbbbbbb-0000")
    return {"user": user, "ok": ok, "failed": failed}


@pytest.fixture
def page(browser, live_server, data):
    context, page = open_logged_in(browser, live_server, timeout=10_000)
    yield page
    context.close()


def test_login_filter_and_back(page, live_server, data):
    assert page.locator("tr.step-row").count() == 2
    shot(page, "step-list")
    page.select_option("select[name=status]", "failed")
    page.wait_for_url("**/?*status=failed*")
    page.wait_for_function("document.querySelectorAll('tr.step-row').length === 1")
    assert data["failed"].pk[5:13] not in page.content() or page.locator("tr.step-row").count() == 1
    page.go_back()
    page.wait_for_function("document.querySelectorAll('tr.step-row').length === 2")
    assert page.locator("select[name=status]").input_value() == ""


def test_open_step_and_expand_trace(page, live_server, data):
    page.click(f"a.row-link[href='/steps/{data['ok'].pk}/']")
    page.wait_for_url(f"**/steps/{data['ok'].pk}/")
    assert page.locator(".msg-user").first.inner_text().endswith("Find my notes about the Q3 roadmap")
    request = page.locator("details.json-block").first
    assert request.get_attribute("open") is None
    request.locator("summary").click()
    highlighted = request.locator("pre.json .tok-key").first
    highlighted.wait_for()
    assert highlighted.inner_text() == '"model"'
    shot(page, "step-page")


def test_create_open_and_revoke_public_link(page, browser, live_server, data):
    page.goto(f"{live_server.url}/steps/{data['ok'].pk}/")
    page.click("#share-links button:has-text('Create link')")
    url_input = page.locator("#share-links .share-url input")
    url_input.wait_for()
    public_url = url_input.input_value()
    anonymous = browser.new_context()
    public = anonymous.new_page()
    public.goto(public_url)
    assert "Find my notes about the Q3 roadmap" in public.content()
    assert public.locator("meta[name=robots]").get_attribute("content") == "noindex, nofollow"
    shot(public, "shared-step")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#share-links button:has-text('Revoke')")
    page.locator("#share-links .badge:has-text('revoked')").wait_for()
    public.reload()
    assert "This link was revoked" in public.content()
    anonymous.close()
