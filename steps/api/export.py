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
from ..review.export import ExportError, verdict_filter
from . import params
from .errors import InvalidParameters


class ExportOptions(forms.Form):
    format = forms.ChoiceField(choices=[(name, spec.label) for name, spec in FORMATS.items()], required=False)
    traces = forms.BooleanField(required=False)  # JSONL: each step's provider traces too
    bom = forms.BooleanField(required=False)  # CSV: start with a UTF-8 BOM (Excel); scripts rarely want it
    # only the steps of a review queue whose verdict passes `condition` (e.g. for fine-tuning)
    queue = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    condition = forms.CharField(required=False, max_length=500, strip=False)


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
    OpenApiParameter(
        "queue",
        int,
        description="Only the steps of this review queue that are done and whose verdict passes `condition` "
        "(every done step when `condition` is empty).",
    ),
    OpenApiParameter(
        "condition",
        str,
        description="With `queue`: clauses on the verdict joined by commas, each `<rubric item> <op> <value>` "
        "with op one of `= != >= <= > <` (orders for scale items only), e.g. "
        "`verdict = positive, accuracy >= 4`. Thumbs take positive/negative, yes/no items true/false.",
    ),
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
        steps = form.filter(Step.objects.all())
        queue, condition = options.cleaned_data["queue"], options.cleaned_data["condition"]
        if queue is not None or condition:
            try:
                steps = steps.filter(verdict_filter(queue, condition))
            except ExportError as error:
                raise InvalidParameters({"condition" if queue else "queue": [str(error)]}) from None
        return stream_export(
            steps,
            fmt,
            sort=form.sort_order(),
            include_traces=options.cleaned_data["traces"],
            filename=export_filename(form, fmt),
            bom=options.cleaned_data["bom"],
        )
