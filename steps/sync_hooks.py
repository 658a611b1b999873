"""Per-batch hook points of the sync, for data derived from the mirror (facet counts, rollups).

The sync writes steps a page or a claimed batch at a time; each batch sends these two signals,
both inside the batch's own transaction, so whatever a receiver writes commits or rolls back
with the rows it was derived from, and a killed sync never leaves a count ahead of its steps.

- `steps_writing`: before the batch is written; the database still holds the old rows (for a
  receiver that counts deltas: subtract what is about to change).
- `steps_written`: after; the database holds the new rows (add them back, or recompute the keys).

Sent with `sender=Step` and the keywords `step_ids` (every step the batch wrote, new or changed; steps that did not
change are left out), `created` (the ones that are new), `phase` ("discovery": listed rows;
"details": a refresh, which also rewrites messages, metrics and traces). A receiver is called
once per batch, never per step; it should do a bounded number of statements per call.

Connect in an AppConfig.ready(), e.g. `steps_written.connect(update_facets, dispatch_uid="facets")`.
"""

from __future__ import annotations

from django.dispatch import Signal

from .models import Step

DISCOVERY = "discovery"
DETAILS = "details"

steps_writing = Signal()
steps_written = Signal()


def send(signal: Signal, *, step_ids: list[str], created: list[str], phase: str) -> None:
    if step_ids and signal.has_listeners(Step):
        signal.send(sender=Step, step_ids=step_ids, created=created, phase=phase)
