"""Reviewing in real Chromium against the Letta simulator: a click, the keyboard, a bulk action,
each ending with the vote in Letta. Celery runs eagerly, so a push happens right after its commit."""

import pytest
from django.utils import timezone

from steps.models import FeedbackBatch, Step, StepVote
from steps.sync import run_sync
from steps.sync.upstream import LettaClient
from tests.browser_fixtures import open_logged_in
from tests.browser_fixtures import shot as _shot
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def letta(simulator, settings):
    """The mirror filled by a real sync, and the app writing back to the same simulator."""
    settings.LETTA_BASE_URL = simulator.base_url
    settings.LETTA_MAX_RETRIES = 0
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with LettaClient(simulator.base_url) as client:
        run_sync(client)
    assert Step.objects.count() >= 10
    return simulator


def shot(page, name):
    _shot(page, name, full_page=False)


def upstream_vote(simulator, step_id):
    return simulator.world.step_payload(step_id)["feedback"]


@pytest.fixture
def page(browser, live_server, letta):
    UserFactory(username="reviewer", is_staff=True)
    context, page = open_logged_in(browser, live_server, timeout=15_000)
    yield page
    context.close()


def is_vote_post(response):
    return response.request.method == "POST" and response.url.endswith("/vote/")


def row_ids(page, n):
    return page.eval_on_selector_all("tr.step-row", f"rows => rows.slice(0, {n}).map(r => r.dataset.step)")


def test_click_thumbs_up_on_a_row_is_saved_in_letta(page, letta):
    page.goto(page.url + "?unreviewed=1")
    step_id = row_ids(page, 1)[0]
    page.click(f"#vote-{step_id} button.vote-up")
    page.locator(f"#vote-{step_id} .wb-saved").wait_for()
    assert "saved" in page.locator(f"#vote-{step_id} .wb").inner_text()
    assert page.locator(f"#vote-{step_id} button.vote-up.is-active").count() == 1
    assert upstream_vote(letta, step_id) == "positive"
    assert StepVote.objects.get(step_id=step_id).voted_by.username == "reviewer"
    shot(page, "feedback-list-votes")
    # clicking the active vote clears it, in Letta too
    with page.expect_response(is_vote_post):
        page.click(f"#vote-{step_id} button.vote-up")
    page.locator(f"#vote-{step_id} .wb-saved").wait_for()
    assert page.locator(f"#vote-{step_id} .vote-btn.is-active").count() == 0
    assert upstream_vote(letta, step_id) is None


def test_keyboard_only_review_of_five_steps(page, letta):
    page.goto(page.url + "?unreviewed=1")
    ids = row_ids(page, 5)
    keys = ["+", "-", "+", "-", "+"]
    for key in keys:
        page.keyboard.press("j")
        page.keyboard.press(key)
    for step_id in ids:
        page.locator(f"#vote-{step_id} .wb-saved").wait_for()
    expected = ["positive" if k == "+" else "negative" for k in keys]
    assert [StepVote.objects.get(step_id=i).feedback for i in ids] == expected
    assert [upstream_vote(letta, i) for i in ids] == expected
    with page.expect_response(is_vote_post):
        page.keyboard.press("0")  # clears the focused (fifth) row
    page.locator(f"#vote-{ids[4]} .wb-saved").wait_for()
    assert page.locator(f"#vote-{ids[4]} .vote-btn.is-active").count() == 0
    page.keyboard.press("?")
    page.locator("#shortcuts").wait_for()
    shot(page, "feedback-keyboard-help")
    page.keyboard.press("Escape")
    page.keyboard.press("o")
    page.wait_for_url(f"**/steps/{ids[4]}/?from=unreviewed%3D1")
    page.locator(f"#vote-{ids[4]} .wb-saved").wait_for()
    assert upstream_vote(letta, ids[4]) is None


def test_bulk_rate_a_filtered_selection(page, letta, live_server):
    model = Step.objects.exclude(model="").values_list("model", flat=True).first()
    page.goto(f"{live_server.url}/?status=success&model={model}")
    first = page.locator("input.row-check").first
    first.click()
    page.locator("input.row-check").nth(2).click(modifiers=["Shift"])  # a range of three
    assert page.locator("[data-selected-count]").inner_text() == "3"
    page.click("[data-select-matching]")
    page.locator("#bulk-scope .bulk-all").wait_for()
    total = Step.objects.filter(model=model, status="success").count()
    assert f"All {total} step" in page.locator("#bulk-scope").inner_text()
    page.click("#bulk-form button[value=negative]")
    page.locator(".bulk-progress.is-finished").wait_for()
    shot(page, "feedback-bulk-progress")
    batch = FeedbackBatch.objects.get()
    assert (batch.total, batch.applied) == (total, total)
    assert f"saved to Letta {total}" in page.locator(".bulk-progress").inner_text()
    rated = Step.objects.filter(model=model, status="success").values_list("pk", flat=True)
    assert {upstream_vote(letta, i) for i in rated} == {"negative"}
    others = Step.objects.exclude(model=model).values_list("pk", flat=True)
    assert "negative" not in {
        StepVote.objects.filter(step_id=i).values_list("feedback", flat=True).first() for i in others
    }


