"""The audit trail: who did what and when, with the values before and after.

    record(actor, action, target, before=None, after=None)   one event, in the caller's transaction

Actions are named in actions.py (queue reviews: "review.submit", "review.adjudicate"). Events are
append-only (models.py: the ORM refuses, and a database trigger refuses UPDATE, DELETE and
TRUNCATE). The trail page (/audit/, managers only) merges them with Django's admin log
(trail.py), newest first, filtered by person, action and time, and exports them as CSV.
"""

from .actions import ACTIONS


def record(actor, action, target=None, before=None, after=None, *, actor_name=""):
    """See events.record (imported when first used: this package is an app, loaded before models)."""
    from .events import record as record_event

    return record_event(actor, action, target, before, after, actor_name=actor_name)


__all__ = ["ACTIONS", "record"]
