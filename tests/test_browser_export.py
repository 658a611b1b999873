"""The list's Export menu in real Chromium: the file that downloads holds the list's filtered rows."""

import csv
import io

import pytest

from tests.browser_fixtures import open_logged_in, shot
from tests.factories import StepFactory, UserFactory, conversation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def data():
    UserFactory(username="reviewer")
    ok = StepFactory()
    conversation(ok, user_text="=1+1 from the user", answer="fine")
    return {"ok": ok, "failed": [StepFactory(failed=True), StepFactory(failed=True)]}


def downloaded_rows(download) -> list[dict]:
    with open(download.path(), encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(io.StringIO(f.read())))


def test_export_csv_of_a_filtered_list(browser, live_server, data):
    context, page = open_logged_in(browser, live_server, timeout=10_000)
    try:
        # filtered through htmx: only the table is swapped, and the menu must follow the filter
        page.select_option("select[name=status]", "failed")
        page.wait_for_url(live_server.url + "/?status=failed")
        page.wait_for_function("document.querySelectorAll('tr.step-row').length === 2")
        page.click("details.export-menu > summary")
        shot(page, "export-menu", full_page=False)
        with page.expect_download() as info:
            page.click("a.export-item:has-text('CSV')")
        download = info.value
        assert download.suggested_filename.startswith("letta-steps_status-failed_")
        assert download.suggested_filename.endswith(".csv")
        ids = {row["step_id"] for row in downloaded_rows(download)}
        assert ids == {s.pk for s in data["failed"]}
        # choosing a format closes the menu
        assert not page.locator("details.export-menu").evaluate("d => d.open")
    finally:
        context.close()


def test_export_works_without_javascript(browser, live_server, data):
    context = browser.new_context(java_script_enabled=False, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(live_server.url + "/")
        page.fill("input[name=username]", "reviewer")
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        page.goto(live_server.url + "/?has_error=no")
        page.click("details.export-menu > summary")
        with page.expect_download() as info:
            page.click("a.export-item:has-text('CSV')")
        rows = downloaded_rows(info.value)
        assert [row["step_id"] for row in rows] == [data["ok"].pk]
        assert rows[0]["first_user_text"] == "'=1+1 from the user"
    finally:
        context.close()
