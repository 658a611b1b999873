"""Celery entry points: short, ids and primitives in, the work lives in sync.py."""

from celery import shared_task

from .sync import refresh_steps as refresh_steps_now
from .sync import run_sync
from .upstream import LettaClient


@shared_task(name="steps.tasks.sync_steps")
def sync_steps(trigger: str = "schedule") -> int:
    """Run one sync. Safe to overlap: discovery is leased, step refreshes are claimed."""
    with LettaClient.from_settings() as client:
        return run_sync(client, trigger=trigger).pk


@shared_task(name="steps.tasks.refresh_steps")
def refresh_steps(step_ids: list[str]) -> int:
    with LettaClient.from_settings() as client:
        return refresh_steps_now(client, step_ids)
