"""What a reviewer sees on the list and the step page, in real Chromium: the polish of issue 8
(times with their zone, human durations, reasoning told apart from a reply, icons that render
without emoji fonts). Screenshots go to test-artifacts/ for a person to look at."""

import re

import pytest

from steps.models import FeedbackPush, StepVote
from tests.browser_fixtures import ARTIFACTS, open_logged_in, shot
from tests.factories import (
    MessageFactory,
    ProviderTraceFactory,
    StepFactory,
    StepMetricsFactory,
    UserFactory,
    conversation,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def data():
    from django.contrib.auth.models import Permission

    user = UserFactory(username="reviewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_sharelink"))
    answered = StepFactory()
    conversation(
        answered, user_text="Find my notes about the Q3 roadmap", answer="The roadmap ships the UI first."
    )
    StepMetricsFactory(step=answered, llm_request_ns=850_000, tool_execution_ns=0, step_ns=1_400_000)
    ProviderTraceFactory(step=answered)
    # a step that thinks and calls a tool but never replies
    thinking = StepFactory(stop_reason="tool_call")
    MessageFactory(step=thinking, position=0, content="Look up the weather in Paris")
    MessageFactory(
        step=thinking, position=1, message_type="reasoning_message", content="I should call the tool"
    )
    MessageFactory(step=thinking, position=2, message_type="tool_call_message")
    image = StepFactory()
    MessageFactory(
        step=image,
        position=0,
        payload={
            "id": "message-img",
            "date": "2026-11-25T09:30:20Z",
            "message_type": "user_message",
            "content": [
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
            ],
            "step_id": image.pk,
        },
    )
    failed = StepFactory(failed=True)
    cleared = StepFactory()
    StepVote.objects.create(step=cleared, feedback="", voted_by=user)
    FeedbackPush.objects.create(step=cleared, feedback="", status="done", created_by=user)
    return {"answered": answered, "thinking": thinking, "image": image, "failed": failed, "cleared": cleared}


@pytest.fixture
def page(browser, live_server, data):
    context, page = open_logged_in(browser, live_server, timeout=10_000)
    yield page
    context.close()


def test_list_rows_tell_reasoning_from_a_reply_and_a_cleared_vote_from_a_saved_one(page, data):
    shot(page, "polish-list", full_page=False)
    thinking = page.locator(f"tr[data-step='{data['thinking'].pk}']")
    assert thinking.locator(".convo-reasoning").inner_text().endswith("I should call the tool")
    assert thinking.locator(".convo-asst").count() == 0
    answered = page.locator(f"tr[data-step='{data['answered'].pk}']")
    assert answered.locator(".convo-asst").inner_text().endswith("The roadmap ships the UI first.")
    assert page.locator(f"#vote-{data['cleared'].pk} .wb").inner_text() == "✓ cleared"
    when = answered.locator(".col-time time")
    assert when.inner_text().endswith(" ago") and when.get_attribute("title").startswith("2026-11-25T")


def test_step_page_durations_times_and_share_expiry_read_as_people_write_them(page, live_server, data):
    page.goto(f"{live_server.url}/steps/{data['answered'].pk}/")
    page.click("#share-links button:has-text('Create link')")
    page.locator("#share-links .share-url input").wait_for()
    shot(page, "polish-step-answered")
    legend = page.locator(".timing-legend").inner_text()
    assert "LLM request 850 µs" in legend and "Tool execution 0 ms" in legend and "0.00" not in legend
    assert page.locator(".timing .section-head").inner_text().endswith("1.4 ms total")
    header_time = page.locator(".meta-grid time").first
    # the factory spaces steps a second apart from 09:30, so the hour depends on how many came before
    assert re.fullmatch(r"Nov 25, \d\d:\d\d:\d\d UTC", header_time.inner_text())
    assert header_time.get_attribute("title") == header_time.get_attribute("datetime")
    assert page.locator(".msg-time").first.inner_text() == "09:30:00 UTC"
    assert "expires in 7 days" in page.locator("#share-links").inner_text()


def test_error_type_keeps_its_case_and_icons_need_no_emoji_font(page, browser, live_server, data):
    page.goto(f"{live_server.url}/steps/{data['failed'].pk}/")
    badge = page.locator("#error .badge")
    assert badge.inner_text() == "LLMBadRequestError"  # CSS used to lowercase it
    page.locator("#error").screenshot(path=str(ARTIFACTS / "polish-error-card.png"))
    page.goto(f"{live_server.url}/steps/{data['image'].pk}/")
    image = page.locator(".images li").first
    assert image.locator("svg.icon").count() == 1 and "🖼" not in page.content()
    assert image.inner_text().strip() == "https://example.com/cat.png"
    page.locator("#messages").screenshot(path=str(ARTIFACTS / "polish-image-message.png"))
    anonymous = browser.new_context()
    public = anonymous.new_page()
    public.goto(f"{live_server.url}/share/not-a-real-link/")
    assert public.locator(".big-icon svg").count() == 1 and "⛓" not in public.content()
    public.screenshot(path=str(ARTIFACTS / "polish-share-unavailable.png"))
    anonymous.close()
