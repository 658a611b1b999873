"""The step list's query parameters, described for OpenAPI from the page's own filter form.

Generated from StepFilterForm's fields, so the documented parameters are always exactly the ones
the form (and therefore the list page) accepts: types, bounds and enums included.
"""

from __future__ import annotations

import re

from django import forms
from drf_spectacular.utils import OpenApiParameter

from ..filters import CHIP_LABELS, FIELD_LABELS, StepFilterForm
from .errors import InvalidParameters
from .pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

API_IGNORED = {"live"}  # the page's live-update switch means nothing to the API
DESCRIPTIONS = {
    "q": "Text search over message texts, tool arguments and returns, and provider responses.",
    "agent": "An agent id, or an agent name in any case (every agent with that name).",
    "model": "A model name, in any case.",
    "tag": "Steps carrying this tag in Letta.",
    "tool": "Steps that called this tool.",
    "hidden": "Include archived steps.",
    "unreviewed": "Only steps without a vote (ours, else Letta's) that Letta still has.",
    "cursor": "The page position: copy it from a `next` link, never build it.",
    "since": "ISO 8601 date-time, e.g. 2026-11-20T12:00:00Z.",
    "until": "ISO 8601 date-time, e.g. 2026-11-20T18:00:00Z.",
    "duration_min_ms": "Step duration at least this many milliseconds.",
    "duration_max_ms": "Step duration at most this many milliseconds.",
}


def _schema(field: forms.Field) -> dict:
    if isinstance(field, forms.ChoiceField):
        # "" is every choice's "any" (the page's forms send it), so it is a valid value too
        return {"type": "string", "enum": [str(value) for value, _ in field.choices]}
    if isinstance(field, forms.IntegerField):
        schema = {"type": "integer"}
        if field.min_value is not None:
            schema["minimum"] = field.min_value
        if field.max_value is not None:
            schema["maximum"] = field.max_value
        return schema
    if isinstance(field, forms.BooleanField):
        return {"type": "boolean"}
    if isinstance(field, forms.DateTimeField):
        # no `format: date-time`: the page's form also takes the browser's zone-less
        # "2026-11-20T12:00", which RFC 3339 (what that format means) refuses
        return {"type": "string"}
    schema = {"type": "string"}
    if getattr(field, "max_length", None):
        schema["maxLength"] = field.max_length
    return schema


def _description(name: str, field: forms.Field) -> str:
    if name in DESCRIPTIONS:
        return DESCRIPTIONS[name]
    if isinstance(field, forms.ChoiceField):
        return ", ".join(f"`{value}`: {label}" for value, label in field.choices if value)
    label = CHIP_LABELS.get(name) or FIELD_LABELS.get(name) or name.replace("_", " ")
    if name.endswith("_min"):
        return f"{CHIP_LABELS.get(name[:-4], label)} at least this."
    if name.endswith("_max"):
        return f"{CHIP_LABELS.get(name[:-4], label)} at most this."
    return f"{label}: exact match."


def step_filter_parameters() -> list[OpenApiParameter]:
    params = []
    for name, field in StepFilterForm.base_fields.items():
        if name in API_IGNORED:
            continue
        params.append(
            OpenApiParameter(
                name,
                _schema(field),
                OpenApiParameter.QUERY,
                required=False,
                description=_description(name, field),
            )
        )
    return params


PAGE_SIZE_PARAMETER = OpenApiParameter(
    "page_size",
    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
    OpenApiParameter.QUERY,
    description=f"Steps per page (default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE}).",
)
TRACES_PARAMETER = OpenApiParameter(
    "traces",
    {"type": "string", "enum": ["full", "summary", "none"]},
    OpenApiParameter.QUERY,
    description="Provider traces: `full` (default; request and response bodies, often a megabyte), "
    "`summary` (each trace without its bodies) or `none`.",
)
TRACE_NUMBER_PARAMETERS = [
    OpenApiParameter(
        name,
        {"type": "integer", "minimum": 1},
        OpenApiParameter.QUERY,
        description=f"Which trace of step {side} to diff, from 1 (default: the step's own agent_step call).",
    )
    for name, side in (("trace_a", "A"), ("trace_b", "B"))
]


class TraceNumbersForm(forms.Form):
    trace_a = forms.IntegerField(required=False, min_value=1)
    trace_b = forms.IntegerField(required=False, min_value=1)


def check_trace_numbers(query_params) -> None:
    """A 400 naming `trace_a` or `trace_b` when it is no whole number from 1 (the compare page shows
    the default trace instead; a script must hear about it). One beyond the step's traces keeps
    the default, as documented."""
    form = TraceNumbersForm(query_params)
    errors = {**form.errors, **loose_values(form, query_params)}
    if errors:
        raise InvalidParameters(errors)


def list_form(query_params) -> StepFilterForm:
    """The list page's form over the request's query string; any invalid parameter is a 400 naming it
    (the page leaves such a filter out and shows the error, a script must hear about it)."""
    form = StepFilterForm(query_params)
    errors = {**form.errors, **loose_values(form, query_params)}
    if errors:
        raise InvalidParameters(errors)
    return form


# What a documented boolean may be: the page's checkboxes send "on", scripts "true"/"1".
BOOLEAN_TEXTS = {"", "on", "off", "true", "false", "1", "0"}
INTEGER_TEXT = re.compile(r"-?[0-9]+")


def loose_values(form: forms.Form, query_params) -> dict[str, list[str]]:
    """Values Django's fields take but the schema's types refuse: a BooleanField reads any text as
    True (`unreviewed=856`), an IntegerField drops a trailing ".0" (`prompt_min=5.0`), and a
    CharField checks its max_length after stripping spaces (300 characters ending in spaces pass).
    A script sending those has made a mistake the schema promises to refuse."""
    errors = {}
    for name, field in form.fields.items():
        raw = query_params.get(name)
        if not raw:
            continue
        if isinstance(field, forms.BooleanField) and raw.lower() not in BOOLEAN_TEXTS:
            errors[name] = [f"“{raw[:40]}” is not a boolean: use true or false."]
        elif isinstance(field, forms.IntegerField) and not INTEGER_TEXT.fullmatch(raw):
            errors[name] = [f"“{raw[:40]}” is not a whole number."]
        elif isinstance(field, forms.CharField) and field.max_length and len(raw) > field.max_length:
            errors[name] = [f"At most {field.max_length} characters, not {len(raw)}."]
    return errors
