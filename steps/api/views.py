"""API views: HTTP in, JSON out. Filtering is StepFilterForm and StepQuerySet, writes go through
steps/feedback/ (the outbox the pages use), so the API and the pages can never disagree."""

from __future__ import annotations

from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import diff, feedback
from ..feedback import vote_state, vote_states
from ..filters import list_query
from ..models import Agent, FeedbackBatch, Run, Step, StepReview, SyncRun
from ..pages import compare
from ..pages.timeline import previews, timeline
from . import params
from .errors import InvalidParameters
from .pagination import (
    DEFAULT_PAGE_SIZE,
    AgentsByName,
    PageSizeForm,
    RunsNewestFirst,
    SyncRunsNewestFirst,
    step_page,
)
from .serializers import (
    AgentSerializer,
    BatchSerializer,
    BulkCountSerializer,
    BulkFeedbackInputSerializer,
    FeedbackInputSerializer,
    NotesInputSerializer,
    ReviewSerializer,
    RunDetailSerializer,
    RunSerializer,
    StepDetailSerializer,
    StepPageSerializer,
    StepSummarySerializer,
    SyncRunSerializer,
    TagsInputSerializer,
)

MAX_QUERY_CHARS = 4000  # as the page's bulk action


def _rows(steps: list[Step]) -> list[Step]:
    """List rows with what a row shows, in four queries whatever the page size (as on the page)."""
    states = vote_states(steps)
    found = previews([s.pk for s in steps])
    agents = Agent.objects.names(s.agent_id for s in steps)
    for step in steps:
        step.vs, step.preview, step.agent_record = states[step.pk], found[step.pk], agents.get(step.agent_id)
    return steps


def _page_size(query_params) -> int:
    form = PageSizeForm(query_params)
    if not form.is_valid():
        raise InvalidParameters(form.errors)
    return form.cleaned_data["page_size"] or DEFAULT_PAGE_SIZE


class StepList(APIView):
    @extend_schema(
        operation_id="steps_list",
        summary="List steps",
        description="Accepts exactly the step list page's query string (`/?status=failed&agent=...` "
        "becomes `/api/v1/steps/?status=failed&agent=...`): every filter, the search and the sort. "
        "Follow `next` for the following page. An invalid parameter is a 400 naming it.",
        parameters=[*params.step_filter_parameters(), params.PAGE_SIZE_PARAMETER],
        responses={200: StepPageSerializer},
    )
    def get(self, request):
        form = params.list_form(request.query_params)
        size = _page_size(request.query_params)
        steps, cursor = step_page(form, size)
        next_url = None
        if cursor:
            query = request.query_params.copy()
            query["cursor"] = cursor
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        results = StepSummarySerializer(_rows(steps), many=True, context={"request": request}).data
        return Response({"next": next_url, "results": results})


def _trace_mode(request) -> str:
    mode = request.query_params.get("traces", "full")
    if mode not in ("full", "summary", "none"):
        raise ValidationError({"traces": ["not one of full, summary, none."]})
    return mode


class StepDetail(APIView):
    @extend_schema(
        operation_id="steps_retrieve",
        summary="One step",
        description="The step with its messages (in the order the step page shows them), metrics, "
        "provider traces, and review state: the vote, its write-back to Letta, tags and notes.",
        parameters=[params.TRACES_PARAMETER],
        responses={200: StepDetailSerializer},
    )
    def get(self, request, step_id: str):
        mode = _trace_mode(request)
        step = get_object_or_404(Step.objects.select_related("metrics", "review"), pk=step_id)
        messages = list(
            step.messages.order_by("position").only(
                "payload", "date", "step_id", "position", "message_id", "message_type"
            )
        )
        step.timeline_pairs = list(zip(messages, timeline(messages), strict=True))
        step.trace_list = []
        if mode != "none":
            traces = step.traces.order_by("created_at", "pk")
            if mode == "summary":
                traces = traces.defer("request_json", "response_json")
            step.trace_list = list(traces)
        _rows([step])
        step.review_state = (step.vs, getattr(step, "review", None))
        step.metrics_or_none = getattr(step, "metrics", None)
        context = {"request": request, "traces": mode, "trace_bodies": mode == "full"}
        return Response(StepDetailSerializer(step, context=context).data)


