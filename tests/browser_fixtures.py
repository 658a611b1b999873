"""Debian's Chromium driven by Playwright (it cannot download its own browsers here)."""

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
# Playwright's sync API runs an event loop in this thread; the ORM calls around it are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `make browser-deps` (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update"],
        )
        yield chromium
        chromium.close()


def open_logged_in(
    browser,
    live_server,
    username="reviewer",
    password="correct horse battery",
    timeout=15_000,
    bypass_csp=True,
):
    """A fresh browser context, signed in through the real login form.

    bypass_csp: Playwright's wait_for_function("...") evaluates its string with eval, which
    the site's Content-Security-Policy refuses; test_browser_csp.py runs under the real policy.
    """
    context = browser.new_context(viewport={"width": 1440, "height": 900}, bypass_csp=bypass_csp)
    page = context.new_page()
    page.set_default_timeout(timeout)
    page.goto(live_server.url + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    return context, page


def shot(page, name, *, full_page=True):
    """Save a screenshot to test-artifacts/ (gitignored) for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
