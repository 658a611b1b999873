"""The sync: Letta's runs, steps, agents and their details into the mirror (fetch -> map -> upsert).

Modules, in the order data flows:

* ``upstream``: the only code that speaks HTTP to Letta (``LettaClient``, the ``Upstream*`` errors).
* ``run``: one sync run (discovery under a lease, refresh, re-verification); ``run_sync``,
  ``run_sync_unless_busy`` (the schedule's, single-flight by default), ``refresh_steps`` (given
  steps now), ``prune_history``.
* ``refresh``: claimed steps fetched again by id, with their messages, metrics and trace.
* ``mirror``: payloads mapped and upserted into the mirror's tables.
* ``claims``: the discovery lease, the heartbeat and step claims that make overlapping syncs safe.
* ``bulk``: the batched SQL writers of the hot path (COPY into a temporary table, one upsert).

* ``conflicts``: votes changed in Letta by someone else, flagged as the sync sees them.
* ``hooks``: ``on_new_steps`` receivers (live queues, rules) called with each batch's new steps.

``refresh_later`` hands a refresh to a worker; nothing here imports ``steps.tasks``, which calls in.
"""

from .. import taskqueue
from .run import SyncProgress, prune_history, refresh_steps, run_sync, run_sync_unless_busy
from .upstream import LettaClient

__all__ = [
    "LettaClient",
    "SyncProgress",
    "prune_history",
    "refresh_later",
    "refresh_steps",
    "run_sync",
    "run_sync_unless_busy",
]


def refresh_later(step_ids: list[str]) -> None:
    """Refresh these steps in a worker, once the caller's transaction has committed (the worker
    must not read the steps before it)."""
    taskqueue.send_on_commit("steps.tasks.refresh_steps", list(step_ids))