# --- writes: the same outbox as the pages --------------------------------------------------------


def _review_response(request, step: Step, code=status.HTTP_200_OK) -> Response:
    review = StepReview.objects.filter(step=step).first()
    return Response(ReviewSerializer((vote_state(step), review)).data, status=code)


def _step_for_write(step_id: str) -> Step:
    return get_object_or_404(Step.objects.for_list(), pk=step_id)


class StepFeedback(APIView):
    @extend_schema(
        operation_id="steps_feedback",
        summary="Vote on a step",
        description="Sets the team's vote (`positive`, `negative`, or `clear`), recorded here and written "
        "back to Letta by the worker, retried until it lands. The answer's `write_back` says where that "
        "stands (`saving` at first); read the step again to follow it.",
        request=FeedbackInputSerializer,
        responses={200: ReviewSerializer},
    )
    def post(self, request, step_id: str):
        data = _valid(FeedbackInputSerializer, request)
        step = _step_for_write(step_id)
        value = "" if data["value"] == "clear" else data["value"]
        feedback.cast_vote(step, user=request.user, feedback=value, source="api")
        return _review_response(request, step)


class StepTags(APIView):
    @extend_schema(
        operation_id="steps_tags",
        summary="Add or remove tags",
        description="The full new tag list is written back to Letta like a vote. Letta cannot clear a "
        "tag list: removing the last tag shows in `tags_stuck_upstream`.",
        request=TagsInputSerializer,
        responses={200: ReviewSerializer},
    )
    def post(self, request, step_id: str):
        data = _valid(TagsInputSerializer, request)
        step = _step_for_write(step_id)
        current = vote_state(step).tags
        removed = set(data.get("remove", []))
        new = feedback.clean_tags([t for t in current if t not in removed] + data.get("add", []))
        if new != current:
            feedback.cast_vote(step, user=request.user, tags=new, source="api")
        return _review_response(request, step)


class StepNotes(APIView):
    @extend_schema(
        operation_id="steps_notes",
        summary="Replace the team note",
        description="A local note (never sent to Letta); an empty string clears it.",
        request=NotesInputSerializer,
        responses={200: ReviewSerializer},
    )
    def put(self, request, step_id: str):
        data = _valid(NotesInputSerializer, request)
        step = _step_for_write(step_id)
        feedback.save_note(step, user=request.user, notes=data["notes"])
        return _review_response(request, step)


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- bulk feedback on a filter -------------------------------------------------------------------


def _bulk_query(request) -> tuple[str, int]:
    """The filter (list query string without paging) and how many steps it matches now."""
    if len(request.META.get("QUERY_STRING", "")) > MAX_QUERY_CHARS:
        raise ValidationError(
            {"query": [f"This filter is too long to apply in bulk ({MAX_QUERY_CHARS} at most)."]}
        )
    form = params.list_form(request.query_params)
    query = list_query(request.query_params)
    return query, form.filter(Step.objects.all()).count()


def _batch(request, batch: FeedbackBatch) -> dict:
    progress = feedback.batch_progress(batch)
    return {
        "id": batch.pk,
        "url": request.build_absolute_uri(reverse("api:bulk-detail", args=[batch.pk])),
        "action": batch.action,
        "query": batch.params.get("query", ""),
        "total": progress["total"],
        "applied": progress["applied"],
        "done": progress["done"],
        "saving": progress["saving"],
        "failed": progress["failed"],
        "gone": progress["gone"],
        "finished": batch.finished_at is not None and progress["saving"] == 0,
    }


