"""Formatting for the review UI. Filters return plain strings: autoescape still applies."""

from __future__ import annotations

import json
from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from steps.models import SyncRun

register = template.Library()


@register.filter
def ns_duration(value) -> str:
    if value is None or value == "":
        return "—"
    ms = int(value) / 1_000_000
    if ms < 1:
        return f"{ms:.2f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.2f} s"
    return f"{int(ms // 60_000)} m {int(ms % 60_000 / 1000)} s"


@register.filter
def short_id(value) -> str:
    """`agent-105225c8-2bdf-…` -> `105225c8`: enough to tell ids apart in a table."""
    value = str(value or "")
    _, _, rest = value.partition("-")
    return (rest or value)[:8]


@register.filter
def pretty_json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


@register.filter
def percent_of(part, whole) -> float:
    try:
        return max(0.0, min(100.0, 100 * float(part) / float(whole)))
    except (TypeError, ValueError, ZeroDivisionError):
        return 0.0


@register.filter
def ago(value) -> str:
    """Compact relative time: "12 s ago", "5 min ago", "3 h ago", "2 d ago"."""
    if not value:
        return ""
    seconds = int((timezone.now() - value).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        text = f"{seconds} s"
    elif seconds < 3600:
        text = f"{seconds // 60} min"
    elif seconds < 86400:
        text = f"{seconds // 3600} h"
    else:
        text = f"{seconds // 86400} d"
    return f"in {text}" if future else f"{text} ago"


@register.simple_tag(takes_context=True)
def query(context, **changes) -> str:
    """The current query string with `changes` applied (None or "" removes a key); drops the cursor."""
    params = context["request"].GET.copy()
    params.pop("cursor", None)
    for key, value in changes.items():
        params.pop(key, None)
        if value not in (None, ""):
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def query_without(context, name: str) -> str:
    return query(context, **{name: None})


@register.inclusion_tag("steps/_sync_status.html")
def sync_status():
    # One query for the chrome: the latest runs contain both the newest and the last success.
    runs = list(
        SyncRun.objects.only("started_at", "finished_at", "status", "mode", "error_message", "trigger")[:10]
    )
    latest = runs[0] if runs else None
    last_success = next((r for r in runs if r.status == SyncRun.Status.SUCCESS), None)
    stale = bool(
        last_success
        and last_success.finished_at
        and timezone.now() - last_success.finished_at > timedelta(minutes=5)
    )
    return {"latest": latest, "last_success": last_success, "stale": stale}


@register.simple_tag
def bar(total, *parts) -> str:
    """A horizontal bar of segments as inline SVG; `parts` alternate a value and its CSS class.

    Widths are SVG geometry attributes, not style="": the Content-Security-Policy allows no
    inline styles.
    """
    rects, x = [], 0.0
    for value, css_class in zip(parts[::2], parts[1::2], strict=True):
        width = min(percent_of(value, total), 100.0 - x)
        rects.append((css_class, f"{x:.2f}", f"{width:.2f}"))
        x += width
    return format_html(
        '<svg class="bar" width="100%" height="100%" aria-hidden="true" focusable="false">{}</svg>',
        format_html_join("", '<rect class="{}" x="{}%" width="{}%" height="100%"></rect>', rects),
    )
