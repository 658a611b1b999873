"""Verdict conditions (steps/review/conditions.py): pure code, no database."""

from __future__ import annotations

import pytest

from steps.review.conditions import Clause, ConditionError, ItemSpec, describe, parse, passes

RUBRIC = [
    ItemSpec("verdict", "thumbs"),
    ItemSpec("accuracy", "scale", (1, 2, 3, 4, 5)),
    ItemSpec("topic", "categorical", ("billing", "Bug report", "other")),
    ItemSpec("cites_sources", "boolean"),
    ItemSpec("comment", "text"),
]


def test_the_issues_example():
    clauses = parse("verdict = positive, accuracy >= 4", RUBRIC)
    assert clauses == [Clause("verdict", "=", "positive"), Clause("accuracy", ">=", 4)]
    assert passes({"verdict": "positive", "accuracy": 4, "topic": "bug"}, clauses)
    assert passes({"verdict": "positive", "accuracy": 5}, clauses)
    assert not passes({"verdict": "positive", "accuracy": 3}, clauses)
    assert not passes({"verdict": "negative", "accuracy": 5}, clauses)
    assert not passes({"verdict": "positive"}, clauses)  # no accuracy verdict: not a pass
    assert not passes(None, clauses)
    assert describe(clauses) == "verdict = positive and accuracy >= 4"


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("verdict=up", [Clause("verdict", "=", "positive")]),
        (
            "Verdict == good and cites_sources = yes",
            [Clause("verdict", "=", "positive"), Clause("cites_sources", "=", True)],
        ),
        (
            "topic = bug report; accuracy != 1",
            [Clause("topic", "=", "Bug report"), Clause("accuracy", "!=", 1)],
        ),
        ("accuracy > 2, accuracy < 5", [Clause("accuracy", ">", 2), Clause("accuracy", "<", 5)]),
        ("  ", []),
        ("cites_sources = 'false'", [Clause("cites_sources", "=", False)]),
    ],
)
def test_forms_people_type(text, clauses):
    assert parse(text, RUBRIC) == clauses


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("speed >= 4", "no item “speed” (it has verdict, accuracy, topic, cites_sources)"),
        ("accuracy >= high", "compare it with a whole number"),
        ("verdict > positive", "has no order"),
        ("verdict = maybe", "positive or negative"),
        ("topic = weather", "no label “weather”"),
        ("comment = nice", "free text"),
        ("accuracy", "is not a clause"),
        ("accuracy >=", "give a value"),
        ("x" * 600, "at most 500"),
    ],
)
def test_what_cannot_be_applied_says_why(text, message):
    with pytest.raises(ConditionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(text, RUBRIC)


def test_an_order_needs_numbers():
    clause = Clause("accuracy", ">=", 4)
    assert not clause.holds({"accuracy": "5"}) and not clause.holds({"accuracy": True})
