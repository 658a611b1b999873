"""The page route of exports: the list's query string plus format (and traces) in, a download out."""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import HttpRequest, StreamingHttpResponse
from django.views.decorators.http import require_GET

from .stream import ExportRequestError, export_from_query


@require_GET
def export_steps(request: HttpRequest) -> StreamingHttpResponse:
    fmt = request.GET.get("format", "csv")
    try:
        return export_from_query(request.GET, fmt, include_traces=request.GET.get("traces") == "1")
    except ExportRequestError as error:
        raise BadRequest(str(error)) from error
