"""Review state and its write-back: the team's votes and tags, the outbox that carries them to Letta.

* ``outbox``: ``cast_vote``, ``toggle_vote``, ``retry``, ``resolve_conflict`` (one step, in one
  transaction with its FeedbackPush, delivery enqueued after the commit); the delivery itself,
  ``deliver(client, step_id)`` with a ``push_client()``, and ``due_step_ids()`` for the sweep.
* ``bulk``: ``start_bulk`` / ``apply_bulk`` / ``batch_progress``: one change for many steps, in a worker.

The sync flags votes changed by someone else in Letta (steps.sync.conflicts); this package imports
the sync's client, never the reverse, and never imports steps.tasks.
"""

from .bulk import apply_bulk, batch_progress, start_bulk
from .outbox import (
    Unchanged,
    cast_vote,
    clean_tags,
    deliver,
    due_step_ids,
    push_client,
    resolve_conflict,
    retry,
    toggle_vote,
    values_we_sent,
)

__all__ = [
    "Unchanged",
    "apply_bulk",
    "batch_progress",
    "cast_vote",
    "clean_tags",
    "deliver",
    "due_step_ids",
    "push_client",
    "resolve_conflict",
    "retry",
    "start_bulk",
    "toggle_vote",
    "values_we_sent",
]
