"""Review state and its write-back: the team's votes and tags, the outbox that carries them to Letta.

* ``outbox``: ``cast_vote``, ``toggle_vote``, ``retry``, ``resolve_conflict`` (one step, in one
  transaction with its FeedbackPush, delivery enqueued after the commit); the delivery itself,
  ``deliver(client, step_id)`` with a ``push_client()``, and ``due_step_ids()`` for the sweep.
* ``state``: ``vote_state(step)`` / ``vote_states(steps)`` (a ``VoteState``: what a page shows) and
  ``reviewer_counts()`` (and ``recent_reviewer_counts()``, kept per process for the list page).
* ``notes``: ``save_note`` (the team note, local only).
* ``bulk``: ``start_bulk`` / ``apply_bulk`` / ``batch_progress``: one change for many steps, in a worker;
  ``unfinished_batch_ids()`` for the sweep.

The sync flags votes changed by someone else in Letta (steps.sync.conflicts); this package imports
the sync's client, never the reverse, and never imports steps.tasks.
"""

from .bulk import apply_bulk, batch_progress, start_bulk, unfinished_batch_ids
from .notes import save_note
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
from .state import (
    VoteState,
    recent_reviewer_counts,
    reviewer_counts,
    vote_state,
    vote_states,
)

__all__ = [
    "Unchanged",
    "VoteState",
    "apply_bulk",
    "batch_progress",
    "cast_vote",
    "clean_tags",
    "deliver",
    "due_step_ids",
    "push_client",
    "resolve_conflict",
    "retry",
    "reviewer_counts",
    "recent_reviewer_counts",
    "save_note",
    "start_bulk",
    "toggle_vote",
    "unfinished_batch_ids",
    "values_we_sent",
    "vote_state",
    "vote_states",
]
