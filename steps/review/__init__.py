"""Team review: rubrics, queues, reservations, several reviewers per step, verdicts, agreement.

* ``models``: Rubric and RubricItem (versioned once a queue uses them), Queue, QueueItem (a step,
  or a pair of steps, in a queue, with its reservation and verdict) and Review (one reviewer's
  scores for one item).
"""
