"""Recompute the overview's hourly rollups from steps, with progress (safe while syncs run)."""

import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from steps.fields import as_utc
from steps.overview.rollup import rebuild

RELATIVE = {"h": timedelta(hours=1), "d": timedelta(days=1)}


def parse_since(value: str):
    """An ISO time ("2026-11-20T12:00Z") or an age ("48h", "30d")."""
    if value[:-1].isdigit() and value[-1:] in RELATIVE:
        return timezone.now() - int(value[:-1]) * RELATIVE[value[-1]]
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise CommandError(f"--since {value!r}: give an ISO time (2026-11-20T12:00Z) or an age (48h, 30d).")
    return as_utc(parsed if parsed.tzinfo else timezone.make_aware(parsed))


class Command(BaseCommand):
    help = "Recompute the overview's hourly rollups from steps (all of them, or from --since)."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="only hours from this time: ISO time or an age like 48h, 30d")

    def handle(self, *args, since=None, **options):
        start = parse_since(since) if since else None
        self.stdout.write(f"Rebuilding rollups {'from ' + start.isoformat() if start else 'of every hour'}")
        began = time.monotonic()

        def show(done: int, total: int) -> None:
            elapsed = time.monotonic() - began
            self.stdout.write(
                f"  {done}/{total} hours ({100 * done / max(total, 1):.0f}%), {elapsed:.1f} s, "
                f"{done / max(elapsed, 1e-9):.0f} hours/s"
            )

        hours = rebuild(start, on_progress=show)
        self.stdout.write(self.style.SUCCESS(f"Done: {hours} hours in {time.monotonic() - began:.1f} s"))
