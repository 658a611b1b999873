"""Run the same sync the Celery beat schedule runs, in the foreground, with progress."""

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from steps.sync import SyncProgress, run_sync
from steps.sync.upstream import LettaClient


class Command(BaseCommand):
    help = "Mirror steps, runs, messages, metrics and traces from Letta (LETTA_BASE_URL) now."

    def handle(self, *args, **options):
        client = LettaClient.from_settings()
        self.stdout.write(f"Syncing from {client.base_url}")
        interactive = sys.stdout.isatty()
        last_line = [0.0]

        def show(progress: SyncProgress) -> None:
            now = time.monotonic()
            if progress.phase != "done" and now - last_line[0] < (0.2 if interactive else 2.0):
                return
            last_line[0] = now
            line = (
                f"{progress.phase:<8} mode={progress.mode or '?'} pages={progress.pages} "
                f"new={progress.steps_created} updated={progress.steps_updated} "
                f"details={progress.steps_refreshed} runs={progress.runs_seen} errors={progress.errors} "
                f"({progress.steps_per_second:.0f} steps/s)"
            )
            self.stdout.write(("\r" + line + "\033[K") if interactive else line, ending="")
            if not interactive:
                self.stdout.write("")
            self.stdout.flush()

        with client:
            sync_run = run_sync(client, trigger="command", on_progress=show)
        if interactive:
            self.stdout.write("")
        for line in sync_run.note_lines:
            self.stdout.write(self.style.WARNING(line))
        if sync_run.status != sync_run.Status.SUCCESS:
            raise CommandError(f"Sync failed: {sync_run.error_message}")
        summary = (
            f"{sync_run.steps_created} new, {sync_run.steps_updated} updated, "
            f"{sync_run.steps_refreshed} with details, {sync_run.requests} requests "
            f"in {sync_run.duration.total_seconds():.1f} s ({sync_run.get_mode_display()})"
        )
        if sync_run.skipped_work:
            # not "Done": part of the work is with another sync, said above
            left = f"{sync_run.steps_skipped} step(s)"
            if sync_run.discovery_skipped:
                left += " and discovery"
            self.stdout.write(self.style.WARNING(f"Done, except {left} left to another sync: {summary}."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Done: {summary}."))
