"""Team review in real Chromium against the Letta simulator: a manager sends a filter to a queue,
two reviewers in two browser contexts work it by keyboard with two reviews per step, a manager
settles the ties, and every verdict ends in the simulator's Letta. Celery runs eagerly, so a
verdict's push happens right after its commit.

Set REVIEW_SHOTS_DIR to also keep the screenshots there (the Enter-to-next times go beside them)."""

import json
import os
import shutil
import statistics
import time

import pytest

from steps.models import Step
from steps.review import queues, rubrics
from steps.review.models import Queue, QueueItem, Review
from steps.sync import run_sync
from steps.sync.upstream import LettaClient
from tests.browser_fixtures import ARTIFACTS, open_logged_in
from tests.browser_fixtures import shot as _shot
from tests.factories import UserFactory
from tests.review_helpers import FULL

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MODEL = "gpt-4.1"  # nine of the simulator's steps: eighteen reviews at two per step


@pytest.fixture
def letta(simulator, settings):
    """The mirror filled by a real sync, and the app writing back to the same simulator."""
    settings.LETTA_BASE_URL = simulator.base_url
    settings.LETTA_MAX_RETRIES = 0
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with LettaClient(simulator.base_url) as client:
        run_sync(client)
    assert Step.objects.filter(model=MODEL).count() >= 4
    return simulator


@pytest.fixture
def people():
    return {
        "lead": UserFactory(username="lead", role="manager", is_staff=True),
        "ann": UserFactory(username="ann"),
        "bob": UserFactory(username="bob"),
    }


def shot(page, name, *, full_page=False):
    _shot(page, name, full_page=full_page)
    target = os.environ.get("REVIEW_SHOTS_DIR")
    if target:
        shutil.copy(ARTIFACTS / f"{name}.png", os.path.join(target, f"{name}.png"))


def current_item(page):
    return page.get_attribute("#work", "data-item")


def submit_by_keys(page, keys):
    """Press the keys then Enter, and wait until the next step (or the end) has been drawn."""
    before = page.evaluate("window.reviewTimings.length")
    for key in keys:
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    page.wait_for_function("n => window.reviewTimings.length > n", arg=before)


def upstream_feedback(simulator, step_id):
    return simulator.world.step_payload(step_id)["feedback"]


def test_two_reviewers_work_one_queue_with_two_reviews_per_step(browser, live_server, letta, people):
    lead_context, lead = open_logged_in(browser, live_server, username="lead")
    lead.goto(f"{live_server.url}/?model={MODEL}")
    lead.click("#send-to-queue")
    lead.wait_for_url("**/review/queues/new/**")
    lead.fill("input[name=name]", f"{MODEL} answers, week 49")
    lead.fill("input[name=reviewers_per_item]", "2")
    lead.fill(
        "textarea[name=instructions]",
        "Good when the answer is right and uses its tools well; bad otherwise.\nSkip (s) a step you cannot judge.",
    )
    shot(lead, "reviewui-create-from-filter", full_page=True)
    lead.click("button:has-text('Create queue')")
    lead.wait_for_url("**/review/queues/*/")
    queue = Queue.objects.get()
    expected = Step.objects.filter(model=MODEL).count()
    assert queue.items_total == expected and queue.reviewers_per_item == 2

    pages = {}
    for name in ("ann", "bob"):
        context, page = open_logged_in(browser, live_server, username=name)
        page.goto(f"{live_server.url}/review/queues/{queue.pk}/review/")
        page.locator("#rubric-form").wait_for()
        pages[name] = (context, page)
    ann = pages["ann"][1]
    shot(ann, "reviewui-review-single")
    ann.keyboard.press("d")  # the diff with the previous step of its run, in place
    ann.locator("#diff-panel .diff-card").wait_for()
    shot(ann, "reviewui-review-diff")
    ann.keyboard.press("d")

    positions = dict(queue.items.values_list("pk", "position"))
    first = min(positions.values())
    finished = set()
    seen_together = 0
    while len(finished) < 2:
        for name, (_, page) in pages.items():
            if name in finished:
                continue
            mine, theirs = current_item(page), current_item(pages["bob" if name == "ann" else "ann"][1])
            if mine and theirs:
                assert mine != theirs, "one step shown to both reviewers at once"
                seen_together += 1
            if mine is None:
                if (
                    page.locator("text=All done here").count()
                    or not QueueItem.objects.filter(queue=queue, state="waiting")
                    .exclude(reviews__reviewer__username=name)
                    .exists()
                ):
                    finished.add(name)
                else:  # the other holds the last steps: ask again
                    page.click("a:has-text('Check again')")
                    page.locator("#work").wait_for()
                continue
            # ann says good to everything; bob says bad to every third step: those tie, for the lead
            position = positions[int(mine)] - first
            submit_by_keys(page, ["1"] if name == "ann" or position % 3 else ["2"])
    assert seen_together > 5

    items = list(queue.items.all())
    for item in items:
        reviewers = sorted(Review.objects.filter(item=item).values_list("reviewer__username", flat=True))
        assert reviewers == ["ann", "bob"], item.step_id
    ties = [i for i in items if i.state == QueueItem.State.ADJUDICATE]
    assert ties and all((positions[i.pk] - first) % 3 == 0 for i in ties)

    lead.goto(f"{live_server.url}/review/queues/{queue.pk}/")
    shot(lead, "reviewui-queue-page", full_page=True)
    lead.click("a:has-text('to adjudicate')")
    lead.locator(".adj-card").first.wait_for()
    shot(lead, "reviewui-adjudication", full_page=True)
    for item in ties:
        card = lead.locator(f"#adj-{item.pk}")
        card.locator(".ri-v-negative").click()
        card.locator("button:has-text('Decide')").click()
        lead.locator(f"#adj-{item.pk}.adj-decided").wait_for()

    deadline = time.monotonic() + 10
    for item in QueueItem.objects.filter(queue=queue):
        assert item.state == QueueItem.State.DONE
        wanted = item.verdict["verdict"]
        assert wanted == ("negative" if item in ties else "positive")
        while upstream_feedback(letta, item.step_id) != wanted and time.monotonic() < deadline:
            time.sleep(0.1)
        assert upstream_feedback(letta, item.step_id) == wanted, item.step_id

    timings = pages["ann"][1].evaluate("window.reviewTimings") + pages["bob"][1].evaluate(
        "window.reviewTimings"
    )
    report = {
        "submits": len(timings),
        "median_ms": statistics.median(timings),
        "p90_ms": sorted(timings)[int(len(timings) * 0.9) - 1],
        "max_ms": max(timings),
        "all_ms": timings,
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "reviewui-enter-to-next.json").write_text(json.dumps(report, indent=2))
    if os.environ.get("REVIEW_SHOTS_DIR"):
        shutil.copy(ARTIFACTS / "reviewui-enter-to-next.json", os.environ["REVIEW_SHOTS_DIR"])
    print("Enter to next step (ms):", report)
    for context in (lead_context, pages["ann"][0], pages["bob"][0]):
        context.close()


