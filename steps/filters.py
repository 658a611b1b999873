"""The step list's filters: parsed from the query string, applied as StepQuerySet methods.

Every filter is a GET parameter, so a filtered view is a link. Invalid values are dropped
(the form reports them), never a 500: these URLs get pasted around and edited by hand.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from django import forms
from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import Agent, Message, Step
from .querysets import SORTS, StepQuerySet

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
# Facets are a GROUP BY over the whole table: cached briefly, they cost nothing per page.
FACETS_CACHE_SECONDS = 60
FACETS_CACHE_KEY = "steps:list-facets:2"  # 2: agents are (id, count, name)
TAGS_CACHE_KEY = "steps:known-tags"


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
    prompt_min = forms.IntegerField(required=False, min_value=0)
    prompt_max = forms.IntegerField(required=False, min_value=0)
    completion_min = forms.IntegerField(required=False, min_value=0)
    completion_max = forms.IntegerField(required=False, min_value=0)
    tokens_min = forms.IntegerField(required=False, min_value=0)
    tokens_max = forms.IntegerField(required=False, min_value=0)
    duration_min_ms = forms.IntegerField(required=False, min_value=0)
    duration_max_ms = forms.IntegerField(required=False, min_value=0)
    period = forms.ChoiceField(required=False, choices=PERIOD_CHOICES)
    since = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    until = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    hidden = forms.BooleanField(required=False, label="Include archived")
    unreviewed = forms.BooleanField(required=False, label="Unreviewed only")
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES)
    live = forms.BooleanField(required=False)

    # Exact-match columns: form field -> Step field; each has a (column, -step_time, -id) index.
    # (agent is matched by id or name: StepQuerySet.for_agent)
    EXACT = {
        "run": "run_id",
        "model": "model",
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

    def filter(self, qs: StepQuerySet) -> StepQuerySet:
        # A bad value (a hand-edited URL) drops that filter only: cleaned_data omits it.
        self.is_valid()
        data = self.cleaned_data
        for name, column in self.EXACT.items():
            if data.get(name):
                qs = qs.filter(**{column: data[name]})
        if data.get("agent"):
            qs = qs.for_agent(data["agent"])
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
        if data.get("q", "").strip():
            qs = qs.search(data["q"].strip())
        return qs

    def sort_order(self) -> str:
        value = self.data.get("sort", "")
        return value if value in SORTS else "-time"

    @property
    def active(self) -> list[tuple[str, str]]:
        """(name, value) of the filters in use, for the chips above the table."""
        skip = {"sort", "live"}
        return [(k, str(v)) for k, v in self.data.items() if v and k in self.fields and k not in skip]


def list_query(params) -> str:
    """The list's filter and sort as a query string, without paging: what "this list" means to
    the step page (next unreviewed) and to a bulk action on all matching steps."""
    params = params.copy()
    for key in ("cursor", "live", "from", "newest_time", "newest_id"):
        params.pop(key, None)
    return params.urlencode()


def encode_cursor(sort: str, step: Step) -> str:
    column, _ = SORTS[sort]
    value = getattr(step, column)
    raw = value.isoformat() if isinstance(value, datetime) else str(value)
    return base64.urlsafe_b64encode(f"{raw}|{step.pk}".encode()).decode().rstrip("=")


def decode_cursor(sort: str, cursor: str) -> tuple[object, str] | None:
    """(value, step id) of a page cursor, or None for one that was tampered with or truncated."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value, step_id = raw.rsplit("|", 1)
    except (ValueError, UnicodeDecodeError):
        return None
    column, _ = SORTS[sort]
    if column == "step_time":
        parsed = parse_datetime(value)
        return (parsed, step_id) if parsed else None
    try:
        return int(value), step_id
    except ValueError:
        return None


def facets() -> dict[str, list[tuple[str, int]]]:
    """Filter choices from the data, with counts, most common first."""

    def compute():
        def group(column):
            rows = Step.objects.exclude(**{column: ""}).values_list(column).annotate(n=Count("pk"))
            return sorted(rows, key=lambda r: (-r[1], r[0]))

        tools = (
            Message.objects.exclude(tool_name="")
            .values_list("tool_name")
            .annotate(n=Count("step_id", distinct=True))
        )
        agents = group("agent_id")
        names = dict(Agent.objects.filter(id__in=[a for a, _ in agents]).values_list("id", "name"))
        return {
            # (id, steps, name): listed by name, the id where no name is known
            "agents": [(a, n, names.get(a, "")) for a, n in agents],
            "models": group("model"),
            "providers": group("provider_name"),
            "stop_reasons": group("stop_reason"),
            "error_types": group("error_type"),
            "tools": sorted(tools, key=lambda r: (-r[1], r[0])),
        }

    return cache.get_or_set(FACETS_CACHE_KEY, compute, FACETS_CACHE_SECONDS)


def known_tags(limit: int = 500) -> list[str]:
    """Tags in use, here or in Letta, for the tag input's autocomplete."""

    def compute():
        from .models import StepVote

        found: set[str] = set()
        for model in (Step, StepVote):
            # distinct lists, not rows: most steps share a handful of tag lists
            for tags in model.objects.exclude(tags=[]).values_list("tags", flat=True).distinct()[:2000]:
                found.update(str(t) for t in tags or [])
        return sorted(found)[:limit]

    return cache.get_or_set(TAGS_CACHE_KEY, compute, FACETS_CACHE_SECONDS)
