"""Delete old steps in small batches, with progress: the retention policy, run by hand."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from steps.retention import count_old, cutoff_for, prune_steps


class Command(BaseCommand):
    help = (
        "Delete steps older than N days (by step time) with their messages, metrics, traces, votes, "
        "feedback pushes, reviews and share links, in short batches that never hold long locks."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=settings.RETENTION_DAYS or None,
            help="Age limit in days (default: RETENTION_DAYS).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be deleted.")
        parser.add_argument("--batch-size", type=int, default=settings.RETENTION_BATCH_SIZE)

    def handle(self, *args, older_than_days, dry_run, batch_size, **options):
        if not older_than_days or older_than_days < 1:
            raise CommandError("Give --older-than-days N (N >= 1), or set RETENTION_DAYS.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        cutoff = cutoff_for(older_than_days)
        when = cutoff.strftime("%Y-%m-%d %H:%M %Z")
        if dry_run:
            self.stdout.write(
                f"{count_old(older_than_days)} steps are older than {when}; nothing deleted (dry run)."
            )
            return
        self.stdout.write(f"Deleting steps older than {when}, {batch_size} per batch")
        result = prune_steps(older_than_days, batch_size=batch_size, progress=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(f"Done: {result.steps} steps deleted."))
