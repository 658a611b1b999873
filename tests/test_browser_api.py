"""The API docs page renders every operation from our own static files, under the CSP, with no outside
request; the tokens page creates a token shown once and a script-style request then works with it."""

import pytest
from playwright.sync_api import expect

from tests.browser_fixtures import open_logged_in, shot
from tests.factories import StepFactory, UserFactory
from tests.test_browser_csp import LISTEN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reviewer():
    return UserFactory(username="reviewer")


def test_the_docs_page_renders_the_operations_with_no_outside_request_and_no_csp_violation(
    browser, live_server, reviewer
):
    context, page = open_logged_in(browser, live_server, bypass_csp=False)
    context.add_init_script(LISTEN)
    outside, console = [], []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None)
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_load_state("networkidle")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() == schema_operations()  # every operation of the schema, export included
    shot(page, "api-docs-top", full_page=False)
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/steps/{step_id}/feedback")).to_be_visible()
    # Swagger UI fetched the schema with the session
    page.locator(".opblock-summary", has_text="/api/v1/steps/").first.click()
    expect(page.locator(".parameters-container").first).to_contain_text("status")
    shot(page, "api-docs", full_page=False)
    assert page.evaluate("window.__cspViolations") == []
    assert console == []
    assert outside == []
    context.close()


def test_create_a_token_in_the_browser_and_use_it(browser, live_server, reviewer):
    StepFactory()
    context, page = open_logged_in(browser, live_server, bypass_csp=False)
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_text("No tokens yet")).to_be_visible()
    page.fill("input[name=name]", "nightly eval")
    page.get_by_role("button", name="Create token").click()
    key = page.locator("#new-token-key").inner_text()
    assert key.startswith("lsd_")
    shot(page, "api-token-created", full_page=False)
    answer = context.request.get(
        f"{live_server.url}/api/v1/steps/", headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status == 200 and len(answer.json()["results"]) == 1
    page.goto(f"{live_server.url}/account/tokens/")
    expect(page.locator("#new-token-key")).to_have_count(0)  # never shown again
    expect(page.locator(".tokens-table")).to_contain_text("nightly eval")
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("No tokens yet")).to_be_visible()
    assert (
        context.request.get(
            f"{live_server.url}/api/v1/steps/", headers={"Authorization": f"Bearer {key}"}
        ).status
        == 401
    )
    context.close()


def schema_operations() -> int:
    from drf_spectacular.generators import SchemaGenerator

    methods = {"get", "post", "put", "patch", "delete"}
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return sum(1 for operations in paths.values() for method in operations if method in methods)
