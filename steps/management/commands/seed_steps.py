"""Fill the database with realistic steps for benchmarks and demos (steps/seeding/)."""

import time
from datetime import UTC, datetime

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from steps.models import Step
from steps.seeding import load
from steps.seeding.generate import Seeder


class Command(BaseCommand):
    help = (
        "Fill the database with N realistic steps (runs, messages, metrics, provider traces, votes, "
        "tags, errors), spread over the last D days. Deterministic from --seed and --until."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True, help="how many steps")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--days", type=float, default=90, help="spread over this many days (default 90)")
        parser.add_argument(
            "--until",
            help="newest step time, ISO 8601 (default: now, to the minute); fix it for byte-identical data",
        )
        parser.add_argument("--batch", type=int, default=10_000, help="steps per batch (default 10,000)")
        parser.add_argument("--append", action="store_true", help="add to a database that already has steps")
        parser.add_argument("--no-vacuum", action="store_true", help="skip VACUUM ANALYZE at the end")

    def handle(self, *args, count, seed: int, days: float, until, batch: int, append: bool, **options):
        if count < 1 or batch < 1 or days <= 0:
            raise CommandError("--count and --batch must be at least 1, and --days more than 0.")
        existing = Step.objects.count()
        if existing and not append:
            raise CommandError(
                f"This database already has {existing:,} steps: seed_steps only fills an empty one. "
                "Pass --append to add more steps to it anyway."
            )
        end = self._until(until)
        seeder = Seeder(seed=seed, count=count, days=days, until=end, start=existing)
        self.stdout.write(
            f"Seeding {count:,} steps (seed {seed}, {days:g} days up to {end:%Y-%m-%d %H:%M} UTC) "
            f"in batches of {batch:,}{', appending' if existing else ''}..."
        )
        started = time.monotonic()
        totals = load.seed(
            seeder,
            batch_steps=batch,
            fresh=not existing,
            say=self._say,
            vacuum=not options["no_vacuum"],
        )
        elapsed = time.monotonic() - started
        for table, n in totals.rows.items():
            self.stdout.write(f"  {table:<24} {n:>12,}")
        # COPY bypasses the writers that keep the list's filter choices and the overview's
        # rollups up to date: recount both, so the seeded database is one the sync could have made
        call_command("rebuild_facets", stdout=self.stdout)
        call_command("rebuild_rollups", stdout=self.stdout)
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {count:,} steps, {totals.total:,} rows in {elapsed:.1f} s "
                f"({count / elapsed:,.0f} steps/s; facets and rollups then took "
                f"{time.monotonic() - started - elapsed:.1f} s)."
            )
        )

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def _until(self, value: str | None) -> datetime:
        if not value:
            return datetime.now(UTC).replace(second=0, microsecond=0)
        parsed = parse_datetime(value)
        if parsed is None:
            raise CommandError(f"--until {value!r} is not an ISO 8601 date and time.")
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
