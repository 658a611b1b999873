"""Where a page's time goes, in process: the list (full, its htmx partial, a tool filter), a step
page, a run page, a compare of a step with the one before it in its run and the 30-day overview,
through Django's test client, signed in, against DATABASE_URL's data.

    python -m tests.bench.profile_pages                       # timings, bytes, queries
    python -m tests.bench.profile_pages --profile list        # plus cProfile of one page

Prints per page the median wall and CPU time of a warm request (CPU time is this process only:
Python, templates and the ORM, without PostgreSQL's own work, so it holds on a busy machine),
the HTML bytes raw and gzipped as the GZip middleware sends them, and the query count.
`make bench` measures full HTTP against gunicorn; this is the tool to find what to change.
"""

import argparse
import cProfile
import gzip
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.signals import request_started  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from steps.models import Step  # noqa: E402


def pages() -> dict[str, tuple[str, dict]]:
    step = Step.objects.filter(details_synced_at__isnull=False).order_by("-step_time").only("id").first()
    step = step or Step.objects.order_by("-step_time").only("id").first()
    if step is None:
        sys.exit("No steps: sync or seed some first (python manage.py seed_steps --count 5000).")
    run = Step.objects.exclude(run_id=None).values("run_id").annotate(n=Count("id")).order_by("-n").first()
    found = {
        "list": ("/", {}),
        "htmx": ("/", {"HTTP_HX_REQUEST": "true"}),
        "step": (f"/steps/{step.pk}/", {}),
    }
    if run:
        found["run"] = (f"/runs/{run['run_id']}/", {})
    previous = Step.objects.filter(run_id=step.run_id, run_position__lt=step.run_position or 0)
    previous = previous.order_by("-run_position").only("id").first()
    if previous:
        found["compare"] = (f"/compare/{previous.pk}/{step.pk}/", {})
    found["overview"] = ("/overview/?period=30d", {})
    found["tool"] = ("/?tool=web_search", {})
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--user", help="username to sign in as (default: the first superuser)")
    parser.add_argument(
        "--profile",
        choices=["list", "htmx", "step", "run", "compare", "overview", "tool"],
        help="cProfile this page",
    )
    args = parser.parse_args()

    users = get_user_model().objects.order_by("pk")
    user = users.filter(username=args.user).first() if args.user else users.filter(is_superuser=True).first()
    if user is None:
        sys.exit("No such user: pass --user, or create a superuser first.")
    # the test client resets the query log at each request; keep it for CaptureQueriesContext
    request_started.disconnect(reset_queries)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)

    print(f"{Step.objects.count():,} steps")
    for name, (url, headers) in pages().items():
        assert client.get(url, **headers).status_code == 200, url  # warm: caches, templates
        wall, cpu = [], []
        for _ in range(args.repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            client.get(url, **headers)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        with CaptureQueriesContext(connection) as queries:
            html = client.get(url, **headers).content
        sent = client.get(url, HTTP_ACCEPT_ENCODING="gzip", **headers)
        assert sent.get("Content-Encoding") == "gzip" and gzip.decompress(sent.content)
        print(
            f"{name:8s} wall {statistics.median(wall):6.1f} ms  cpu {statistics.median(cpu):6.1f} ms  "
            f"html {len(html):7,} B  gzip {len(sent.content):6,} B  queries {len(queries)}  {url}"
        )

    if args.profile:
        url, headers = pages()[args.profile]
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(10):
            client.get(url, **headers)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
