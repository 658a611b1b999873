"""GET /api/v1/queues/{id}/export/: every reviewer's scores and the verdicts of a queue, streamed
(steps.review.export, the bytes the queue's Export page sends)."""

from __future__ import annotations

from django import forms
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.views import APIView

from ..review.export import FORMATS, reviews_export
from ..review.models import Queue
from . import params
from .errors import InvalidParameters


class Options(forms.Form):
    format = forms.ChoiceField(choices=[(name, name) for name in FORMATS], required=False)
    bom = forms.BooleanField(required=False)


class QueueExport(APIView):
    @extend_schema(
        operation_id="queues_export",
        summary="Export a queue's reviews and verdicts",
        description="Streams every review of the queue: `csv` has a row a review (reviewer, time, seconds, "
        "`score:<item>` columns, note) with its item's verdict (`verdict:<item>` columns, who decided, "
        "when) repeated on each row; `jsonl` has a line an item (reviewed or not) with its verdict and "
        "its reviews. Items come in (state, position) order.",
        parameters=[
            OpenApiParameter("format", str, enum=list(FORMATS), description="`csv` (default) or `jsonl`."),
            OpenApiParameter("bom", bool, description="CSV: start with a UTF-8 byte order mark (for Excel)."),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV"),
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR, description="JSON lines"),
        },
    )
    def get(self, request, queue_id: int):
        options = Options(request.query_params)
        loose = params.loose_values(options, request.query_params)
        if not options.is_valid() or loose:
            raise InvalidParameters({**options.errors, **loose})
        queue = get_object_or_404(Queue, pk=queue_id)
        return reviews_export(queue, options.cleaned_data["format"] or "csv", bom=options.cleaned_data["bom"])
