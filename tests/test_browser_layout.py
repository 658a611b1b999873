"""Layout faults a reviewer hit on a laptop screen (1440x900), in real Chromium: parts of a page
that could not be reached or read. Screenshots go to test-artifacts/ for a person to look at."""

import pytest
from django.contrib.auth.models import Permission

from tests.browser_fixtures import ARTIFACTS, open_logged_in, shot
from tests.factories import ProviderTraceFactory, StepFactory, UserFactory, conversation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def data():
    user = UserFactory(username="reviewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_sharelink"))
    steps = [StepFactory(agent_id="agent-00000000-0000-4000-8000-00000000000a") for _ in range(6)]
    for step in steps:
        conversation(step, user_text="What is on the roadmap?", answer="The UI ships first. " * 40)
        ProviderTraceFactory(step=step)
    approval = StepFactory(stop_reason="requires_approval")
    StepFactory(stop_reason="llm_api_error")
    failed = StepFactory(failed=True)
    cancelled = StepFactory(status="cancelled")
    return {"steps": steps, "approval": approval, "failed": failed, "cancelled": cancelled}


@pytest.fixture
def page(browser, live_server, data):
    context, page = open_logged_in(browser, live_server, timeout=10_000)
    yield page
    context.close()


def test_the_step_pages_side_column_can_be_scrolled_to_its_share_card(page, live_server, data):
    page.goto(f"{live_server.url}/steps/{data['steps'][0].pk}/")
    page.evaluate("window.scrollTo(0, 400)")
    side = page.locator(".step-side")
    box = side.bounding_box()
    # the sticky column fits the screen (it scrolls on its own) instead of hanging below it
    assert box["y"] + box["height"] <= 900
    page.locator("#share-links").scroll_into_view_if_needed()
    create = page.get_by_role("button", name="Create link")
    create_box = create.bounding_box()
    assert create_box["y"] >= 0 and create_box["y"] + create_box["height"] <= 900
    shot(page, "layout-step-side-scrolled", full_page=False)


def test_recent_steps_picker_rows_fit_the_side_column(page, live_server, data):
    page.goto(f"{live_server.url}/steps/{data['steps'][0].pk}/")
    page.locator("#compare-card summary").click()
    rows = page.locator("#recent-steps li a")
    rows.first.wait_for()
    assert rows.count() == 5
    # each part of a row (status, id, date, tokens) stays on one line inside the list: squeezed
    # into one flex line, the date and "2,919 tok" broke in two and the tokens hit the edge
    parts = rows.first.evaluate(
        """a => [...a.children].filter(c => c.offsetWidth).map(c => {
            const r = c.getBoundingClientRect();
            return [r.height, r.right <= a.getBoundingClientRect().right + 1];
        })"""
    )
    assert parts and all(height < 24 and inside for height, inside in parts), parts
    page.locator("#compare-card").screenshot(path=str(ARTIFACTS / "layout-recent-picker.png"))


def test_the_stop_reason_reads_whole_under_the_status(page, live_server, data):
    page.goto(f"{live_server.url}/")
    # a chip in its own column cut "requires_approval" to "requires_appro…"
    for reason in ("requires_approval", "end_turn", "llm_api_error"):
        stop = page.locator(f"td.col-status .stop-reason[title='Stop reason: {reason}']").first
        assert stop.inner_text() == reason
        assert stop.evaluate("c => c.scrollWidth <= c.clientWidth"), reason


def test_list_rows_are_compact(browser, live_server, data):
    context, page = open_logged_in(browser, live_server, timeout=10_000)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/")

    def height(step):
        return page.locator(f"tr[data-step='{step.pk}']").bounding_box()["height"]

    # one 18 px line per fact: two lines for a row without messages (status over stop reason,
    # time over duration), three for the question, the answer and the tools it called
    assert height(data["approval"]) <= 48
    assert height(data["steps"][0]) <= 66
    shot(page, "layout-list-compact", full_page=False)
    context.close()


@pytest.mark.parametrize("width", [1024, 1180, 1280, 1366])
def test_the_list_keeps_a_readable_conversation_and_its_vote_buttons_on_laptop_widths(
    browser, live_server, data, width
):
    context, page = open_logged_in(browser, live_server, timeout=10_000)
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"{live_server.url}/")
    row = page.locator(f"tr[data-step='{data['steps'][0].pk}']")
    # the widest status badge is whole inside its cell (the cell clips what overflows)
    badge = page.locator(f"tr[data-step='{data['cancelled'].pk}'] td.col-status .badge")
    assert badge.evaluate(
        "b => b.getBoundingClientRect().right <= b.parentElement.getBoundingClientRect().right"
    )
    stop = page.locator(f"tr[data-step='{data['approval'].pk}'] .stop-reason")
    assert stop.evaluate("c => c.scrollWidth <= c.clientWidth")  # "requires_approval", whole
    # the toolbar stays inside the page (it wraps under 1280 px rather than push Live off-screen)
    toolbar = page.locator(".list-toolbar").bounding_box()
    live = page.locator("label.toggle:has(input[name=live])").bounding_box()
    assert live["x"] + live["width"] <= toolbar["x"] + toolbar["width"] + 1
    convo = row.locator("td.col-convo").bounding_box()
    assert convo["width"] >= (180 if width < 1280 else 400), convo
    card = page.locator("#step-table").bounding_box()
    vote = row.locator("td.col-vote button").last.bounding_box()
    assert vote["x"] + vote["width"] <= card["x"] + card["width"]
    shot(page, f"layout-list-{width}", full_page=False)
    context.close()


def test_a_failed_steps_error_section_spans_the_page_with_its_traceback(page, live_server, data):
    page.goto(f"{live_server.url}/steps/{data['failed'].pk}/")
    error = page.locator("section#error")
    main = page.locator(".step-main").bounding_box()
    # the error pages' centred 440 px card shared this section's class name
    assert error.bounding_box()["width"] >= main["width"] - 2
    assert error.evaluate("e => getComputedStyle(e).textAlign") in ("start", "left")
    error.screenshot(path=str(ARTIFACTS / "layout-failed-step-error.png"))
