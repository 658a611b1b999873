"""What other capabilities do with steps the sync has just brought in for the first time.

Live review queues and rules register a receiver with ``@on_new_steps``; the sync calls them
inside the transaction that writes a batch's details, after its steps are saved, so a step
joins a queue (or fires a rule) exactly when it lands, and a batch rolled back fires nothing.
Receivers get the ids of the batch's newly detailed steps: one call per batch, whatever its
size, so a receiver's cost is a fixed number of queries per batch, never a scan of the table.

The arrow runs one way: those packages import this module; the sync imports none of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

log = logging.getLogger(__name__)

Receiver = Callable[[list[str]], None]
_receivers: list[Receiver] = []


def on_new_steps(receiver: Receiver) -> Receiver:
    """Register `receiver(step_ids)`; use as a decorator in a module an AppConfig.ready imports."""
    if receiver not in _receivers:
        _receivers.append(receiver)
    return receiver


def announce_new_steps(step_ids: list[str]) -> None:
    """Call every receiver, each in a savepoint: a failing receiver is logged and undone on
    its own, and never costs the sync its batch (which would retry it, and fail again, forever)."""
    if not step_ids:
        return
    for receiver in list(_receivers):
        try:
            with transaction.atomic():
                receiver(list(step_ids))
        except Exception:
            log.exception(
                "A new-steps receiver (%s) failed for %d steps", receiver.__qualname__, len(step_ids)
            )
