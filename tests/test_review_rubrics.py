"""Rubrics: items checked with reasons a manager can act on, scores checked per kind, versions."""

import pytest
from django.core.exceptions import ValidationError

from steps.review import rubrics
from steps.review.models import Rubric
from tests.factories import StepFactory, UserFactory
from tests.review_helpers import FULL, make_queue

pytestmark = pytest.mark.django_db


def test_a_rubric_is_made_from_api_items_in_order():
    rubric = rubrics.rubric_from_items(FULL, name="Support", created_by=None)
    items = list(rubric.items.order_by("position"))
    assert [(i.name, i.kind) for i in items] == [(d["name"], d["kind"]) for d in FULL]
    assert items[1].choices == [1, 2, 3, 4, 5] and items[1].choice_labels[0] == "awful"
    assert items[3].required is False and items[0].required is True


@pytest.mark.parametrize(
    ("items", "says"),
    [
        ([], "at least one item"),
        ([{"name": "a", "kind": "stars"}], "kind must be one of"),
        ([{"name": "a", "kind": "thumbs"}, {"name": "b", "kind": "thumbs"}], "at most one thumbs"),
        ([{"name": "a", "kind": "text"}, {"name": "a", "kind": "boolean"}], "share a name"),
        ([{"name": "a:b", "kind": "boolean"}], "letters, digits"),
        ([{"name": "a", "kind": "categorical", "choices": ["one"]}], "2 to 50 labels"),
        ([{"name": "a", "kind": "scale", "choices": [1, 2.5]}], "whole numbers"),
        ([{"name": "a", "kind": "scale", "choices": [True, False]}], "whole numbers"),
        ([{"name": "a", "kind": "boolean", "choices": ["x"]}], "takes no choices"),
        ([{"name": "a", "kind": "text", "description": "x\x00"}], "control characters"),
        ("not a list", "at least one item"),
        ([["name", "kind"]], "must be an object"),
    ],
)
def test_bad_items_are_refused_with_the_reason(items, says):
    with pytest.raises(ValidationError) as exc:
        rubrics.rubric_from_items(items, name="r", created_by=None)
    assert says in " ".join(exc.value.messages)
    assert not Rubric.objects.exists()


def test_scores_are_cleaned_per_kind_and_form_text_is_understood():
    rubric = rubrics.rubric_from_items(FULL, name="r", created_by=None)
    clean = rubrics.validate_scores(
        rubric,
        {"verdict": "positive", "accuracy": "4", "topic": "bug", "polite": "false", "comment": " fine "},
    )
    assert clean == {"verdict": "positive", "accuracy": 4, "topic": "bug", "polite": False, "comment": "fine"}
    # optional items may be left out (or empty)
    assert rubrics.validate_scores(
        rubric, {"verdict": "negative", "accuracy": 1, "topic": "other", "comment": ""}
    ) == {
        "verdict": "negative",
        "accuracy": 1,
        "topic": "other",
    }


def test_bad_scores_name_each_item_and_why():
    rubric = rubrics.rubric_from_items(FULL, name="r", created_by=None)
    with pytest.raises(ValidationError) as exc:
        rubrics.validate_scores(
            rubric, {"verdict": "up", "accuracy": 6, "polite": "maybe", "comment": "x" * 5001, "speed": 3}
        )
    errors = exc.value.message_dict
    assert errors["verdict"] == ["Pick positive or negative."]
    assert errors["accuracy"] == ["Pick one of: 1, 2, 3, 4, 5."]
    assert errors["topic"] == ["Required."]
    assert "true or false" in errors["polite"][0]
    assert "at most 5000" in errors["comment"][0]
    assert "no item of that name" in errors["speed"][0]
    with pytest.raises(ValidationError):
        rubrics.validate_scores(rubric, ["positive"])


def test_pairwise_scores_are_a_b_or_tie_except_text():
    rubric = rubrics.rubric_from_items(FULL, name="r", created_by=None)
    scores = {"verdict": "a", "accuracy": "tie", "topic": "b", "polite": "a", "comment": "A is shorter"}
    assert rubrics.validate_scores(rubric, scores, pairwise=True) == scores
    with pytest.raises(ValidationError) as exc:
        rubrics.validate_scores(rubric, {**scores, "verdict": "positive"}, pairwise=True)
    assert exc.value.message_dict == {"verdict": ["Pick a, b or tie."]}


def test_an_unused_rubric_is_edited_in_place_a_used_one_gets_a_new_version():
    manager = UserFactory(role="manager")
    rubric = rubrics.rubric_from_items([{"name": "verdict", "kind": "thumbs"}], name="r", created_by=manager)
    same = rubrics.new_version(rubric, [{"name": "ok", "kind": "boolean"}], manager)
    assert same.pk == rubric.pk and [i.name for i in same.items.all()] == ["ok"]

    queue = make_queue([StepFactory()], items=[{"name": "verdict", "kind": "thumbs"}])
    used = queue.rubric
    used.refresh_from_db()
    assert used.locked_at is not None
    v2 = rubrics.new_version(
        used, [{"name": "verdict", "kind": "thumbs"}, {"name": "why", "kind": "text"}], manager
    )
    v3 = rubrics.new_version(used, [{"name": "verdict", "kind": "thumbs"}], manager)
    assert (v2.version, v3.version) == (2, 3) and v2.lineage == v3.lineage == used
    assert [i.name for i in used.items.all()] == ["verdict"]  # the queue's questions are unchanged
    assert [i.name for i in v2.items.all()] == ["verdict", "why"]


def test_hostile_text_is_kept_as_text():
    hostile = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>"
    rubric = rubrics.rubric_from_items(
        [{"name": "topic", "kind": "categorical", "choices": [hostile, "ok"], "description": hostile}],
        name=hostile,
        created_by=None,
    )
    item = rubric.items.get()
    assert rubric.name == hostile and item.choices[0] == hostile and item.description == hostile
    assert rubrics.validate_scores(rubric, {"topic": hostile}) == {"topic": hostile}
