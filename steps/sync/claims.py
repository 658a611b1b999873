"""A sync run's heartbeat and the discovery lease: the live side of the claim mechanism
described in steps/models/syncing.py (a claim names a SyncRun; it holds while that run beats).
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from ..models import SyncCursor, SyncRun, unclaimed

log = logging.getLogger(__name__)


class Heartbeat:
    """Refreshes a running SyncRun's heartbeat_at from a thread while the run works.

    A thread, not beats between pages: one slow Letta request (30 s timeout, retries) must not
    make a live run look dead and lose its claims to another worker.
    """

    def __init__(self, sync_run: SyncRun, interval: float | None = None):
        self.sync_run_id = sync_run.pk
        self.interval = settings.SYNC_HEARTBEAT_SECONDS if interval is None else interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sync-heartbeat-{sync_run.pk}", daemon=True)

    def beat(self) -> None:
        SyncRun.objects.filter(pk=self.sync_run_id, status=SyncRun.Status.RUNNING).update(
            heartbeat_at=timezone.now()
        )

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    self.beat()
                except DatabaseError as exc:  # a database blip: the next beat may work
                    log.warning("Sync heartbeat failed: %s", exc)
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)


def describe(holder: SyncRun | None) -> str:
    """ "sync #12 (alive, heartbeat 1 s ago)" for notes people read."""
    if holder is None:
        return "a sync no longer recorded"
    silent = timezone.now() - holder.heartbeat_at
    seconds = max(0, int(silent.total_seconds()))
    state = holder.status
    if holder.status == SyncRun.Status.RUNNING:
        state = "stopped" if holder.looks_dead() else "alive"
    return f"sync #{holder.pk} ({state}, heartbeat {seconds} s ago)"


class Lease:
    """A named lease in SyncCursor held by a SyncRun: only one discovery runs at a time, and a
    killed holder's lease is free as soon as its heartbeat stops."""

    def __init__(self, name: str, holder: SyncRun):
        self.name, self.holder = name, holder
        self.taken_from: SyncRun | None = None  # a dead holder we took the lease over from
        self.held_by: SyncRun | None = None  # the live holder when we could not take it

    def acquire(self) -> bool:
        SyncCursor.objects.get_or_create(name=self.name)
        with transaction.atomic():
            lease = SyncCursor.objects.select_for_update().filter(name=self.name)
            before = lease.values_list("lease_holder", flat=True).first()
            if before and before != self.holder.pk:
                # a holder whose heartbeat stopped is abandoned as its lease is taken, not later
                SyncRun.objects.filter(pk=before).mark_abandoned(taken_over_by=self.holder)
            taken = lease.filter(unclaimed("lease_holder") | Q(lease_holder=self.holder)).update(
                lease_holder=self.holder
            )
        previous = SyncRun.objects.filter(pk=before).first() if before and before != self.holder.pk else None
        if taken:
            self.taken_from = self.taken_from or previous
        else:
            self.held_by = previous
        return taken == 1

    def renew(self) -> None:
        """Between pages: still ours? (Only if our heartbeat went stale could it be taken.)"""
        if not SyncCursor.objects.filter(name=self.name, lease_holder=self.holder).exists():
            raise LeaseLost(f"another sync took over the {self.name} lease while this one looked dead")

    def held_elsewhere(self) -> bool:
        """Whether another live sync holds the lease now (it is discovering)."""
        lease = SyncCursor.objects.filter(name=self.name).exclude(lease_holder=self.holder)
        return lease.exclude(unclaimed("lease_holder")).exists()

    def release(self) -> None:
        SyncCursor.objects.filter(name=self.name, lease_holder=self.holder).update(lease_holder=None)


class LeaseLost(Exception):
    pass
