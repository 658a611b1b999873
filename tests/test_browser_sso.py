"""Single sign-on in real Chromium, through a real provider's pages (oidc-provider-mock in its own
process), under the site's real Content-Security-Policy: the role follows the provider's claim,
a viewer's writes are all refused, a reviewer's vote lands, signing out ends both sessions, and the
audit trail shows all of it in order."""

import pytest

from steps.audit import trail
from steps.models import StepReview, StepVote
from tests.browser_fixtures import shot
from tests.factories import StepFactory, conversation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def steps():
    made = [StepFactory() for _ in range(4)]
    for step in made:
        conversation(step)
    return made


def sign_in(browser, live_server, sub: str, *, screenshot: str = ""):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/")  # a signed-out visitor lands on the sign-in page
    button = page.get_by_role("link", name="Sign in with Test IdP")
    button.wait_for()
    if screenshot:
        shot(page, screenshot)
    button.click()
    page.get_by_role("button", name=f"Authorize as {sub}").click()  # the provider's own page
    page.wait_for_url(live_server.url + "/")
    return context, page


def refused(page, live_server, path: str, data: dict) -> int:
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        live_server.url + path, form=data, headers={"X-CSRFToken": csrf, "HX-Request": "true"}
    )
    return response.status


def test_the_role_follows_the_claim_and_signing_out_ends_both_sessions(browser, live_server, sso, steps):
    step = steps[0]
    # a viewer (groups: ["viewer"]) reads, and every write is refused
    context, page = sign_in(browser, live_server, "vera", screenshot="sso-login")
    assert page.locator(".role-chip").inner_text().strip().lower() == "viewer"
    assert page.locator("tr.step-row").count() == 4
    assert page.locator("tr.step-row").first.locator(".vote-btn").first.is_disabled()
    base = f"/steps/{step.pk}"
    assert refused(page, live_server, f"{base}/vote/", {"value": "positive"}) == 403
    assert refused(page, live_server, f"{base}/tags/", {"add": "checked"}) == 403
    assert refused(page, live_server, f"{base}/note/", {"notes": "looks fine"}) == 403
    assert refused(page, live_server, "/bulk/", {"action": "positive", "step_ids": step.pk}) == 403
    assert not StepVote.objects.exists() and not StepReview.objects.exists()
    # signing out ends our session and sends the browser to the provider's end-session page
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(live_server.url + "/login/")
    page.goto(live_server.url + "/")
    assert page.url.startswith(live_server.url + "/login/")
    context.close()

    # a reviewer (groups: ["staff", "qa-team"], qa-team mapped to reviewer) votes, and it lands
    context, page = sign_in(browser, live_server, "rex")
    assert page.locator(".role-chip").inner_text().strip().lower() == "reviewer"
    row = page.locator(f"tr.step-row[data-step='{step.pk}']")
    with page.expect_response(lambda r: r.url.endswith("/vote/") and r.request.method == "POST") as answer:
        row.locator(".vote-up").click()
    assert answer.value.status == 200
    row.locator(".vote-up.is-active").wait_for()
    vote = StepVote.objects.get(step=step)
    assert (vote.feedback, vote.voted_by.username) == ("positive", "rex")
    context.close()

    # a manager (groups: "leads") reads the trail: all of the above, in order
    context, page = sign_in(browser, live_server, "mona")
    page.get_by_role("link", name="Audit").click()
    page.wait_for_url(live_server.url + "/audit/")
    shot(page, "sso-audit")
    entries, _ = trail.page(trail.Filters())
    done = [(e.actor_name, e.action) for e in reversed(entries)]
    assert done == [
        ("Test IdP (at sign-in)", "role.change"),
        ("vera", "user.sign_in"),
        ("vera", "user.sign_out"),
        ("Test IdP (at sign-in)", "role.change"),
        ("rex", "user.sign_in"),
        ("rex", "vote.cast"),
        ("Test IdP (at sign-in)", "role.change"),
        ("mona", "user.sign_in"),
    ]
    table = page.locator("table.audit-table tbody tr")
    assert table.count() == len(done)
    assert "rex" in table.nth(2).inner_text() and "voted" in table.nth(2).inner_text()
    context.close()


def test_a_forged_callback_in_the_browser_says_so_and_signs_in_nobody(browser, live_server, sso, settings):
    settings.LOCAL_LOGIN = False  # a provider-only install: no password form
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(live_server.url + "/oidc/callback/?code=stolen&state=forged")
    alert = page.get_by_role("alert")
    assert "Signing in with Test IdP did not complete" in alert.inner_text()
    assert page.locator("input[name=password]").count() == 0
    assert page.get_by_role("link", name="Sign in with Test IdP").is_visible()
    shot(page, "sso-refused")
    page.goto(live_server.url + "/")
    assert page.url.startswith(live_server.url + "/login/")
    context.close()
