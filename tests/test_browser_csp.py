"""Chromium reports no Content-Security-Policy violation on any page, and the pages still work
under the policy (htmx swaps, the timing bar, the admin)."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from steps.overview.rollup import rebuild
from steps.pages import share
from tests.browser_fixtures import open_logged_in
from tests.factories import (
    ProviderTraceFactory,
    RunFactory,
    StepFactory,
    StepMetricsFactory,
    UserFactory,
    conversation,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/shots-h-security")

# Every violation the page reports, whether from markup, scripts or htmx.
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sample || ""));
});
"""


@pytest.fixture
def data():
    user = UserFactory(username="reviewer", is_staff=True, is_superuser=True)
    user.user_permissions.add(Permission.objects.get(codename="add_sharelink"))
    run = RunFactory(agent_id="agent-aaaaaaaa-0000")
    step = StepFactory(run_id=run.id, agent_id="agent-aaaaaaaa-0000")
    conversation(
        step, user_text="Find my notes about the Q3 roadmap", answer="The roadmap ships the UI first."
    )
    StepMetricsFactory(step=step, llm_request_ns=20_000_000, tool_execution_ns=6_000_000, step_ns=30_000_000)
    ProviderTraceFactory(step=step)
    other = StepFactory(failed=True, run_id=run.id, agent_id="agent-bbbbbbbb-0000")
    link = share.create_link(step, user, "1d")
    return {"run": run, "step": step, "other": other, "link": link}


def visit(page, url, name):
    page.goto(url)
    page.wait_for_load_state("networkidle")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"csp-{name}.png"), full_page=False)
    return page.evaluate("window.__cspViolations")


def test_no_page_reports_a_csp_violation(browser, live_server, data):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(LISTEN)
    console = []
    page = context.new_page()
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    page.set_default_timeout(15_000)
    base = live_server.url
    violations = {"login": visit(page, f"{base}/login/", "login")}
    # The listener hears a violation when there is one: an inline style set from script.
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__cspViolations.splice(0)"), "the violation listener heard nothing"
    console.clear()
    share_url = f"{base}/share/{share.signed_token(data['link'])}/"
    violations["share"] = visit(page, share_url, "share")
    assert page.get_by_text("provider traces are not included").is_visible()
    context.close()

    context, page = open_logged_in(browser, live_server, bypass_csp=False)
    context.add_init_script(LISTEN)
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    step = data["step"]
    violations["list"] = visit(page, f"{base}/", "list")
    page.select_option("select[name=status]", "failed")  # an htmx swap under the policy
    expect(page.locator("tr.step-row")).to_have_count(1)  # not wait_for_function: it uses eval
    violations["list after filter"] = page.evaluate("window.__cspViolations")
    violations["step"] = visit(page, f"{base}/steps/{step.pk}/", "step")
    llm = page.locator(".timing-bar rect.seg-llm")
    assert llm.get_attribute("width") == "66.67%"  # 20 of 30 ms, drawn without style=""
    assert page.locator(".timing-bar").bounding_box()["width"] > 100
    violations["run"] = visit(page, f"{base}/runs/{data['run'].pk}/", "run")
    rebuild()  # the factory steps' rollups
    violations["overview"] = visit(page, f"{base}/overview/?period=30d", "overview")
    expect(page.locator("[data-chart] rect.cbar").first).to_be_visible()
    page.select_option("select[name=breakdown]", "agent")  # overview.js applies the form
    expect(page.locator("select[name=breakdown]")).to_have_value("agent")
    page.wait_for_url("**breakdown=agent**")
    violations["overview by agent"] = page.evaluate("window.__cspViolations")
    for view in ("structural", "side", "json"):
        url = f"{base}/compare/{step.pk}/{data['other'].pk}/?view={view}"
        violations[f"compare {view}"] = visit(page, url, f"compare-{view}")
    violations["not found"] = visit(page, f"{base}/steps/step-00000000-0000-4000-8000-000000000000/", "404")
    violations["admin"] = visit(page, f"{base}/admin/", "admin")
    violations["admin steps"] = visit(page, f"{base}/admin/steps/step/", "admin-steps")
    violations["admin step"] = visit(page, f"{base}/admin/steps/step/{step.pk}/change/", "admin-step")
    violations["admin share links"] = visit(page, f"{base}/admin/steps/sharelink/", "admin-sharelinks")
    violations["admin share link"] = visit(
        page, f"{base}/admin/steps/sharelink/{data['link'].pk}/change/", "admin-sharelink"
    )
    violations["admin access attempts"] = visit(page, f"{base}/admin/axes/accessattempt/", "admin-axes")
    violations["admin password"] = visit(page, f"{base}/admin/password_change/", "admin-password")
    context.close()

    # Last: the lockout also blocks this test's address.
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(LISTEN)
    page = context.new_page()
    for attempt in range(5):
        page.goto(f"{base}/login/")
        page.fill("input[name=username]", "reviewer")
        page.fill("input[name=password]", f"guess {attempt}")
        page.click("button[type=submit]")
    alert = page.locator(".alert-error")
    assert alert.inner_text() == "Too many failed attempts; try again in 15 minutes."
    page.screenshot(path=str(SHOTS / "csp-lockout.png"))
    violations["lockout"] = page.evaluate("window.__cspViolations")
    context.close()
    assert {name: found for name, found in violations.items() if found} == {}
    assert console == []