COUNT_MISMATCH = inline_serializer(
    "BulkCountMismatch",
    {"detail": serializers.CharField(), "count": serializers.IntegerField()},
)


class BulkFeedback(APIView):
    @extend_schema(
        operation_id="steps_bulk_feedback_count",
        summary="Count the steps a bulk vote would touch",
        description="Takes the step list's query string; answers how many steps it matches now. Send "
        "that number as `expected_count` to POST.",
        parameters=params.step_filter_parameters(),
        responses={200: BulkCountSerializer},
    )
    def get(self, request):
        query, count = _bulk_query(request)
        return Response({"count": count, "query": query})

    @extend_schema(
        operation_id="steps_bulk_feedback",
        summary="Vote on every step a filter matches",
        description="Rates every step matching the list query string, in the background, through the same "
        "outbox as single votes (each is written back to Letta). Refused with a 409 and the current count "
        "unless `expected_count` equals the number of steps the filter matches now. Follow `url` for progress.",
        parameters=params.step_filter_parameters(),
        request=BulkFeedbackInputSerializer,
        responses={202: BatchSerializer, 409: COUNT_MISMATCH},
    )
    def post(self, request):
        data = _valid(BulkFeedbackInputSerializer, request)
        query, count = _bulk_query(request)
        if count != data["expected_count"]:
            return Response(
                {
                    "detail": f"The filter matches {count} steps now, not {data['expected_count']}; "
                    "nothing was changed. Check the filter and send the new count.",
                    "count": count,
                },
                status=status.HTTP_409_CONFLICT,
            )
        value = "" if data["value"] == "clear" else data["value"]
        batch = feedback.start_bulk(user=request.user, action=data["value"], feedback=value, query=query)
        return Response(_batch(request, batch), status=status.HTTP_202_ACCEPTED)


class BulkDetail(APIView):
    @extend_schema(
        operation_id="bulk_retrieve", summary="Progress of a bulk vote", responses={200: BatchSerializer}
    )
    def get(self, request, batch_id: int):
        return Response(_batch(request, get_object_or_404(FeedbackBatch, pk=batch_id)))


# --- runs, agents, sync runs --------------------------------------------------------------------


