"""The agreement page in Chromium, on steps synced from the simulator: the disagreements are one
click away, and the page runs under the real Content-Security-Policy without a refusal."""

from __future__ import annotations

import random

import pytest

from steps.models import Step
from steps.sync import run_sync
from tests.browser_fixtures import open_logged_in, shot
from tests.factories import UserFactory
from tests.review_data import make_queue, make_rubric

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RUBRIC = [
    {"name": "verdict", "kind": "thumbs", "description": "Would you ship this answer to the user?"},
    {
        "name": "accuracy",
        "kind": "scale",
        "choices": [1, 2, 3, 4, 5],
        "choice_labels": ["wrong", "mostly wrong", "partly right", "mostly right", "right"],
        "description": "Are the facts in the reply correct?",
    },
    {"name": "tone", "kind": "categorical", "choices": ["friendly", "neutral", "curt"]},
    {"name": "used_tools_well", "kind": "boolean", "description": "Right tool, right arguments."},
    {"name": "comment", "kind": "text", "required": False},
]


@pytest.fixture
def queue(letta):
    run_sync(letta)
    steps = list(Step.objects.filter(status="success").order_by("step_time", "id")[:40])
    reviewers = [UserFactory(username=name) for name in ("reviewer", "maya", "tomas", "ines")]
    rng = random.Random(4)
    reviews = []
    for _ in steps:
        truth = rng.randint(1, 5)
        chosen = rng.sample(reviewers, 2)
        reviews.append(
            {
                who: {
                    "verdict": "positive" if truth + rng.choice([0, 0, 0, 1, -1]) >= 3 else "negative",
                    "accuracy": min(5, max(1, truth + rng.choice([0, 0, 0, 1, -1]))),
                    "tone": rng.choice(["friendly", "friendly", "neutral", "curt"]),
                    "used_tools_well": rng.random() < 0.8,
                    "comment": "",
                }
                for who in chosen
            }
        )
    return make_queue(
        reviews,
        rubric=make_rubric(RUBRIC, name="Support quality"),
        steps=steps,
        name="Support triage, week 48",
    )


def test_agreement_page_and_the_disagreements_a_click_away(browser, live_server, queue):
    context, page = open_logged_in(browser, live_server, bypass_csp=False)
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server.url}/review/queues/{queue.pk}/agreement/")
    assert page.locator(".agreement-table tbody tr").count() == 4  # the free-text item is not compared
    assert page.locator(".reviewer-matrix tbody tr").count() == 4
    shot(page, "revieweval-agreement")
    page.get_by_role("link", name="Steps where reviewers disagree").click()
    page.wait_for_url("**/agreement/disagreements/")
    assert page.locator("li.disagreement").count() > 0
    # each row names the rubric items the reviewers disagree on, and its marked cells are visible
    assert page.locator("td.differs").first.is_visible()
    shot(page, "revieweval-disagreements", full_page=False)
    page.locator("nav.chip-row a", has_text="verdict").click()
    page.wait_for_url("**?item=verdict")
    for row in page.locator("li.disagreement").all():
        assert "verdict" in row.locator(".disagreement-head").inner_text()
    page.goto(f"{live_server.url}/review/queues/{queue.pk}/agreement/")
    page.get_by_role("link", name="Export").click()
    page.wait_for_url("**/export/")
    page.fill("input[name=condition]", "verdict = positive, accuracy >= great")
    page.get_by_role("button", name="Export fine-tuning JSONL").click()
    page.wait_for_selector(".alert-error")
    assert "compare it with a whole number" in page.locator(".alert-error").inner_text()
    assert page.input_value("input[name=condition]") == "verdict = positive, accuracy >= great"
    shot(page, "revieweval-export", full_page=False)
    assert refused == []
    context.close()
