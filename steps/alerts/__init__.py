"""Saved views, rules that act on new steps, and alerts when a trend turns bad (app label "alerts").

* ``views_saved``: SavedView visibility, "N new since you last opened it" (bounded index reads),
  the default view opened on sign-in.
* ``rules``: the sync's new-steps receiver (steps/sync/hooks.py): tag or notify, once per step.
* ``evaluation``: alerts over the hourly rollups, their state and history; ``conditions`` is its
  pure part (no Django).
* ``notify``: the notification outbox, delivered through apprise with retries and backoff;
  ``secret_url``: destination URLs encrypted at rest and masked everywhere they are shown.
* ``pages`` / ``api``: the editors and the REST endpoints (``/api/v1/views/``, ``rules/``, ``alerts/``).

Nothing here imports steps.tasks: work is enqueued by task name through steps.taskqueue.
"""
