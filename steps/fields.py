"""Form fields and checks shared by everything that takes input, so a value PostgreSQL or Python
would refuse (an offset beyond ±15:59, a NUL inside JSON, a date whose range leaves year 9999, a
5,000-digit number, JSON nested 100,000 levels deep) is a form error or a 400, never a 500.

Plain CharFields need nothing extra: Django's CharField already refuses NUL, and
dashboard/middleware.py turns one away before any view runs.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django import forms

NUL_MESSAGE = "Text cannot contain NUL characters (\\0)."
# The dates a filter or a page link may name. A range is then widened by up to a year (400 days
# back, a week to its bucket's end, a time zone's offset) without leaving datetime's years 1 to
# 9999: "until=9999-12-31" or "until=0001-01-07" can never reach date arithmetic.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)  # excluded
OUT_OF_RANGE = "That date is out of range: use one from 1970 to 9998."
# Digits a hand-typed whole number may have: int() of thousands of digits is slow, and past
# 4,300 a ValueError (Python's int max str digits).
MAX_DIGITS = 18
# How deep a JSON body or form value may nest lists and objects. Ours are one or two levels; a
# deeper value makes every later walk of it (validation, json.dumps, repr) recurse once a level,
# and Python's json refuses some ten thousand levels with a RecursionError, not a ValueError.
MAX_JSON_DEPTH = 32
TOO_DEEP = f"nested more than {MAX_JSON_DEPTH} levels deep"


def as_utc(value: datetime | None) -> datetime | None:
    """A parsed date in UTC, or None when it has no UTC equivalent within datetime's range."""
    try:
        return value.astimezone(UTC) if value else None
    except (OverflowError, ValueError):
        return None


def in_range(value: datetime | None) -> datetime | None:
    """A parsed date in UTC when it lies from EARLIEST to before LATEST, else None."""
    value = as_utc(value)
    return value if value is not None and EARLIEST <= value < LATEST else None


def clamp(value: datetime) -> datetime:
    """A date moved into [EARLIEST, LATEST]: where code computes with a date it did not parse."""
    return min(max(value, EARLIEST), LATEST)


def whole_number(raw: str | None, max_digits: int = MAX_DIGITS) -> int | None:
    """A non-negative whole number written in ASCII digits (no sign, no spaces), or None."""
    if not raw or len(raw) > max_digits or not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw)


class DateTimeField(forms.DateTimeField):
    """Always a UTC datetime from EARLIEST to before LATEST, so PostgreSQL accepts it
    ("9999-12-31T23:59-23:59" is year 10000 in UTC) and a range around it stays in datetime's."""

    def to_python(self, value):
        parsed = super().to_python(value)  # a form error for Feb 30, hour 25, year 0, +25:00
        if parsed is not None and in_range(parsed) is None:
            raise forms.ValidationError(OUT_OF_RANGE, code="invalid")
        return as_utc(parsed)


def too_deep(value) -> bool:
    """Whether parsed JSON nests lists and objects more than MAX_JSON_DEPTH levels (a loop, so
    it can look at any depth)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        if children and depth > MAX_JSON_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONField(forms.JSONField):
    """JSON whose strings hold no NUL: JSONB refuses "\\u0000" even though JSON allows it;
    and no deeper than MAX_JSON_DEPTH."""

    def to_python(self, value):
        try:
            parsed = super().to_python(value)
        except RecursionError:
            raise forms.ValidationError(f"This JSON is {TOO_DEEP}.", code="invalid") from None
        if too_deep(parsed):
            raise forms.ValidationError(f"This JSON is {TOO_DEEP}.", code="invalid")
        if any("\x00" in text for text in _strings(parsed)):
            raise forms.ValidationError(NUL_MESSAGE, code="null_characters_not_allowed")
        return parsed

    def bound_data(self, data, initial):
        # the form shown again with its error: the text as typed, not parsed
        try:
            bound = super().bound_data(data, initial)
        except RecursionError:
            return forms.fields.InvalidJSONInput(data)
        return forms.fields.InvalidJSONInput(data) if too_deep(bound) else bound


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
