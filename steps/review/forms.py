"""The review pages' forms: a queue's settings, and a rubric answered in the browser.

A rubric form is not a Django Form: its fields come from the rubric's items, and the values go
to steps.review.rubrics.validate_scores (through submit_review), which is the one place that
decides what a valid score is. Here a posted field only becomes the value its kind stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import QueryDict

from ..access.roles import can_review, with_role
from ..filters import StepFilterForm
from ..ids import is_letta_id
from .models import Queue, Rubric, RubricItem

QUICK_THUMBS = "thumbs"  # the rubric choice that makes a one-item thumbs rubric for the queue
MAX_QUERY_CHARS = 2000  # Queue.query's length
MAX_SELECTED = 10_000
PAIR_SOURCES = (
    ("selection", "The two selected steps"),
    ("runs", "Two runs, step by step"),
    ("filters", "This filter against another, matched on the user's message"),
)
# what keys 1-9 pick for the kinds whose values are fixed
THUMBS = (("positive", "Good"), ("negative", "Bad"))  # drawn with the thumbs icons
BOOLEAN = (("true", "Yes"), ("false", "No"))
PAIRWISE = (("a", "A"), ("b", "B"), ("tie", "Tie"))


def error_text(error: ValidationError) -> str:
    """A ValidationError as one line for the toast, naming the item each message is about."""
    if hasattr(error, "error_dict"):
        return " ".join(f"{name}: {' '.join(msgs)}" for name, msgs in error.message_dict.items())
    return " ".join(error.messages)


def latest_rubrics():
    """The newest version of each rubric that is not archived, by name (a handful of rows)."""
    seen, latest = set(), []
    for rubric in Rubric.objects.filter(archived=False).order_by("name", "-version"):
        lineage = rubric.lineage_id or rubric.pk
        if lineage not in seen:
            seen.add(lineage)
            latest.append(rubric)
    return latest


def reviewer_users():
    """People who may be assigned to a queue: active reviewers and managers."""
    users = with_role(get_user_model().objects.filter(is_active=True)).order_by("username")[:500]
    return [u for u in users if can_review(u)]


def clean_list_query(query: str) -> str:
    """The step list's query string a queue is made from; a bad filter value is refused, since
    leaving it out would queue far more steps than the list that was looked at."""
    query = query.strip().lstrip("?")
    if len(query) > MAX_QUERY_CHARS:
        raise forms.ValidationError(
            f"This filter is too long to keep with a queue ({MAX_QUERY_CHARS} characters)."
        )
    form = StepFilterForm(QueryDict(query))
    if problems := form.problems:
        label, value, problem = problems[0]
        raise forms.ValidationError(f"Fix the filter first: {label} “{value[:40]}” is not valid ({problem})")
    return query


class QueueSettingsForm(forms.Form):
    """What a manager may change on a queue once it exists."""

    name = forms.CharField(max_length=200)
    instructions = forms.CharField(
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "What to look for, how to score it…"}),
        help_text="Shown to reviewers above the rubric; plain text (line breaks kept).",
    )
    reviewers_per_item = forms.IntegerField(
        min_value=1,
        max_value=20,
        initial=1,
        label="Reviewers per step",
        help_text="A step is done once this many people have reviewed it.",
    )
    access = forms.ChoiceField(
        choices=Queue.Access.choices, initial=Queue.Access.ANY, widget=forms.RadioSelect
    )
    assigned = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    reservation_minutes = forms.IntegerField(
        min_value=1,
        max_value=1440,
        initial=30,
        label="Reservation (minutes)",
        help_text="How long a step shown to one reviewer is hidden from the others.",
    )
    tag_items = forms.CharField(
        required=False,
        max_length=500,
        label="Labels sent to Letta as tags",
        help_text="Names of the rubric's label items, comma separated: their verdict becomes a tag item:value.",
    )
    write_feedback = forms.BooleanField(
        required=False, initial=True, label="Send the thumbs verdict to Letta as the step's feedback"
    )

    def __init__(self, *args, rubric: Rubric | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.rubric = rubric
        self.fields["assigned"].choices = [(str(u.pk), u.get_username()) for u in reviewer_users()]

    def clean_assigned(self):
        return [int(pk) for pk in self.cleaned_data["assigned"]]

    def label_items(self, rubric: Rubric | None) -> list[str]:
        if rubric is None:
            return []
        return [i.name for i in rubric.items.all() if i.kind == RubricItem.Kind.CATEGORICAL]

    def clean(self):
        data = super().clean()
        if data.get("access") == Queue.Access.ASSIGNED and not data.get("assigned"):
            self.add_error("assigned", "Pick at least one reviewer, or let any reviewer work the queue.")
        names = [n.strip() for n in (data.get("tag_items") or "").split(",") if n.strip()]
        rubric = self.chosen_rubric()
        allowed = self.label_items(rubric)
        unknown = [n for n in names if n not in allowed]
        if unknown:
            hint = f" (its label items: {', '.join(allowed)})" if allowed else " (it has no label items)"
            self.add_error("tag_items", f"Not a label item of the rubric: {', '.join(unknown)}{hint}.")
        data["tag_items"] = list(dict.fromkeys(names))
        return data

    def chosen_rubric(self) -> Rubric | None:
        return self.rubric


class QueueCreateForm(QueueSettingsForm):
    """A new queue from the step list: its filter (`query`) or the selected rows (`step_ids`)."""

    rubric = forms.ChoiceField(label="Rubric")
    kind = forms.ChoiceField(choices=Queue.Kind.choices, initial=Queue.Kind.SINGLE, widget=forms.RadioSelect)
    mode = forms.ChoiceField(
        choices=Queue.Mode.choices, initial=Queue.Mode.SNAPSHOT, widget=forms.RadioSelect
    )
    query = forms.CharField(required=False, max_length=MAX_QUERY_CHARS * 2, widget=forms.HiddenInput)
    step_ids = forms.MultipleChoiceField(required=False, widget=forms.MultipleHiddenInput)
    pair_source = forms.ChoiceField(required=False, choices=PAIR_SOURCES, widget=forms.RadioSelect)
    run_a = forms.CharField(required=False, max_length=64, label="Run A")
    run_b = forms.CharField(required=False, max_length=64, label="Run B")
    query_b = forms.CharField(
        required=False,
        max_length=MAX_QUERY_CHARS * 2,
        label="Other filter",
        help_text="Paste a link to the step list (or its query string) whose steps answer the same user messages.",
    )

    field_order = ["name", "rubric", "kind", "mode", "reviewers_per_item", "access", "assigned"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rubrics = {str(r.pk): r for r in latest_rubrics()}
        self.fields["rubric"].choices = [(QUICK_THUMBS, "Quick: good / bad only (thumbs)")] + [
            (pk, f"{r} · {r.items.count()} item{'s' if r.items.count() != 1 else ''}")
            for pk, r in self.rubrics.items()
        ]
        self.fields["rubric"].initial = QUICK_THUMBS
        # any step id the client sends is a choice; the view keeps only steps that exist
        self.fields["step_ids"].valid_value = lambda value: is_letta_id("step", value)

    def clean_query(self):
        return clean_list_query(self.cleaned_data["query"])

    def clean_query_b(self):
        raw = self.cleaned_data["query_b"]
        return clean_list_query(raw.split("?", 1)[1] if "?" in raw else raw) if raw.strip() else ""

    def clean_step_ids(self):
        ids = list(dict.fromkeys(self.cleaned_data["step_ids"]))
        if len(ids) > MAX_SELECTED:
            raise forms.ValidationError(f"At most {MAX_SELECTED:,} selected steps make one queue.")
        return ids

    def clean_run_a(self):
        return self._run(self.cleaned_data["run_a"])

    def clean_run_b(self):
        return self._run(self.cleaned_data["run_b"])

    def _run(self, raw: str) -> str:
        # a pasted link to a run page works as well as its id
        raw = raw.strip().split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        if raw and not is_letta_id("run", raw):
            raise forms.ValidationError("Not a run id (run-…) or a link to a run page.")
        return raw

    def chosen_rubric(self) -> Rubric | None:
        return self.rubrics.get(self.cleaned_data.get("rubric", ""))

    def clean(self):
        data = super().clean()
        pairwise = data.get("kind") == Queue.Kind.PAIRWISE
        ids = data.get("step_ids") or []
        if data.get("mode") == Queue.Mode.LIVE and (ids or pairwise):
            self.add_error("mode", "Only a single-step queue made from a filter can be live.")
        if pairwise:
            source = data.get("pair_source")
            if source == "selection" and len(ids) != 2:
                self.add_error("pair_source", "Select exactly two steps on the list for one pair.")
            elif source == "runs" and not (data.get("run_a") and data.get("run_b")):
                self.add_error("run_b", "Give both runs.")
            elif source == "filters" and not data.get("query_b"):
                self.add_error("query_b", "Paste the other filter.")
            elif not source:
                self.add_error("pair_source", "Say where the pairs come from.")
        return data


@dataclass
class Choice:
    value: str
    label: str
    key: int  # the number key that picks it (1-9), 0 when beyond 9


@dataclass
class ItemField:
    """One rubric item as the review form shows it."""

    item: RubricItem
    name: str  # the posted field's name
    kind: str
    choices: list[Choice] = field(default_factory=list)
    value: str = ""  # the value shown as chosen (an undo, or a form sent back)


def _choices(item: RubricItem, pairwise: bool) -> list[tuple[str, str]]:
    if pairwise and item.kind != RubricItem.Kind.TEXT:
        return list(PAIRWISE)
    if item.kind == RubricItem.Kind.THUMBS:
        return list(THUMBS)
    if item.kind == RubricItem.Kind.BOOLEAN:
        return list(BOOLEAN)
    if item.kind == RubricItem.Kind.SCALE:
        words = list(item.choice_labels or [])
        return [
            (str(point), f"{point} · {words[i]}" if i < len(words) and words[i] else str(point))
            for i, point in enumerate(item.choices or [])
        ]
    if item.kind == RubricItem.Kind.CATEGORICAL:
        return [(str(label), str(label)) for label in item.choices or []]
    return []


def field_name(item: RubricItem) -> str:
    # by id, not by name: a name is free text, and the form must not depend on its characters
    return f"item-{item.pk}"


def shown_value(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


def rubric_fields(items: list[RubricItem], *, pairwise: bool, values: dict | None = None) -> list[ItemField]:
    values = values or {}
    fields = []
    for item in items:
        choices = [
            Choice(value, label, i + 1 if i < 9 else 0)
            for i, (value, label) in enumerate(_choices(item, pairwise))
        ]
        kind = "pairwise" if pairwise and item.kind != RubricItem.Kind.TEXT else item.kind
        fields.append(ItemField(item, field_name(item), kind, choices, shown_value(values.get(item.name))))
    return fields


def scores_from_post(items: list[RubricItem], post: QueryDict) -> dict[str, str]:
    """The posted answers by item name, unanswered items left out. Values stay the form's text
    ("4", "true"): validate_scores reads form text and is the one judge of what a value may be."""
    scores = {}
    for item in items:
        raw = post.get(field_name(item), "")
        if item.kind != RubricItem.Kind.TEXT:
            raw = raw.strip()
        if raw != "":
            scores[item.name] = raw
    return scores
