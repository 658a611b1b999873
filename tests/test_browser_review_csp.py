"""The review pages under the real Content-Security-Policy: no violation while they are used
(the keyboard, htmx swaps, the diff panel), so nothing of them depends on inline script or style."""

import pytest

from steps.review import reserve, submit
from tests.browser_fixtures import open_logged_in
from tests.factories import ProviderTraceFactory, RunFactory, StepFactory, UserFactory, conversation
from tests.review_helpers import FULL, make_queue
from tests.test_browser_csp import LISTEN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queues():
    lead = UserFactory(username="reviewer", role="manager")
    run = RunFactory()
    steps = []
    for i in range(3):
        step = StepFactory(run_id=run.id, agent_id=run.agent_id)
        conversation(step, user_text=f"question {i}", answer=f"answer {i}")
        ProviderTraceFactory(step=step)
        steps.append(step)
    rubric_queue = make_queue(steps, items=FULL, k=2, user=lead)
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    full = {"accuracy": 3, "topic": "bug"}
    tied = reserve.next_item(rubric_queue, ann)
    submit.submit_review(tied, ann, {"verdict": "positive", **full})
    submit.submit_review(reserve.next_item(rubric_queue, bob), bob, {"verdict": "negative", **full})
    pairs = make_queue([], kind="pairwise", pairs=[(steps[0].pk, steps[1].pk)], user=lead)
    return {"rubric": rubric_queue, "pairs": pairs}


def test_the_review_pages_report_no_csp_violation(browser, live_server, queues):
    context, page = open_logged_in(browser, live_server, bypass_csp=False)
    context.add_init_script(LISTEN)
    console = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    base, q = live_server.url, queues["rubric"]
    for path in ("/review/", f"/review/queues/{q.pk}/", "/review/queues/new/?query=status%3Dsuccess"):
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__cspViolations") == [], path
    page.goto(f"{base}/review/queues/{q.pk}/review/")
    first = page.get_attribute("#work", "data-item")
    page.keyboard.press("d")
    page.locator("#diff-panel .diff-card").wait_for()
    page.keyboard.press("d")
    for key in ("1", "3", "2"):  # verdict good, accuracy 3, topic bug; the rest is optional
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#work:not([data-item='{first}'])")
    assert page.evaluate("window.__cspViolations") == []
    page.goto(f"{base}/review/queues/{q.pk}/adjudicate/")
    page.locator(".adj-card .ri-v-positive").first.click()
    page.locator(".adj-card button:has-text('Decide')").first.click()
    page.locator(".adj-decided").wait_for()
    page.goto(f"{base}/review/queues/{queues['pairs'].pk}/review/")
    page.locator(".pair-grid").wait_for()
    assert page.evaluate("window.__cspViolations") == [] and console == []
    context.close()
