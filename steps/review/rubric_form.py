"""The rubric editor's form: the POSTed fields as rubric items, and back.

The editor works without JavaScript: adding, removing and moving an item are submit buttons that
post the whole form back (nothing is saved until "Save"), so nothing typed is lost on a round trip.
Fields, for the i-th item (0-based, in the order shown)::

    items-<i>-name, items-<i>-kind, items-<i>-description, items-<i>-required (checkbox),
    items-<i>-choices   (labels: one a line; scale: one point a line, "3" or "3 = ok")

Checking an item is ``rubrics.clean_item``'s (one rule for the API, the admin and this page); this
module only turns text into its dicts and says which item a problem belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.http import QueryDict

from . import rubrics
from .models import Rubric, RubricItem

Kind = RubricItem.Kind
MAX_FIELD = 20_000  # a textarea's characters we read at all; rubrics.clean_item has the real limits
# "3", "3 = ok", "3: ok", "3 - ok", "3 ok"
SCALE_LINE = re.compile(r"\s*(-?\d{1,4})(?:(?:\s*[=:\-–—·]\s*|\s+)(.*?))?\s*")
# the kinds as the editor names them (no emoji: not every machine has a font for them)
KIND_LABELS = [
    (Kind.THUMBS, "Thumbs up / down (Letta's feedback)"),
    (Kind.CATEGORICAL, "Labels"),
    (Kind.SCALE, "Scale"),
    (Kind.BOOLEAN, "Yes / no"),
    (Kind.TEXT, "Free text"),
]
KIND_HELP = {
    Kind.THUMBS: "Thumbs up or down. The verdict of this item becomes the step's feedback in Letta (one per rubric).",
    Kind.CATEGORICAL: "One label per line. Reviewers pick one.",
    Kind.SCALE: "One point per line, lowest first, with an optional word: “1 = wrong”.",
    Kind.BOOLEAN: "Yes or no.",
    Kind.TEXT: "Free text, not compared between reviewers.",
}


@dataclass
class ItemRow:
    """One item as the editor shows it (what was typed, kept as typed) and its problems."""

    name: str = ""
    kind: str = Kind.THUMBS
    description: str = ""
    required: bool = True
    choices: str = ""  # the textarea's text
    errors: list[str] = field(default_factory=list)


@dataclass
class Editor:
    name: str = ""
    description: str = ""
    rows: list[ItemRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # the rubric's, not one item's
    items: list[dict] = field(default_factory=list)  # once checked: what rubrics saves

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(row.errors for row in self.rows)


def editor_for(rubric: Rubric | None) -> Editor:
    """The editor filled from a saved rubric (or a new rubric's: one thumbs item to start from)."""
    if rubric is None:
        return Editor(rows=[ItemRow(name="verdict", kind=Kind.THUMBS)])
    return Editor(
        name=rubric.name,
        description=rubric.description,
        rows=[
            ItemRow(
                name=item.name,
                kind=item.kind,
                description=item.description,
                required=item.required,
                choices=choices_text(item),
            )
            for item in rubric.items.order_by("position")
        ],
    )


def choices_text(item: RubricItem) -> str:
    if item.kind == Kind.CATEGORICAL:
        return "\n".join(str(c) for c in item.choices)
    if item.kind == Kind.SCALE:
        # an admin may have left more words than points: the extra ones are dropped
        words = list(item.choice_labels) + [""] * (len(item.choices) - len(item.choice_labels))
        return "\n".join(
            f"{point} = {word}" if word else str(point)
            for point, word in zip(item.choices, words, strict=False)
        )
    return ""


def editor_from_post(data: QueryDict) -> Editor:
    """What was posted, as typed. Raises ValidationError only for a post no editor page sends."""
    try:
        count = int(data.get("item-count", ""))
    except ValueError:
        raise ValidationError("The form is incomplete: reload the page and try again.") from None
    if not 0 <= count <= rubrics.MAX_ITEMS + 1:
        raise ValidationError(f"A rubric has at most {rubrics.MAX_ITEMS} items.")

    def text(key: str) -> str:
        return data.get(key, "")[:MAX_FIELD]

    rows = [
        ItemRow(
            name=text(f"items-{i}-name").strip(),
            kind=text(f"items-{i}-kind"),
            description=text(f"items-{i}-description"),
            required=bool(data.get(f"items-{i}-required")),
            choices=text(f"items-{i}-choices"),
        )
        for i in range(count)
    ]
    return Editor(name=text("name").strip(), description=text("description"), rows=rows)


def apply_action(editor: Editor, action: str) -> bool:
    """Add, remove or move an item (the editor's own buttons: "add", "remove:2", "up:3",
    "down:0"); False when `action` is none of these (then the form is being saved)."""
    verb, _, index = action.partition(":")
    if verb == "add":
        if len(editor.rows) >= rubrics.MAX_ITEMS:
            editor.errors.append(f"A rubric has at most {rubrics.MAX_ITEMS} items.")
        else:
            editor.rows.append(ItemRow(name="", kind=Kind.SCALE, choices="1\n2\n3\n4\n5"))
        return True
    if verb not in ("remove", "up", "down") or not index.isdigit() or int(index) >= len(editor.rows):
        return False
    i = int(index)
    if verb == "remove":
        del editor.rows[i]
    elif verb == "up" and i > 0:
        editor.rows[i - 1], editor.rows[i] = editor.rows[i], editor.rows[i - 1]
    elif verb == "down" and i + 1 < len(editor.rows):
        editor.rows[i + 1], editor.rows[i] = editor.rows[i], editor.rows[i + 1]
    return True


def cleaned_items(editor: Editor) -> list[dict] | None:
    """The rubric's items checked by rubrics' own rules, or None with the problems written on the
    editor (each on its item where it belongs to one)."""
    if not editor.name:
        editor.errors.append("Give the rubric a name.")
    if not editor.rows:
        editor.errors.append("A rubric needs at least one item.")
    items = []
    for position, row in enumerate(editor.rows):
        try:
            raw = _raw_item(row)
            items.append(rubrics.clean_item(raw, position))
        except ValidationError as error:
            row.errors.extend(error.messages)
    if editor.has_errors:
        return None
    try:
        return rubrics.clean_items(items)  # across items: unique names, one thumbs item
    except ValidationError as error:
        editor.errors.extend(error.messages)
        return None


def _raw_item(row: ItemRow) -> dict:
    if row.kind not in Kind.values:
        raise ValidationError("Pick a kind.")
    raw: dict = {
        "name": row.name,
        "kind": row.kind,
        "description": row.description.strip(),
        "required": row.required,
    }
    lines = [line.strip() for line in row.choices.splitlines() if line.strip()]
    if row.kind == Kind.CATEGORICAL:
        raw["choices"] = lines
    elif row.kind == Kind.SCALE:
        points: dict[int, str] = {}
        for line in lines:
            match = SCALE_LINE.fullmatch(line)
            if not match:
                raise ValidationError(
                    f"“{line[:40]}” is not a point: write a whole number, e.g. “3” or “3 = ok”."
                )
            point = int(match[1])
            if point in points:
                raise ValidationError(f"The point {point} is there twice.")
            points[point] = match[2] or ""
        ordered = sorted(points)
        words = [points[p] for p in ordered]
        while words and not words[-1]:
            words.pop()  # no words at the end: the labels list may be shorter than the points
        raw["choices"], raw["choice_labels"] = ordered, words
    return raw
