"""The step list's filters: parsed from the query string, applied as StepQuerySet methods.

Every filter is a GET parameter, so a filtered view is a link. These URLs get pasted around
and edited by hand: an invalid value is reported as the form's error and left out (no chip,
no filter), never a 500; a bulk action refuses a query with errors instead of leaving it out.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property

from . import known_values
from .facets import facets, known_tags  # noqa: F401  (the list and step pages read them from here)
from .fields import DateTimeField, in_range, whole_number
from .ids import LettaIdField, is_letta_id
from .models import Step
from .querysets import SORTS, StepQuerySet
from .search import is_short, matching

FEEDBACK_CHOICES = [
    ("", "Any feedback"),
    ("positive", "Positive"),
    ("negative", "Negative"),
    ("none", "None"),
]
STATUS_CHOICES = [("", "Any status"), ("success", "Success"), ("failed", "Failed"), ("pending", "Pending")]
STATUS_CHOICES += [("cancelled", "Cancelled")]
ERROR_CHOICES = [("", "Errors or not"), ("yes", "Has error"), ("no", "No error")]
PERIOD_CHOICES = [("", "Any time"), ("1h", "Last hour"), ("24h", "Last 24 h"), ("7d", "Last 7 days")]
PERIOD_CHOICES += [("30d", "Last 30 days")]
PERIODS = {
    "1h": timedelta(hours=1),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
SORT_CHOICES = [
    ("-time", "Newest first"),
    ("time", "Oldest first"),
    ("-tokens", "Most tokens"),
    ("tokens", "Fewest tokens"),
    ("-duration", "Slowest"),
    ("duration", "Fastest"),
]
# Upper bounds keep every number inside a bigint column (duration is stored in ns).
MAX_TOKENS = 2**40
MAX_DURATION_MS = 10**9
# The chip text for a filter: its label, and how a range reads.
CHIP_LABELS = {
    "q": "Search",
    "agent": "Agent",
    "run": "Run",
    "model": "Model",
    "provider": "Provider",
    "status": "Status",
    "stop_reason": "Stop reason",
    "error_type": "Error type",
    "feedback": "Feedback",
    "tag": "Tag",
    "tool": "Tool",
    "prompt": "Prompt tokens",
    "completion": "Completion tokens",
    "tokens": "Tokens",
    "duration": "Duration",
}
RANGE_CHIPS = {
    f"{prefix}_{bound}": (CHIP_LABELS[prefix], sign, "")
    for prefix in ("prompt", "completion", "tokens")
    for bound, sign in (("min", "≥"), ("max", "≤"))
}
RANGE_CHIPS |= {"duration_min_ms": ("Duration", "≥", " ms"), "duration_max_ms": ("Duration", "≤", " ms")}
FIELD_LABELS = {
    "since": "From",
    "until": "To",
    "period": "Time",
    "has_error": "Errors",
    "sort": "Sort",
    "cursor": "Page",
    "newest_time": "Newest time",
    "newest_id": "Newest step",
}
FLAG_CHIPS = {"hidden": "Including archived", "unreviewed": "Unreviewed"}


class StepFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    agent = forms.CharField(required=False, max_length=255)  # an id or a name
    run = forms.CharField(required=False, max_length=64)
    model = forms.CharField(required=False, max_length=255)
    provider = forms.CharField(required=False, max_length=64)
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES)
    stop_reason = forms.CharField(required=False, max_length=64)
    error_type = forms.CharField(required=False, max_length=255)
    has_error = forms.ChoiceField(required=False, choices=ERROR_CHOICES)
    feedback = forms.ChoiceField(required=False, choices=FEEDBACK_CHOICES)
    tag = forms.CharField(required=False, max_length=255)
    tool = forms.CharField(required=False, max_length=255)
    prompt_min = forms.IntegerField(required=False, min_value=0, max_value=MAX_TOKENS)
    prompt_max = forms.IntegerField(required=False, min_value=0, max_value=MAX_TOKENS)
    completion_min = forms.IntegerField(required=False, min_value=0, max_value=MAX_TOKENS)
    completion_max = forms.IntegerField(required=False, min_value=0, max_value=MAX_TOKENS)
    tokens_min = forms.IntegerField(required=False, min_value=0, max_value=MAX_TOKENS)
    tokens_max = forms.IntegerField(required=False, min_value=0, max_value=MAX_TOKENS)
    duration_min_ms = forms.IntegerField(required=False, min_value=0, max_value=MAX_DURATION_MS)
    duration_max_ms = forms.IntegerField(required=False, min_value=0, max_value=MAX_DURATION_MS)
    period = forms.ChoiceField(required=False, choices=PERIOD_CHOICES)
    since = DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    until = DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    hidden = forms.BooleanField(required=False, label="Include archived")
    unreviewed = forms.BooleanField(required=False, label="Unreviewed only")
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES)
    live = forms.BooleanField(required=False)
    # the page position: "<sort value>|<step id>", base64; cleaned to (value, step id)
    cursor = forms.CharField(required=False, max_length=200)

    NOT_FILTERS = {"sort", "live", "cursor"}

    # Exact-match columns: form field -> Step field; each has a (column, -step_time, -id) index.
    # (agent and model are typed: resolved to stored values first, see `resolved`)
    EXACT = {
        "run": "run_id",
        "provider": "provider_name",
        "status": "status",
        "stop_reason": "stop_reason",
        "error_type": "error_type",
    }
    RANGES = {
        "prompt": "prompt_tokens",
        "completion": "completion_tokens",
        "tokens": "total_tokens",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.ChoiceField):
                options = ", ".join(str(label) for value, label in field.choices if value)
                field.error_messages["invalid_choice"] = f"not one of {options}."

    def clean_cursor(self):
        cursor = self.cleaned_data["cursor"]
        if not cursor:
            return None
        key = decode_cursor(self.sort_order(), cursor)
        if key is None:
            raise forms.ValidationError("This page link is damaged; showing the first page.")
        return key

    def filter(self, qs: StepQuerySet, *, search: bool = True) -> StepQuerySet:
        """`qs` with every valid filter; without the text search when `search` is False."""
        # A bad value (a hand-edited URL) drops that filter only: cleaned_data omits it.
        self.is_valid()
        data = self.cleaned_data
        for name, column in self.EXACT.items():
            if data.get(name):
                qs = qs.filter(**{column: data[name]})
        for name, column in (("agent", "agent_id"), ("model", "model")):
            if name in self.resolved:
                qs = qs.filter(**{f"{column}__in": self.resolved[name]})
        if data.get("has_error") == "yes":
            qs = qs.exclude(error_type="")
        elif data.get("has_error") == "no":
            qs = qs.filter(error_type="")
        if feedback := data.get("feedback"):
            qs = qs.filter(feedback="" if feedback == "none" else feedback)
        if data.get("tag"):
            qs = qs.with_tag(data["tag"])
        if data.get("tool"):
            qs = qs.with_tool(data["tool"])
        for prefix, column in self.RANGES.items():
            if data.get(f"{prefix}_min") is not None:
                qs = qs.filter(**{f"{column}__gte": data[f"{prefix}_min"]})
            if data.get(f"{prefix}_max") is not None:
                qs = qs.filter(**{f"{column}__lte": data[f"{prefix}_max"]})
        if data.get("duration_min_ms") is not None:
            qs = qs.filter(duration_ns__gte=data["duration_min_ms"] * 1_000_000)
        if data.get("duration_max_ms") is not None:
            qs = qs.filter(duration_ns__lte=data["duration_max_ms"] * 1_000_000)
        if period := data.get("period"):
            qs = qs.filter(step_time__gte=timezone.now() - PERIODS[period])
        if data.get("since"):
            qs = qs.filter(step_time__gte=data["since"])
        if data.get("until"):
            qs = qs.filter(step_time__lte=data["until"])
        if not data.get("hidden"):
            qs = qs.visible()
        if data.get("unreviewed"):
            qs = qs.unreviewed()
        if search and self.search_term:
            qs = matching(qs, self.search_term)
        return qs

    @property
    def search_term(self) -> str:
        self.is_valid()
        return self.cleaned_data.get("q", "").strip()

    @cached_property
    def resolved(self) -> dict[str, list[str]]:
        """The typed agent and model as the stored values they mean (an agent name in any
        case -> its agents' ids, a model in any case -> the stored model names): one small
        indexed query each, once per form (steps/known_values.py)."""
        self.is_valid()
        found = {}
        if agent := self.cleaned_data.get("agent"):
            found["agent"] = known_values.agent_ids(agent)
        if model := self.cleaned_data.get("model"):
            found["model"] = known_values.models_named(model)
        return found

    @property
    def unknown(self) -> list[tuple[str, str, str, list[str]]]:
        """(field, label, value as typed, suggestions) for an agent or model filter that no
        step carries, for "did you mean"; read only when the list came back empty."""
        found = []
        for name, dimension, suggest in (
            ("agent", "agent", known_values.suggest_agents),
            ("model", "model", known_values.suggest_models),
        ):
            values = self.resolved.get(name)
            if not values or known_values.is_known(dimension, values):
                continue
            typed = self.cleaned_data[name]
            found.append((name, CHIP_LABELS[name].lower(), typed, suggest(typed)))
        return found

    def sort_order(self) -> str:
        value = self.data.get("sort", "")
        return value if value in SORTS else "-time"

    @property
    def cursor_key(self) -> tuple[object, str] | None:
        self.is_valid()
        return self.cleaned_data.get("cursor")

    @property
    def active(self) -> list[tuple[str, str, str]]:
        """(name, label, value) of each valid filter in use, for the chips above the table;
        value may be "" when the label says it all ("Has error")."""
        self.is_valid()
        chips = []
        for name, value in self.cleaned_data.items():
            if name in self.NOT_FILTERS or value is None or value is False or value == "":
                continue
            chips.append((name, *self._chip(name, value)))
        return chips

    @property
    def uses_more_filters(self) -> bool:
        """Whether a filter under "More filters" is set (valid or not), so that section opens."""
        shown_above = {"q", "agent", "tool", "status", "has_error", "period"} | self.NOT_FILTERS
        return any(v for k, v in self.data.items() if k in self.fields and k not in shown_above)

    def _chip(self, name: str, value) -> tuple[str, str]:
        if name in RANGE_CHIPS:
            label, sign, unit = RANGE_CHIPS[name]
            return f"{label} {sign} {value}{unit}", ""
        if name in FLAG_CHIPS:
            return FLAG_CHIPS[name], ""
        if name in ("since", "until"):
            return ("From" if name == "since" else "Until"), timezone.localtime(value).strftime(
                "%Y-%m-%d %H:%M"
            )
        if name == "feedback" and value == "none":
            return "No feedback", ""
        field = self.fields[name]
        if isinstance(field, forms.ChoiceField):
            choice = str(dict(field.choices)[value])
            # "Has error", "Last 24 h" read on their own; "Status: Failed" needs its label
            return (choice, "") if name in ("has_error", "period") else (CHIP_LABELS[name], choice)
        return CHIP_LABELS[name], str(value)

    @property
    def notes(self) -> list[str]:
        """What the list does not do in full for this query, said above the results."""
        self.is_valid()
        term = self.cleaned_data.get("q", "").strip()
        if term and is_short(term) and connection.vendor == "postgresql":
            window = settings.SEARCH_SHORT_TERM_WINDOW
            return [f"Search terms under 3 characters are looked for in the newest {window:,} steps only."]
        return []

    @property
    def problems(self) -> list[tuple[str, str, str]]:
        """(label, value as typed, what is wrong) for each invalid parameter."""
        self.is_valid()
        return [
            (_field_label(name), self.data.get(name, ""), errors[0]) for name, errors in self.errors.items()
        ]


def _field_label(name: str) -> str:
    if name in RANGE_CHIPS:
        label, sign, _ = RANGE_CHIPS[name]
        return f"{label} {'min' if sign == '≥' else 'max'}"
    return CHIP_LABELS.get(name) or FIELD_LABELS.get(name) or name


def list_query(params) -> str:
    """The list's filter and sort as a query string, without paging and without empty values:
    what "this list" means to the step page (next unreviewed) and to a bulk action on all
    matching steps."""
    params = params.copy()
    for key in ("cursor", "live", "from", "newest_time", "newest_id"):
        params.pop(key, None)
    return without_empty(params).urlencode()


def without_empty(params):
    """A copy of a QueryDict with only the parameters that carry a value."""
    kept = params.copy()
    for key, values in params.lists():
        kept.setlist(key, [v for v in values if v != ""])
        if not kept.getlist(key):
            del kept[key]
    return kept


def encode_cursor(sort: str, step: Step) -> str:
    column, _ = SORTS[sort]
    value = getattr(step, column)
    raw = value.isoformat() if isinstance(value, datetime) else str(value)
    return base64.urlsafe_b64encode(f"{raw}|{step.pk}".encode()).decode().rstrip("=")


def decode_cursor(sort: str, cursor: str) -> tuple[object, str] | None:
    """(value, step id) of a page cursor, or None for one that was tampered with or truncated:
    an impossible date, a number beyond a bigint or an id that is no step id never reach a query."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value, step_id = raw.rsplit("|", 1)
    except ValueError:  # also bad base64 (binascii.Error) and bad UTF-8 (UnicodeDecodeError)
        return None
    if not is_letta_id("step", step_id):
        return None
    kind = "datetime" if SORTS[sort][0] == "step_time" else "integer"
    position = cursor_position(kind, value)
    return None if position is None else (position, step_id)


MAX_TEXT_POSITION = 1000  # a text position is a name (agents by name): none is longer


def cursor_position(kind: str, raw: str) -> object | None:
    """The value a page cursor holds, checked as a query parameter of that column's kind
    ("datetime", "integer" or "text"); None for one no cursor of ours would hold. Shared by every
    cursor-paginated list (the step list here, the API's others in api/pagination.py)."""
    if kind == "datetime":
        try:
            parsed = parse_datetime(raw)  # ValueError for Feb 30, hour 25, year 0, +25:00
        except ValueError:
            return None
        return in_range(parsed) if parsed and parsed.tzinfo else None
    if kind == "integer":
        return whole_number(raw)  # at most 18 digits: inside a bigint
    return raw if len(raw) <= MAX_TEXT_POSITION and "\x00" not in raw else None


class LiveForm(StepFilterForm):
    """The live poll: the list's filters and the newest row the page already shows."""

    newest_time = DateTimeField(required=False)
    newest_id = LettaIdField("step", required=False)

    NOT_FILTERS = StepFilterForm.NOT_FILTERS | {"newest_time", "newest_id"}
