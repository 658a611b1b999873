"""Rubrics: what reviewers score, checked once here for the API, the pages and the admin alike.

An item is a dict `{"name", "kind", "choices"?, "description"?, "required"?, "choice_labels"?}`;
scores are `{"<item name>": value}`. Every refusal is a ValidationError whose messages a reviewer
can act on (the API answers them as a 400 naming the item).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .models import Rubric, RubricItem

Kind = RubricItem.Kind
THUMBS_VALUES = ("positive", "negative")
PAIR_VALUES = ("a", "b", "tie")
MAX_ITEMS = 30
MAX_CHOICES = 50
MAX_SCALE_POINTS = 11
MAX_TEXT = 5000
MAX_LABEL = 100
MAX_DESCRIPTION = 2000
# An item's name is a key in scores, the API and a Letta tag "name:value": a word, no colon.
NAME = re.compile(r"[^\W][\w .-]{0,63}")
# Control characters (NUL above all: PostgreSQL's jsonb refuses it) are never a score's text.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TRUE_TEXTS, FALSE_TEXTS = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}


def clean_text(value, what: str, limit: int, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text.")
    value = value.strip()
    if not value and not allow_empty:
        raise ValidationError(f"{what} is empty.")
    if len(value) > limit:
        raise ValidationError(f"{what} has {len(value)} characters; at most {limit}.")
    if CONTROL.search(value):
        raise ValidationError(f"{what} contains control characters.")
    return value


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def clean_item(raw, position: int) -> dict:
    """One item, checked and normalised (choices de-duplicated, scale points sorted)."""
    if not isinstance(raw, dict):
        raise ValidationError(f"Item {position + 1} must be an object with a name and a kind.")
    name = clean_text(raw.get("name"), f"Item {position + 1}'s name", 64)
    if not NAME.fullmatch(name):
        raise ValidationError(
            f"Item name “{name}”: letters, digits, spaces, “_”, “-” and “.”, starting with a letter or digit."
        )
    kind = raw.get("kind")
    if kind not in Kind.values:
        raise ValidationError(f"Item “{name}”: kind must be one of {', '.join(Kind.values)}.")
    choices = raw.get("choices") or []
    labels = raw.get("choice_labels") or []
    if not isinstance(choices, list) or not isinstance(labels, list):
        raise ValidationError(f"Item “{name}”: choices and choice_labels are lists.")
    if kind == Kind.CATEGORICAL:
        choices = list(dict.fromkeys(clean_text(c, f"A label of “{name}”", MAX_LABEL) for c in choices))
        if not 2 <= len(choices) <= MAX_CHOICES:
            raise ValidationError(f"Item “{name}”: a categorical item needs 2 to {MAX_CHOICES} labels.")
        labels = []
    elif kind == Kind.SCALE:
        if not all(_is_int(c) and abs(c) <= 1000 for c in choices):
            raise ValidationError(
                f"Item “{name}”: a scale's choices are whole numbers, e.g. [1, 2, 3, 4, 5]."
            )
        choices = sorted(set(choices))
        if not 2 <= len(choices) <= MAX_SCALE_POINTS:
            raise ValidationError(f"Item “{name}”: a scale has 2 to {MAX_SCALE_POINTS} points.")
        labels = [clean_text(w, f"A word of “{name}”", MAX_LABEL, allow_empty=True) for w in labels]
        if len(labels) > len(choices):
            raise ValidationError(f"Item “{name}”: more words ({len(labels)}) than points ({len(choices)}).")
    elif choices and not (kind == Kind.THUMBS and sorted(choices) == sorted(THUMBS_VALUES)):
        raise ValidationError(f"Item “{name}”: a {kind} item takes no choices.")
    else:
        choices, labels = [], []
    required = raw.get("required", True)
    if not isinstance(required, bool):
        raise ValidationError(f"Item “{name}”: required is true or false.")
    description = clean_text(
        raw.get("description", ""), f"“{name}”'s description", MAX_DESCRIPTION, allow_empty=True
    )
    return {
        "name": name,
        "kind": kind,
        "choices": choices,
        "choice_labels": labels,
        "required": required,
        "description": description,
        "position": position,
    }


def clean_items(items) -> list[dict]:
    if not isinstance(items, list) or not items:
        raise ValidationError("A rubric needs at least one item.")
    if len(items) > MAX_ITEMS:
        raise ValidationError(f"A rubric has at most {MAX_ITEMS} items.")
    cleaned = [clean_item(raw, i) for i, raw in enumerate(items)]
    names = [item["name"] for item in cleaned]
    if len(set(names)) != len(names):
        raise ValidationError("Two items share a name; each needs its own.")
    if sum(item["kind"] == Kind.THUMBS for item in cleaned) > 1:
        raise ValidationError(
            "A rubric has at most one thumbs item (it becomes the step's feedback in Letta)."
        )
    return cleaned


def _create(items: list[dict], **fields) -> Rubric:
    rubric = Rubric.objects.create(**fields)
    RubricItem.objects.bulk_create(RubricItem(rubric=rubric, **item) for item in items)
    return rubric


@transaction.atomic
def rubric_from_items(items: list[dict], *, name: str, created_by, description: str = "") -> Rubric:
    """A new rubric (version 1) from API-style items; a ValidationError says what is wrong."""
    name = clean_text(name, "The rubric's name", 200)
    description = clean_text(description, "The rubric's description", MAX_DESCRIPTION, allow_empty=True)
    return _create(clean_items(items), name=name, description=description, created_by=created_by)


@transaction.atomic
def new_version(
    rubric: Rubric, items: list[dict], user, *, name: str | None = None, description=None
) -> Rubric:
    """Apply an edit. A rubric no queue has used is changed in place; a locked one is never
    changed: the edit becomes the next version of its lineage, returned (scores already given
    keep the questions they answered)."""
    cleaned = clean_items(items)
    name = clean_text(name if name is not None else rubric.name, "The rubric's name", 200)
    description = clean_text(
        description if description is not None else rubric.description,
        "The rubric's description",
        MAX_DESCRIPTION,
        allow_empty=True,
    )
    rubric = Rubric.objects.select_for_update().get(pk=rubric.pk)
    if rubric.locked_at is None:
        rubric.name, rubric.description = name, description
        rubric.save(update_fields=["name", "description"])
        rubric.items.all().delete()
        RubricItem.objects.bulk_create(RubricItem(rubric=rubric, **item) for item in cleaned)
        return rubric
    root = rubric.lineage or rubric
    # the root's row lock serialises two edits of one lineage: each gets its own number
    Rubric.objects.select_for_update().filter(pk=root.pk).exists()
    latest = Rubric.objects.filter(lineage=root).aggregate(v=Max("version"))["v"] or root.version
    return _create(
        cleaned,
        name=name,
        description=description,
        created_by=user,
        lineage=root,
        version=max(latest, root.version) + 1,
    )


def lock(rubric: Rubric) -> None:
    """A queue uses it from now on: edits make new versions."""
    Rubric.objects.filter(pk=rubric.pk, locked_at__isnull=True).update(locked_at=timezone.now())


def items_of(rubric: Rubric) -> list[RubricItem]:
    cache = getattr(rubric, "_prefetched_objects_cache", {})
    return list(cache["items"]) if "items" in cache else list(rubric.items.order_by("position"))


# --- scores -----------------------------------------------------------------------------------


def _score(item: RubricItem, value, *, pairwise: bool):
    """The clean value, or a ValidationError message. Form posts send text: "4", "true"."""
    if item.kind == Kind.TEXT:
        return clean_text(value, "The text", MAX_TEXT, allow_empty=True)
    if pairwise:
        if value not in PAIR_VALUES:
            raise ValidationError("Pick a, b or tie.")
        return value
    if item.kind == Kind.THUMBS:
        if value not in THUMBS_VALUES:
            raise ValidationError("Pick positive or negative.")
        return value
    if item.kind == Kind.CATEGORICAL:
        if not isinstance(value, str) or value not in item.choices:
            raise ValidationError(f"Pick one of: {', '.join(item.choices)}.")
        return value
    if item.kind == Kind.SCALE:
        if isinstance(value, str) and re.fullmatch(r"-?\d{1,4}", value.strip()):
            value = int(value)
        if not _is_int(value) or value not in item.choices:
            raise ValidationError(f"Pick one of: {', '.join(map(str, item.choices))}.")
        return value
    if item.kind == Kind.BOOLEAN:
        if isinstance(value, str) and value.strip().lower() in TRUE_TEXTS | FALSE_TEXTS:
            value = value.strip().lower() in TRUE_TEXTS
        if not isinstance(value, bool):
            raise ValidationError("Answer true or false.")
        return value
    raise ValidationError(f"Unknown kind {item.kind}.")  # a row edited in the database


def _absent(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_scores(rubric: Rubric, scores, *, pairwise: bool = False, partial: bool = False) -> dict:
    """The clean scores in the rubric's order, or a ValidationError whose message_dict names each
    item that is wrong. Required items must be answered unless `partial` (an adjudicator gives
    only what is undecided). An empty answer to an optional item is left out."""
    if not isinstance(scores, dict):
        raise ValidationError({"scores": ["Scores are an object: {item name: value}."]})
    items = items_of(rubric)
    known = {item.name for item in items}
    errors: dict[str, list[str]] = {}
    for name in scores:
        if name not in known:
            errors[str(name)[:64]] = [
                f"This rubric has no item of that name (it has {', '.join(sorted(known))})."
            ]
    clean = {}
    for item in items:
        value = scores.get(item.name)
        if _absent(value):
            if item.required and not partial:
                errors[item.name] = ["Required."]
            continue
        try:
            clean[item.name] = _score(item, value, pairwise=pairwise)
        except ValidationError as exc:
            errors[item.name] = exc.messages
    if errors:
        raise ValidationError(errors)
    return clean


def clean_note(note) -> str:
    if note is None:
        return ""
    try:
        return clean_text(note, "The note", MAX_TEXT, allow_empty=True)
    except ValidationError as exc:
        raise ValidationError({"note": exc.messages}) from None


def names_of_kind(rubric: Rubric, kinds: Iterable[str]) -> list[str]:
    kinds = set(kinds)
    return [item.name for item in items_of(rubric) if item.kind in kinds]
