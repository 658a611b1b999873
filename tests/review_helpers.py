"""Rubrics and queues for the review tests, built through the functions the API calls."""

from __future__ import annotations

from steps.review import queues, rubrics

THUMBS = [{"name": "verdict", "kind": "thumbs"}]
FULL = [
    {"name": "verdict", "kind": "thumbs"},
    {
        "name": "accuracy",
        "kind": "scale",
        "choices": [1, 2, 3, 4, 5],
        "choice_labels": ["awful", "", "ok", "", "great"],
    },
    {"name": "topic", "kind": "categorical", "choices": ["billing", "bug", "other"]},
    {"name": "polite", "kind": "boolean", "required": False},
    {"name": "comment", "kind": "text", "required": False},
]


def make_queue(steps, *, items=THUMBS, k=1, user=None, minutes=30, **kwargs):
    rubric = rubrics.rubric_from_items(items, name="r", created_by=user)
    return queues.create_queue(
        name="q",
        query="",
        mode="snapshot",
        rubric=rubric,
        reviewers_per_item=k,
        reservation_minutes=minutes,
        created_by=user,
        step_ids=[s.pk for s in steps],
        **kwargs,
    )
