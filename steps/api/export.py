"""GET /api/v1/steps/export/: the export download of steps/export/, for a token-holding script.

The filter is the list's query string through the same form as /api/v1/steps/ (an invalid one is a
400 naming it, never an export of everything); the body is steps.export's stream, so the API and
the list page's Export menu write the same bytes.
"""

from __future__ import annotations

from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.views import APIView

from ..export.stream import FORMATS, export_filename, stream_export
from ..models import Step
from . import params
from .errors import InvalidParameters


class ExportOptions(forms.Form):
    format = forms.ChoiceField(choices=[(name, spec.label) for name, spec in FORMATS.items()], required=False)
    traces = forms.BooleanField(required=False)  # JSONL: each step's provider traces too
    bom = forms.BooleanField(required=False)  # CSV: start with a UTF-8 BOM (Excel); scripts rarely want it


OPTION_PARAMETERS = [
    OpenApiParameter(
        "format",
        str,
        enum=list(FORMATS),
        description="`csv` (one row a step), `jsonl` (one step a line, with messages and metrics) or "
        "`finetune` (OpenAI chat fine-tuning JSONL built from each step's provider request and "
        "response; steps without a readable trace are skipped). Default `csv`.",
    ),
    OpenApiParameter("traces", bool, description="JSONL: include each step's provider traces."),
    OpenApiParameter("bom", bool, description="CSV: start with a UTF-8 byte order mark (for Excel)."),
]


class StepExport(APIView):
    @extend_schema(
        operation_id="steps_export",
        summary="Export steps",
        description="Streams every step the list page's query string matches (no row cap, in the "
        "query's sort order) as a download. Takes the same filters as `/api/v1/steps/`.",
        parameters=[*params.step_filter_parameters(), *OPTION_PARAMETERS],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV"),
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR, description="JSON lines"),
        },
    )
    def get(self, request):
        form = params.list_form(request.query_params)
        options = ExportOptions(request.query_params)
        loose = params.loose_values(options, request.query_params)
        if not options.is_valid() or loose:
            raise InvalidParameters({**options.errors, **loose})
        fmt = options.cleaned_data["format"] or "csv"
        return stream_export(
            form.filter(Step.objects.all()),
            fmt,
            sort=form.sort_order(),
            include_traces=options.cleaned_data["traces"],
            filename=export_filename(form, fmt),
            bom=options.cleaned_data["bom"],
        )
