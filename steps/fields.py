"""Form fields shared by every form that takes input, so a value PostgreSQL would refuse
(an offset beyond ±15:59, a NUL inside JSON) is a form error, never a 500.

Plain CharFields need nothing extra: Django's CharField already refuses NUL, and
dashboard/middleware.py turns one away before any view runs.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django import forms

NUL_MESSAGE = "Text cannot contain NUL characters (\\0)."


def as_utc(value: datetime | None) -> datetime | None:
    """A parsed date in UTC, or None when it has no UTC equivalent within datetime's range."""
    try:
        return value.astimezone(UTC) if value else None
    except (OverflowError, ValueError):
        return None


class DateTimeField(forms.DateTimeField):
    """Always a UTC datetime PostgreSQL accepts ("9999-12-31T23:59-23:59" is not one)."""

    def to_python(self, value):
        parsed = super().to_python(value)  # a form error for Feb 30, hour 25, year 0, +25:00
        if parsed is not None and as_utc(parsed) is None:
            raise forms.ValidationError("That date is out of range.", code="invalid")
        return as_utc(parsed)


class JSONField(forms.JSONField):
    """JSON whose strings hold no NUL: JSONB refuses "\\u0000" even though JSON allows it."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if any("\x00" in text for text in _strings(parsed)):
            raise forms.ValidationError(NUL_MESSAGE, code="null_characters_not_allowed")
        return parsed


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
