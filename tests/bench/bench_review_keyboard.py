"""A reviewer working a thumbs-only queue by keyboard in Chromium, against a real gunicorn on a
seeded database: steps per minute with each submission confirmed (the next step on screen), and
the time from Enter to the next step.

    BENCH_DATABASE_URL=postgres://.../letta_bench_1m .venv/bin/python -m tests.bench.bench_review_keyboard --steps 300

The queue (the newest --steps steps, one review each, nothing written to Letta: the verdict's
outbox write is bench_review's), its reviews and the bench user are deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "")
if BENCH_DB:
    os.environ["DATABASE_URL"] = BENCH_DB
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

USERNAME, PASSWORD = "bench-keyboard-reviewer", "bench keyboard password"
CHROMIUM = "/usr/bin/chromium"


def make_queue(steps: int):
    from django.contrib.auth import get_user_model

    from steps.access import set_role
    from steps.models import Step
    from steps.review import queues, rubrics

    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    user.set_password(PASSWORD)
    user.save()
    set_role(user, "reviewer")
    ids = list(Step.objects.order_by("-step_time", "-id").values_list("pk", flat=True)[:steps])
    rubric = rubrics.rubric_from_items([{"name": "verdict", "kind": "thumbs"}], name="bench", created_by=user)
    queue = queues.create_queue(
        name="bench: keyboard",
        query="",
        mode="snapshot",
        rubric=rubric,
        reviewers_per_item=1,
        reservation_minutes=30,
        created_by=user,
        write_feedback=False,
        step_ids=ids,
    )
    return user, queue


def clean_up(user, queue) -> None:
    from steps.review.models import Review

    rubric = queue.rubric
    Review.objects.filter(item__queue=queue).delete()
    queue.delete()
    rubric.delete()
    user.delete()


def work(base_url: str, queue_id: int, steps: int) -> tuple[float, list[int]]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        # Playwright's wait_for_function evaluates a string, which the page's CSP refuses
        page = browser.new_context(viewport={"width": 1440, "height": 900}, bypass_csp=True).new_page()
        page.goto(f"{base_url}/login/")
        page.fill("input[name=username]", USERNAME)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base_url}/")
        page.goto(f"{base_url}/review/queues/{queue_id}/review/")
        page.locator("#rubric-form").wait_for()
        started = time.perf_counter()
        for n in range(steps):
            page.keyboard.press("1" if n % 4 else "2")
            page.keyboard.press("Enter")
            page.wait_for_function("n => window.reviewTimings.length > n", arg=n)
        elapsed = time.perf_counter() - started
        timings = page.evaluate("window.reviewTimings")
        assert page.locator("text=All done here").count() == 1, "the queue did not end"
        browser.close()
    return elapsed, timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    if not BENCH_DB:
        print(
            "bench_review_keyboard: set BENCH_DATABASE_URL to a seeded database (manage.py seed_steps); skipped"
        )
        return
    if not Path(CHROMIUM).exists():
        print("bench_review_keyboard: Debian's chromium is not installed (make browser-deps); skipped")
        return
    import django

    django.setup()
    from django.core.management import call_command

    from tests.bench.server import Gunicorn, server_env

    call_command("collectstatic", interactive=False, verbosity=0)  # served by WhiteNoise from its manifest

    user, queue = make_queue(args.steps)
    server = Gunicorn(server_env(BENCH_DB), Path(tempfile.gettempdir()) / "bench_review_keyboard.log")
    try:
        server.start()
        elapsed, timings = work(server.base_url, queue.pk, queue.items_total)
    finally:
        server.stop()
        clean_up(user, queue)
    timings = sorted(timings)
    print(f"keyboard review of {len(timings)} steps (thumbs, 1 review each) in Chromium against gunicorn")
    print(
        f"  {len(timings) / elapsed * 60:.0f} steps/min, each submission confirmed by the next step on screen"
    )
    print(
        f"  Enter to next step: median {statistics.median(timings):.0f} ms, "
        f"p95 {timings[int(len(timings) * 0.95) - 1]:.0f} ms, max {timings[-1]:.0f} ms"
    )


if __name__ == "__main__":
    main()
