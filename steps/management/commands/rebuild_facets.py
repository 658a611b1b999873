"""Recount the list's facets and the tags in use from the tables, with progress."""

import time

from django.core.management.base import BaseCommand

from steps.facets import rebuild


class Command(BaseCommand):
    help = "Recount the step list's filter choices (agents, models, tools, ...) and the tags in use."

    def handle(self, *args, **options):
        started = time.monotonic()
        self.stdout.write("Recounting facets, one dimension at a time")
        values = rebuild(progress=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(f"Done: {values} values in {time.monotonic() - started:.1f} s."))
