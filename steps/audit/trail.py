"""The trail: audit events and Django's admin log (LogEntry) merged newest first.

Each source is read by its own index-served query (AuditEvent's (at, id) indexes, the admin log's
from migration 0002), at most one page plus one row each, after a time cursor; the two are merged
here. A page costs the same whether the tables hold a hundred rows or ten million. Ties in time
are ordered by (source, id), so the cursor never skips or repeats an entry.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.admin.models import LogEntry
from django.db.models import Q, QuerySet

from .actions import ACTIONS, ADMIN_ACTIONS
from .models import AuditEvent

EVENT, ADMIN = 1, 0  # source ranks: at one instant, an event sorts before an admin log entry
FLAGS = {name: flag for flag, name in ADMIN_ACTIONS.items()}
CHUNK = 500  # rows per read when exporting


@dataclass(frozen=True)
class Filters:
    actor_id: int | None = None
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, order=True)
class Cursor:
    at: datetime
    source: int
    id: int

    def text(self) -> str:
        return f"{self.at.isoformat()}~{self.source}~{self.id}"

    @classmethod
    def parse(cls, text: str) -> Cursor | None:
        try:
            at, source, pk = text.split("~")
            parsed = cls(datetime.fromisoformat(at), int(source), int(pk))
        except ValueError:
            return None
        return parsed if parsed.at.tzinfo and parsed.source in (EVENT, ADMIN) else None


@dataclass
class Entry:
    at: datetime
    source: int
    id: int
    actor_id: int | None
    actor_name: str
    action: str
    target_type: str
    target_id: str
    target_label: str
    before: object = None
    after: object = None
    ip: str | None = None
    message: str = ""  # the admin log's own words ("Changed Role.")
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    link: str = ""  # the target's page, where it has one (set by the view)

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.at, self.source, self.id)

    @property
    def label(self) -> str:
        return ACTIONS.get(self.action, self.action)


def _after(qs: QuerySet, time_field: str, rank: int, cursor: Cursor | None) -> QuerySet:
    """Rows that sort after `cursor` in (time, source, id) descending order."""
    if cursor is None:
        return qs
    if rank > cursor.source:
        return qs.filter(**{f"{time_field}__lt": cursor.at})
    if rank < cursor.source:
        return qs.filter(**{f"{time_field}__lte": cursor.at})
    # the first condition alone is what the (time, id) index seeks to; the second settles ties
    qs = qs.filter(**{f"{time_field}__lte": cursor.at})
    return qs.filter(
        Q(**{f"{time_field}__lt": cursor.at}) | Q(**{time_field: cursor.at, "id__lt": cursor.id})
    )


def _events(filters: Filters, cursor: Cursor | None) -> QuerySet | None:
    if filters.action in FLAGS:
        return None
    qs = AuditEvent.objects.all()
    if filters.actor_id is not None:
        qs = qs.filter(actor_id=filters.actor_id)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.since:
        qs = qs.filter(at__gte=filters.since)
    if filters.until:
        qs = qs.filter(at__lt=filters.until)
    return _after(qs, "at", EVENT, cursor).order_by("-at", "-id")


def _admin_log(filters: Filters, cursor: Cursor | None) -> QuerySet | None:
    if filters.action and filters.action not in FLAGS:
        return None
    qs = LogEntry.objects.select_related("user", "content_type")
    if filters.actor_id is not None:
        qs = qs.filter(user_id=filters.actor_id)
    if filters.action:
        qs = qs.filter(action_flag=FLAGS[filters.action])
    if filters.since:
        qs = qs.filter(action_time__gte=filters.since)
    if filters.until:
        qs = qs.filter(action_time__lt=filters.until)
    return _after(qs, "action_time", ADMIN, cursor).order_by("-action_time", "-id")


def page(filters: Filters, cursor: Cursor | None = None, size: int = 50) -> tuple[list[Entry], Cursor | None]:
    """One page of the trail after `cursor`, and the cursor of the next page (None: the last)."""
    sources = [
        [_from_event(e) for e in qs[: size + 1]] if (qs := _events(filters, cursor)) is not None else [],
        [_from_log(e) for e in qs[: size + 1]] if (qs := _admin_log(filters, cursor)) is not None else [],
    ]
    merged = list(heapq.merge(*sources, key=_key))[: size + 1]
    entries = merged[:size]
    return entries, (entries[-1].cursor if len(merged) > size else None)


def every(filters: Filters) -> Iterator[Entry]:
    """The whole filtered trail, newest first, read in chunks (the CSV export)."""
    cursor = None
    while True:
        entries, cursor = page(filters, cursor, CHUNK)
        yield from entries
        if cursor is None:
            return


def _key(entry: Entry) -> tuple:
    # heapq.merge takes ascending keys: negate for newest first
    return (-entry.at.timestamp(), -entry.source, -entry.id)


def _from_event(event: AuditEvent) -> Entry:
    return Entry(
        at=event.at,
        source=EVENT,
        id=event.pk,
        actor_id=event.actor_id,
        actor_name=event.actor_name,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        target_label=event.target_label,
        before=event.before,
        after=event.after,
        ip=event.ip,
        changes=changes(event.before, event.after),
    )


def _from_log(entry: LogEntry) -> Entry:
    kind = entry.content_type.model if entry.content_type else ""
    return Entry(
        at=entry.action_time,
        source=ADMIN,
        id=entry.pk,
        actor_id=entry.user_id,
        actor_name=entry.user.get_username(),
        action=ADMIN_ACTIONS.get(entry.action_flag, "admin.change"),
        target_type=kind,
        target_id=entry.object_id or "",
        target_label=entry.object_repr,
        message=entry.get_change_message(),
    )


def changes(before, after) -> list[tuple[str, str, str]]:
    """(field, old, new) for each key of two dicts, as short text; unchanged keys left out. Old is
    "" where there was nothing before (a creation, a sign-in): the page then shows the value alone."""
    if not isinstance(before, dict) and not isinstance(after, dict):
        return []
    created = not isinstance(before, dict)
    before, after = before if isinstance(before, dict) else {}, after if isinstance(after, dict) else {}
    rows = []
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        if old != new or key not in before or key not in after:
            rows.append((key, "" if created else show(old), show(new)))
    return rows


def show(value, limit: int = 200) -> str:
    if value is None:
        return "—"
    if value == "":
        return "(empty)"
    text = ", ".join(map(str, value)) or "(none)" if isinstance(value, list) else value
    if not isinstance(text, str):
        text = json.dumps(text, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def json_text(value) -> str:
    """A before/after value whole, as JSON (the CSV export: nothing cut)."""
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