def test_step_page_tags_note_and_conflict(page, letta, live_server):
    step = Step.objects.filter(status="success", feedback="").order_by("pk").first()
    page.goto(f"{live_server.url}/steps/{step.pk}/")
    page.fill("#review-card input[name=add]", "wrong-tool, slow")
    page.press("#review-card input[name=add]", "Enter")
    page.locator("#review-card .chip:has-text('wrong-tool')").wait_for()
    page.locator("#review-card .wb-saved").wait_for()
    assert letta.world.step_payload(step.pk)["tags"] == ["wrong-tool", "slow"]
    page.fill("#review-note textarea", "Picked the wrong tool twice; see the second call.")
    page.click("#review-note button[type=submit]")
    page.locator("#review-note .note-foot:has-text('Saved')").wait_for()
    with page.expect_response(is_vote_post):
        page.keyboard.press("+")
    page.locator("#review-card .vote-up.is-active").wait_for()
    page.locator("#review-card .wb-saved").wait_for()
    # someone changed the vote in Letta after ours; the sync flagged it
    StepVote.objects.filter(step=step).update(
        conflict_feedback="negative", conflict_tags=["wrong-tool", "slow"], conflict_seen_at=timezone.now()
    )
    page.reload()
    page.locator("#review-card .conflict-box").wait_for()
    shot(page, "feedback-step-page-conflict")
    page.click("#review-card button:has-text('Keep mine')")
    page.locator("#review-card .wb-saved").wait_for()
    assert upstream_vote(letta, step.pk) == "positive"
    shot(page, "feedback-step-page")


def test_a_thumb_click_on_a_row_whose_bottom_is_off_screen_is_not_lost(page, letta):
    """Pressing the mouse must not scroll the row into view before the click lands."""
    page.set_viewport_size({"width": 1440, "height": 700})
    page.goto(page.url + "?unreviewed=1")
    ids = row_ids(page, 30)[15:]  # rows far enough down to be scrolled to any height
    assert len(ids) == 15
    posts = []
    page.on(
        "request", lambda r: posts.append(r.url) if r.method == "POST" and r.url.endswith("/vote/") else None
    )
    for step_id in ids:
        # the thumb fully visible, the bottom 20 px of its row below the fold
        page.eval_on_selector(
            f"tr[data-step='{step_id}']",
            "row => window.scrollBy(0, row.getBoundingClientRect().bottom - 20 - window.innerHeight)",
        )
        box = page.locator(f"#vote-{step_id} button.vote-up").bounding_box()
        assert box["y"] + box["height"] < 700 < box["y"] + 80  # on screen, row bottom off it
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(50)
    page.wait_for_timeout(300)
    assert len(posts) == len(ids), f"{len(ids) - len(posts)} of {len(ids)} clicks lost"
    for step_id in ids:
        page.locator(f"#vote-{step_id} .wb-saved").wait_for()
    assert [upstream_vote(letta, i) for i in ids] == ["positive"] * len(ids)


def test_a_new_vote_never_shows_the_previous_votes_saved(page, letta):
    page.goto(page.url + "?unreviewed=1")
    step_id = row_ids(page, 1)[0]
    page.keyboard.press("j")
    page.keyboard.press("+")
    page.locator(f"#vote-{step_id} .wb-saved").wait_for()

    def slow(route):
        page.wait_for_timeout(400)  # the server takes a moment to answer the vote
        route.continue_()

    page.route("**/vote/", slow)
    page.keyboard.press("-")
    assert page.locator(f"#vote-{step_id} .wb").inner_text() == "saving…"
    page.locator(f"#vote-{step_id} .wb-saved").wait_for()
    assert upstream_vote(letta, step_id) == "negative"


def test_a_vote_on_a_pending_step_keeps_the_tags_letta_has(page, letta, live_server):
    step_id = letta.world.add_run(agent=0, steps=2, pending=True).step_ids[0]
    with LettaClient(letta.base_url) as client:
        run_sync(client)  # mirrored while pending and untagged
    letta.world.set_feedback(step_id, None, ["hallucination", "needs-review"])  # tagged in Letta since
    page.goto(f"{live_server.url}/steps/{step_id}/")
    with page.expect_response(is_vote_post):
        page.click("#review-card button.vote-up")
    page.locator("#review-card .wb-saved").wait_for()
    page.reload()
    card = page.locator("#review-card").inner_text()
    assert "hallucination" in card and "needs-review" in card
    assert "No tags" not in card and "Removed here only" not in card
    assert letta.world.step_payload(step_id)["tags"] == ["hallucination", "needs-review"]
    shot(page, "feedback-pending-step-vote-keeps-tags")


def test_a_vote_on_a_step_deleted_in_letta_says_so_and_offers_no_retry(page, letta, live_server):
    step = Step.objects.filter(status="success", feedback="").order_by("pk").first()
    letta.world.delete_step(step.pk)
    page.goto(f"{live_server.url}/steps/{step.pk}/")
    with page.expect_response(is_vote_post):
        page.click("#review-card button.vote-up")
    page.locator("#review-card .wb-gone").wait_for()
    assert "your vote is kept here but cannot be sent" in page.locator("#review-card").inner_text()
    assert page.locator("#review-card button:has-text('Retry')").count() == 0
    page.reload()
    assert "deleted in Letta" in page.locator(".gone-banner").inner_text()
    shot(page, "feedback-step-deleted-in-letta")
    page.goto(f"{live_server.url}/?run={step.run_id}")
    row = page.locator(f"tr[data-step='{step.pk}']")
    assert row.locator(".badge-gone").inner_text() == "deleted in Letta"
    assert row.locator(".wb").inner_text() == "not sent"
    shot(page, "feedback-list-deleted-in-letta")
