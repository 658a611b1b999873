"""Formatting for the review UI. Filters return plain strings: autoescape still applies."""

from __future__ import annotations

import json
from datetime import timedelta

from django import template
from django.utils import dateformat, timezone
from django.utils.html import format_html, format_html_join

from steps.filters import without_empty
from steps.models import SyncRun

register = template.Library()


@register.filter
def ns_duration(value) -> str:
    """Nanoseconds for people: "850 µs", "1.4 ms", "12 ms", "1.4 s", "2 min 5 s"; never "0.00 ms"."""
    if value is None or value == "":
        return "—"
    ns = max(0, int(value))
    if ns == 0:
        return "0 ms"
    for scale, unit, limit in ((1, "ns", 1000), (1e3, "µs", 1000), (1e6, "ms", 1000), (1e9, "s", 60)):
        amount = ns / scale
        # one decimal below 10 of a unit ("1.4 s"), none above ("12 ms"); rounding may reach the next unit
        text = f"{amount:.1f}".removesuffix(".0") if scale > 1 and amount < 9.95 else f"{amount:.0f}"
        if float(text) < limit:
            return f"{text} {unit}"
    minutes, seconds = divmod(round(ns / 1e9), 60)
    return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"


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
    """Compact relative time, to the nearest unit: "12 s ago", "5 min ago", "3 h ago", "2 days ago",
    "in 7 days" (a link made for 7 days is not "6 d" away a second later)."""
    if not value:
        return ""
    seconds = (timezone.now() - value).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 59.5:
        text = f"{round(seconds)} s"
    elif seconds < 59.5 * 60:
        text = f"{round(seconds / 60)} min"
    elif seconds < 23.5 * 3600:
        text = f"{round(seconds / 3600)} h"
    else:
        days = round(seconds / 86400)
        text = f"{days} day{'' if days == 1 else 's'}"
    return f"in {text}" if future else f"{text} ago"


def _time_tag(value, text: str, note: str = "") -> str:
    local = timezone.localtime(value)
    iso = local.isoformat()
    return format_html(
        '<time datetime="{}" title="{}{}">{}</time>', iso, iso, f" · {note}" if note else "", text
    )


@register.simple_tag
def when(value, fmt: str = "M j, H:i:s") -> str:
    """An absolute time in the dashboard's zone, saying which ("Nov 25, 09:30:00 UTC"), with the
    ISO time (offset included) in its title."""
    if not value:
        return ""
    local = timezone.localtime(value)
    return _time_tag(value, f"{dateformat.format(local, fmt)} {local.tzname()}")


@register.simple_tag
def since(value, note: str = "") -> str:
    """A relative time ("5 min ago") with the ISO time in its title (and `note` after it)."""
    if not value:
        return ""
    return _time_tag(value, ago(value), note)


@register.simple_tag(takes_context=True)
def query(context, **changes) -> str:
    """The current query string with `changes` applied (None or "" removes a key); drops the
    cursor and every empty parameter, so links stay short."""
    params = without_empty(context["request"].GET)
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


@register.simple_tag(takes_context=True)
def query_with(context, name: str, value: str) -> str:
    """query() with a parameter whose name is itself a variable."""
    return query(context, **{name: value})


@register.simple_tag
def missing_option(value, rows) -> str:
    """A selected <option> for a filter value the facet rows lack (a pasted link, a facet cache
    a minute old), so the select shows the filter in force and the next change keeps it."""
    if not value or any(row[0] == value for row in rows or ()):
        return ""
    return format_html('<option value="{}" selected>{}</option>', value, value)


@register.inclusion_tag("steps/_sync_status.html")
def sync_status():
    """The top bar's sync state: how the last finished run ended, plus "syncing…" while one runs.
    Read from finished runs only, so a run that just started (its mode and counts not known until
    it ends) never replaces what the last one found, and back-to-back runs do not flicker it."""
    # One query for the chrome: the latest runs contain both the newest and the last success.
    runs = list(
        SyncRun.objects.only(
            "started_at",
            "finished_at",
            "heartbeat_at",
            "status",
            "mode",
            "error_message",
            "trigger",
            "discovery_skipped",
            "steps_skipped",
            "steps_reclaimed",
            "notes",
        )[:10]
    )
    for run in runs:  # between syncs nobody has marked it yet: show it as it is
        if run.looks_dead():
            run.status = SyncRun.Status.ABANDONED
    finished = [run for run in runs if run.status != SyncRun.Status.RUNNING]
    latest = finished[0] if finished else None
    last_success = next((r for r in finished if r.status == SyncRun.Status.SUCCESS), None)
    stale = bool(
        last_success
        and last_success.finished_at
        and timezone.now() - last_success.finished_at > timedelta(minutes=5)
    )
    return {
        "latest": latest,
        "running": len(finished) < len(runs),
        "last_success": last_success,
        "stale": stale,
        # what the last finished run left to another sync or took over from a dead one
        "handover": latest if latest and (latest.skipped_work or latest.steps_reclaimed) else None,
        "abandoned": next((r for r in runs[:3] if r.status == SyncRun.Status.ABANDONED), None),
        # a run that failed before discovery knows no mode: the one before it does
        "mode": next((r for r in finished if r.mode), None),
    }


def svg_bar(total, segments) -> str:
    """A horizontal bar as inline SVG; `segments` are (value, css class, title) with title "" for none.

    Widths are SVG geometry attributes, not style="": the Content-Security-Policy allows no
    inline styles.
    """
    rects, x = [], 0.0
    for value, css_class, title in segments:
        width = min(percent_of(value, total), 100.0 - x)
        tip = format_html("<title>{}</title>", title) if title else ""
        rects.append((css_class, f"{x:.2f}", f"{width:.2f}", tip))
        x += width
    return format_html(
        '<svg class="bar" width="100%" height="100%" aria-hidden="true" focusable="false">{}</svg>',
        format_html_join("", '<rect class="{}" x="{}%" width="{}%" height="100%">{}</rect>', rects),
    )


@register.simple_tag
def bar(total, *parts) -> str:
    """`svg_bar` with `parts` alternating a value and its CSS class."""
    return svg_bar(total, [(v, c, "") for v, c in zip(parts[::2], parts[1::2], strict=True)])