class RunList(generics.ListAPIView):
    serializer_class = RunSerializer
    pagination_class = RunsNewestFirst

    @extend_schema(
        operation_id="runs_list",
        summary="List runs",
        description="Newest first (runs without a creation time are left out).",
        parameters=[
            params.OpenApiParameter(
                "agent",
                {"type": "string", "maxLength": 64},
                params.OpenApiParameter.QUERY,
                description="Only this agent's runs (an agent id).",
            )
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        runs = Run.objects.filter(created_at__isnull=False)
        if agent := self.request.query_params.get("agent"):
            if len(agent) > 64:
                raise ValidationError({"agent": ["An agent id has at most 64 characters."]})
            runs = runs.filter(agent_id=agent)
        return runs


class RunDetail(APIView):
    @extend_schema(
        operation_id="runs_retrieve",
        summary="One run with its steps",
        description="The run and its steps in the run's own order (as the run page shows them).",
        responses={200: RunDetailSerializer},
    )
    def get(self, request, run_id: str):
        run = Run.objects.filter(pk=run_id).first()
        steps = list(Step.objects.filter(run_id=run_id).for_list().in_run_order())
        if run is None and not steps:
            return Response({"detail": "No run with this id is mirrored."}, status=status.HTTP_404_NOT_FOUND)
        totals = Step.objects.filter(run_id=run_id).aggregate(
            steps=Count("pk"),
            failed=Count("pk", filter=Q(status="failed")),
            prompt_tokens=Sum("prompt_tokens"),
            completion_tokens=Sum("completion_tokens"),
            total_tokens=Sum("total_tokens"),
            duration_ns=Sum("duration_ns"),
        )
        context = {"request": request}
        return Response(
            {
                "id": run_id,
                "run": RunSerializer(run).data if run else None,
                "steps": StepSummarySerializer(_rows(steps), many=True, context=context).data,
                "totals": totals,
            }
        )


class AgentList(generics.ListAPIView):
    serializer_class = AgentSerializer
    pagination_class = AgentsByName
    queryset = Agent.objects.all()

    @extend_schema(operation_id="agents_list", summary="List agents", description="By name.")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class AgentDetail(generics.RetrieveAPIView):
    serializer_class = AgentSerializer
    queryset = Agent.objects.all()
    lookup_url_kwarg = "agent_id"

    @extend_schema(operation_id="agents_retrieve", summary="One agent")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SyncRunList(generics.ListAPIView):
    serializer_class = SyncRunSerializer
    pagination_class = SyncRunsNewestFirst
    queryset = SyncRun.objects.all()

    @extend_schema(operation_id="sync_runs_list", summary="List sync runs", description="Newest first.")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SyncRunDetail(generics.RetrieveAPIView):
    serializer_class = SyncRunSerializer
    queryset = SyncRun.objects.all()
    lookup_url_kwarg = "sync_run_id"

    @extend_schema(operation_id="sync_runs_retrieve", summary="One sync run")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# --- the trace diff ------------------------------------------------------------------------------

COMPARISON = inline_serializer(
    "StepComparison",
    {
        "a": serializers.CharField(help_text="Step A's id (the earlier / left side)."),
        "b": serializers.CharField(help_text="Step B's id."),
        "trace_a": serializers.IntegerField(help_text="The trace of A that was diffed, from 1; 0: none."),
        "trace_b": serializers.IntegerField(),
        "headline": serializers.ListField(child=serializers.CharField()),
        "fields": serializers.ListField(child=serializers.DictField()),
        "tokens": serializers.ListField(child=serializers.DictField()),
        "timing": serializers.ListField(child=serializers.DictField()),
        "request": serializers.DictField(help_text="steps.diff RequestDiff, compact."),
        "response": serializers.DictField(help_text="steps.diff ResponseDiff, compact."),
        "written": serializers.DictField(help_text="The messages each step wrote in Letta, aligned."),
        "breakdown": serializers.DictField(help_text="Context-window parts of both requests, with deltas."),
    },
)


class CompareSteps(APIView):
    @extend_schema(
        operation_id="compare_steps",
        summary="Diff two steps",
        description="What changed between two LLM calls, as the compare page shows it: the structured "
        "diff of their provider requests and responses (steps.diff, compact JSON: unchanged runs of "
        "messages are counted, not repeated), step fields, tokens, timing and context-window parts.",
        parameters=params.TRACE_NUMBER_PARAMETERS,
        responses={200: COMPARISON},
    )
    def get(self, request, a_id: str, b_id: str):
        params.check_trace_numbers(request.query_params)
        pair = compare.load_pair(a_id, b_id)
        if pair is None:
            return Response(
                {"detail": "One of these steps is not mirrored."}, status=status.HTTP_404_NOT_FOUND
            )
        a, b = pair
        compare.pick_trace(a, request.query_params.get("trace_a"))
        compare.pick_trace(b, request.query_params.get("trace_b"))
        c = compare.compare_steps(a, b)
        return Response(
            {
                "a": a.step.pk,
                "b": b.step.pk,
                "trace_a": a.trace_number,
                "trace_b": b.trace_number,
                "headline": c.headline,
                "fields": diff.to_dict(tuple(c.fields), compact=True),
                "tokens": diff.to_dict(c.tokens, compact=True),
                "timing": diff.to_dict(c.timing, compact=True),
                "request": diff.to_dict(c.request, compact=True),
                "response": diff.to_dict(c.response, compact=True),
                "written": diff.to_dict(c.written, compact=True),
                "breakdown": diff.to_dict(c.breakdown, compact=True),
            }
        )
