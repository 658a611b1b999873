"""Pages of the API's lists.

Steps page exactly like the list page: the same keyset walk over (sort column, id) and the same
`cursor` value (steps/filters.py encode_cursor), so a cursor taken from the page works here too.
Runs, agents and sync runs, short tables with one natural order, use DRF's own cursor pagination,
their cursors' positions checked as the step list's are (filters.cursor_position).
"""

from __future__ import annotations

from django import forms
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

from ..filters import StepFilterForm, cursor_position, encode_cursor
from ..models import Step
from .errors import InvalidParameters

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
# column type -> the kind of cursor position filters.cursor_position checks
POSITION_KINDS = {"DateTimeField": "datetime", "CharField": "text", "TextField": "text"}
POSITION_KINDS |= dict.fromkeys(["IntegerField", "BigIntegerField", "BigAutoField", "AutoField"], "integer")


class PageSizeForm(forms.Form):
    page_size = forms.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE)


def step_page(form: StepFilterForm, size: int) -> tuple[list[Step], str]:
    """One page of the list `form` describes and the cursor of the next ("" on the last page)."""
    sort = form.sort_order()
    qs = form.filter(Step.objects.for_list()).ordered(sort)
    if key := form.cursor_key:
        qs = qs.after_key(sort, *key)
    steps = list(qs[: size + 1])
    next_cursor = encode_cursor(sort, steps[size - 1]) if len(steps) > size else ""
    return steps[:size], next_cursor


class NewestFirst(CursorPagination):
    """DRF's cursor pagination, strict like the step list: a bad page_size or a damaged cursor is a
    400 naming it (DRF would quietly use the default size, answer bad base64 with a 404, and send
    a forged position, an impossible date or a NUL, to the query: a 500)."""

    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        form = PageSizeForm(request.query_params)
        if not form.is_valid():
            raise InvalidParameters(form.errors)
        return form.cleaned_data["page_size"] or self.page_size

    def paginate_queryset(self, queryset, request, view=None):
        # the kind of value a cursor's position holds: the first ordering column's
        column = queryset.model._meta.get_field(self.ordering[0].lstrip("-"))
        self.position_kind = POSITION_KINDS[column.get_internal_type()]
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise _damaged() from None
        # DRF puts the position in the query as it comes: "p=2024-02-30" or a NUL would be a 500
        position = cursor.position if cursor else None
        if position is not None and cursor_position(self.position_kind, position) is None:
            raise _damaged()
        return cursor

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == "page_size":
                parameter["schema"].update(minimum=1, maximum=MAX_PAGE_SIZE)
                parameter["description"] = (
                    f"Items per page (default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE})."
                )
        return parameters


def _damaged() -> ValidationError:
    return ValidationError({"cursor": ["This page link is damaged."]})


class RunsNewestFirst(NewestFirst):
    ordering = ("-created_at", "-id")  # steps_run_created


class SyncRunsNewestFirst(NewestFirst):
    ordering = ("-started_at", "-id")  # steps_syncrun_started


class AgentsByName(NewestFirst):
    ordering = ("name", "id")  # steps_agent_name