def test_a_pair_from_two_selected_rows_is_reviewed_side_by_side(browser, live_server, letta, people):
    lead_context, lead = open_logged_in(browser, live_server, username="lead")
    lead.goto(f"{live_server.url}/?model={MODEL}")
    boxes = lead.locator("input.row-check")
    boxes.nth(0).check()
    boxes.nth(1).check()
    shot(lead, "reviewui-step-list-selection")
    lead.click("#bulk-form button:has-text('Send to queue…')")
    lead.wait_for_url("**/review/queues/new/")
    assert "2 selected steps" in lead.locator(".q-source").inner_text()
    lead.fill("input[name=name]", "Which answer is better?")
    lead.check("input[name=kind][value=pairwise]")
    lead.check("input[name=pair_source][value=selection]")
    lead.click("button:has-text('Create queue')")
    lead.wait_for_url("**/review/queues/*/")
    queue = Queue.objects.get()
    assert queue.kind == "pairwise" and queue.items_total == 1
    lead.click("a:has-text('Start reviewing')")
    lead.locator(".pair-grid").wait_for()
    assert lead.locator(".pair-side").count() == 2
    shot(lead, "reviewui-review-pairwise")
    submit_by_keys(lead, ["2"])
    assert lead.locator("text=All done here").count() == 1
    assert Review.objects.get().scores == {"verdict": "b"}
    lead.goto(f"{live_server.url}/review/")
    shot(lead, "reviewui-queue-list")
    lead_context.close()


def test_a_full_rubric_by_keyboard_with_skip_and_undo(browser, live_server, letta, people):
    steps = list(Step.objects.filter(model=MODEL).order_by("step_time")[:3])
    rubric = rubrics.rubric_from_items(FULL, name="Support answers", created_by=people["lead"])
    queue = queues.create_queue(
        name="Support answers, rubric v1",
        query="",
        mode="snapshot",
        rubric=rubric,
        reviewers_per_item=2,  # a step still waiting for its second review can be undone
        reservation_minutes=30,
        created_by=people["lead"],
        instructions="Score the final answer. Accuracy: 1 is wrong, 5 is exactly right.",
        tag_items=["topic"],
        step_ids=[s.pk for s in steps],
    )
    context, page = open_logged_in(browser, live_server, username="ann")
    page.goto(f"{live_server.url}/review/queues/{queue.pk}/review/")
    page.locator("#rubric-form").wait_for()
    first = current_item(page)
    page.keyboard.press("Enter")  # nothing answered: the page says what is missing, sends nothing
    assert page.locator(".rubric-item.is-missing").count() == 3
    assert not Review.objects.exists()
    # each value moves on to the next item; k goes back to change the topic
    for key in ("1", "4", "2", "k", "3", "1"):
        page.keyboard.press(key)
    page.keyboard.press("5")  # a text item takes the focus instead of a value
    page.keyboard.type("Polite, but the second paragraph repeats itself.")
    page.keyboard.press("Escape")
    shot(page, "reviewui-review-rubric")
    submit_by_keys(page, [])
    review = Review.objects.get()
    assert review.scores == {
        "verdict": "positive",
        "accuracy": 4,
        "topic": "other",
        "polite": True,
        "comment": "Polite, but the second paragraph repeats itself.",
    }
    second = current_item(page)
    assert second != first
    page.keyboard.press("s")  # skip: the third step comes, the skipped one waits
    page.wait_for_function("n => window.reviewTimings.length > n", arg=1)
    assert current_item(page) not in (first, second)
    page.keyboard.press("u")  # undo: the first step again, its answers filled in to change
    page.wait_for_function("n => window.reviewTimings.length > n", arg=2)
    assert current_item(page) == first and not Review.objects.exists()
    assert page.locator("textarea[name^=item-]").input_value().startswith("Polite")
    context.close()
