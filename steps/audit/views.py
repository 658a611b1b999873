"""The audit trail page (/audit/) and its CSV export: managers only, reads only."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ..access.roles import MANAGER_REFUSED, RoleRequired, can_manage
from ..export.rows import BOM, csv_text, safe_cell, utc_text
from ..ids import is_letta_id
from . import trail
from .actions import ACTIONS

PAGE_SIZE = 50
CSV_COLUMNS = (
    "time (UTC)",
    "person",
    "action",
    "target type",
    "target id",
    "target",
    "before",
    "after",
    "address",
    "admin message",
)


class TrailFilterForm(forms.Form):
    person = forms.CharField(required=False, max_length=150, label="Person")
    action = forms.ChoiceField(
        required=False,
        choices=[("", "Any action"), *((name, f"{name}: {label}") for name, label in ACTIONS.items())],
    )
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(
        required=False, label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"})
    )
    cursor = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def clean_person(self) -> int | None:
        name = self.cleaned_data["person"].strip()
        if not name:
            return None
        user = get_user_model()._default_manager.filter(username__iexact=name).only("pk").first()
        if user is None:
            raise forms.ValidationError(f"No user is named “{name}”.")
        return user.pk

    def clean_cursor(self) -> trail.Cursor | None:
        text = self.cleaned_data["cursor"]
        if not text:
            return None
        cursor = trail.Cursor.parse(text)
        if cursor is None:
            raise forms.ValidationError("This page link is damaged; start from the newest entries.")
        return cursor

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The end is before the start.")
        return data

    def filters(self) -> trail.Filters:
        """The valid filters; an invalid one is left out (and shown as the form's error)."""
        data = self.cleaned_data if self.is_bound else {}
        valid = {
            name: data.get(name) for name in ("person", "action", "since", "until") if name not in self.errors
        }
        zone = timezone.get_current_timezone()
        since, until = valid.get("since"), valid.get("until")
        return trail.Filters(
            actor_id=valid.get("person"),
            action=valid.get("action") or "",
            since=datetime.combine(since, time.min, zone) if since else None,
            # "to" a day includes that whole day
            until=datetime.combine(until, time.max, zone) if until else None,
        )


def _manager(request: HttpRequest) -> None:
    if not can_manage(request.user):
        raise RoleRequired(MANAGER_REFUSED)


@never_cache  # addresses and people's actions: not for a shared cache or the back button
@require_GET
def audit_trail(request: HttpRequest) -> HttpResponse:
    _manager(request)
    form = TrailFilterForm(request.GET)
    form.is_valid()
    cursor = form.cleaned_data.get("cursor") if "cursor" not in form.errors else None
    entries, next_cursor = trail.page(form.filters(), cursor, PAGE_SIZE)
    for entry in entries:
        # a pruned step's page is a 404, still the right link; an id of another shape has none
        if entry.target_type == "step" and is_letta_id("step", entry.target_id):
            entry.link = reverse("step_detail", args=[entry.target_id])
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "form": form,
        "entries": entries,
        "next_query": _with(query, cursor=next_cursor.text()) if next_cursor else "",
        "paged": cursor is not None,
        "first_query": query.urlencode(),
        "time_zone": settings.TIME_ZONE,
        "export_query": query.urlencode(),
        "filtered": any(request.GET.get(name) for name in ("person", "action", "since", "until")),
    }
    return render(request, "audit/trail.html", context, status=400 if form.errors else 200)


def _with(query, **values) -> str:
    query = query.copy()
    for name, value in values.items():
        query[name] = value
    return query.urlencode()


@never_cache
@require_GET
def audit_export(request: HttpRequest) -> HttpResponse:
    _manager(request)
    form = TrailFilterForm(request.GET)
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponse(f"Fix the filter first ({problems})", status=400, content_type="text/plain")
    filters = form.filters()

    def rows():
        yield BOM + csv_text([list(CSV_COLUMNS)])
        batch = []
        for entry in trail.every(filters):
            batch.append(_row(entry))
            if len(batch) == 200:
                yield csv_text(batch)
                batch = []
        if batch:
            yield csv_text(batch)

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="audit-trail_{stamp}.csv"'
    return response


def _row(entry: trail.Entry) -> list:
    values = (
        utc_text(entry.at),
        entry.actor_name,
        entry.action,
        entry.target_type,
        entry.target_id,
        entry.target_label,
        trail.json_text(entry.before),
        trail.json_text(entry.after),
        entry.ip or "",
        entry.message,
    )
    return [safe_cell(v) for v in values]
