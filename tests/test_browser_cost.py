"""Costs on simulator data in real Chromium: every model the demo emits is priced, so the list,
the step page and the run page show figures. Screenshots go to test-artifacts/."""

import importlib
import re

import pytest
from django.apps import apps

from steps.models import ModelPrice, Step
from steps.sync import run_sync
from steps.sync.upstream import LettaClient
from tests.browser_fixtures import ARTIFACTS, open_logged_in, shot
from tests.conftest import quick_sleep
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MONEY = re.compile(r"^(\$\d[\d,]*(\.\d+)?|<\$0\.000001|—)$")


@pytest.fixture
def page(browser, live_server, simulator):
    # a transactional test before this one flushed every table, the migration's prices too
    # (serialized_rollback cannot help: Playwright's event loop gives the ORM another connection)
    importlib.import_module("steps.migrations.0012_model_prices").prefill(apps, None)
    assert ModelPrice.objects.filter(model="gpt-4.1").exists()
    with LettaClient(simulator.base_url, sleep=quick_sleep, max_retries=2) as client:
        run_sync(client)
    UserFactory(username="reviewer")
    context, page = open_logged_in(browser, live_server, timeout=15_000)
    yield page
    context.close()


def test_simulator_steps_show_costs_on_list_step_and_run_pages(page, live_server):
    cells = page.locator(".row-cost").all_inner_texts()
    assert cells and all(MONEY.match(c.strip()) for c in cells), cells
    assert any(c.startswith("$0.0") for c in cells)
    # the longest figures ("$0.000601") are whole, not cut to "$0.0006…"
    clipped = page.locator(".row-cost").evaluate_all(
        "els => els.filter(e => e.scrollWidth > e.clientWidth).length"
    )
    assert clipped == 0
    shot(page, "cost-list", full_page=False)

    # a Claude step: its cached input is priced at the cache-read rate
    step = (
        Step.objects.filter(model__startswith="claude", cached_input_tokens__gt=0, completion_tokens__gt=0)
        .order_by("step_time")
        .first()
    )
    page.goto(f"{live_server.url}/steps/{step.pk}/")
    cost = page.locator(".step-cost").inner_text()
    assert "× $0.30/M" in cost and "× $15.00/M" in cost
    assert "claude-sonnet-4 list price of 22 May 2025" in cost
    page.locator(".step-header").screenshot(path=str(ARTIFACTS / "cost-step-header.png"))

    page.goto(f"{live_server.url}/runs/{step.run_id}/")
    total = page.locator(".stat-cost .stat-value").inner_text()
    assert MONEY.match(total.strip()) and total != "$0"
    assert page.locator(".run-step-cost").count() == Step.objects.filter(run_id=step.run_id).count()
    shot(page, "cost-run", full_page=False)
