"""The overview in Chromium: charts drawn, and a click on a bar lands on exactly its steps."""

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from steps.models import Step
from steps.sync import run_sync
from tests.browser_fixtures import open_logged_in, shot
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def synced(letta):
    UserFactory(username="reviewer")
    run_sync(letta)
    first, last = Step.objects.earliest("step_time").step_time, Step.objects.latest("step_time").step_time
    return first - timedelta(hours=1), last + timedelta(hours=1)


def _range(first, last) -> str:
    return f"since={first:%Y-%m-%dT%H:%M}Z&until={last:%Y-%m-%dT%H:%M}Z".replace("+00:00", "")


def test_clicking_a_bar_opens_the_steps_of_that_bucket_and_series(browser, live_server, synced):
    first, last = synced
    context, page = open_logged_in(browser, live_server)
    page.goto(f"{live_server.url}/overview/?{_range(first, last)}&breakdown=model")
    expect(page.locator(".kpi-value").first).not_to_have_text("0")
    shot(page, "overview-simulator")

    bar = page.locator("[data-chart] a.chart-link").first
    bar.hover()
    readout = page.locator("[data-readout]").first
    title = bar.locator("rect").get_attribute("data-tip")
    expect(readout).to_have_text(title)  # the hover readout shows the bar's bucket, series and count
    bar.click()
    page.wait_for_url(f"{live_server.url}/?*")

    query = parse_qs(urlparse(page.url).query)
    assert {"since", "until", "model"} <= query.keys()
    shown = {row.get_attribute("data-step") for row in page.locator("tr[data-step]").all()}
    expected = set(
        Step.objects.filter(
            step_time__gte=query["since"][0], step_time__lte=query["until"][0], model=query["model"][0]
        ).values_list("id", flat=True)
    )
    assert shown == expected and shown, title
    # the bar said how many steps it holds
    assert f": {len(expected)} (of " in title
    context.close()


def test_a_filtered_view_and_a_table_row_click(browser, live_server, synced):
    first, last = synced
    context, page = open_logged_in(browser, live_server)
    page.goto(f"{live_server.url}/overview/?{_range(first, last)}&has_error=yes&breakdown=agent")
    expect(page.locator(".overview-chips")).to_contain_text("Has error")
    shot(page, "overview-filtered")

    page.locator("details.numbers-table summary").click()
    row = page.locator("[data-numbers] tbody tr").first
    link = row.locator("td a").first
    link.click()
    page.wait_for_url(f"{live_server.url}/?*")
    query = parse_qs(urlparse(page.url).query)
    assert query["has_error"] == ["yes"]
    for step_row in page.locator("tr[data-step]").all():
        assert Step.objects.get(pk=step_row.get_attribute("data-step")).error_type
    context.close()
