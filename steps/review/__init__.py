"""Team review: rubrics, queues, reservations, several reviewers per step, verdicts, agreement.

* ``models``: Rubric and RubricItem (versioned once a queue uses them), Queue, QueueItem (a step,
  or a pair of steps, in a queue, with its reservation and verdict), Review (one reviewer's
  scores for one item) and Skip.
* ``rubrics``: ``rubric_from_items``, ``new_version``, ``validate_scores``.
* ``queues``: ``create_queue``, ``update_queue``, ``add_steps``, ``add_pairs``, ``pairs_from_runs``,
  ``pairs_matched_on_user_input``; ``live`` joins new steps to live queues (a sync hook).
* ``reserve``: ``next_item``, ``release``, ``can_work``, ``held_by``.
* ``submit``: ``submit_review``, ``skip``, ``undo_last`` (``NotReviewable``).
* ``verdict``: ``resolve``, ``adjudicate``, ``write_back`` (through steps.feedback's outbox).
* ``progress``: ``queue_progress``; ``counters`` keeps a queue's counts when items are deleted elsewhere.
* ``figures`` and ``agreement``: agreement per rubric item and reviewer (pure maths in ``agreement``).

Modules are imported by name (``from steps.review import reserve``): this package is an app, so
nothing here imports models at package import.
"""
