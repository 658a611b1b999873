"""What the API returns, as DRF serializers: they turn objects into JSON and describe it to drf-spectacular.

Read-only views of objects the views gather in a fixed number of queries (rows carry `vs`, the
VoteState, `preview` and `agent_record`, as on the list page); write serializers validate input
before it reaches steps/feedback/.
"""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Agent, FeedbackPush, Run, StepMetrics, SyncRun
from ..models.api_tokens import ApiToken

FEEDBACK_ENUM = ["", "positive", "negative"]
WRITE_BACK_ENUM = ["", "saving", "retrying", "saved", "failed", "conflict", "gone"]
ENTRY_KINDS = [
    "user",
    "system",
    "assistant",
    "reasoning",
    "hidden_reasoning",
    "tool_call",
    "tool_return",
    "approval",
    "event",
    "unknown",
]


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="One sentence saying what went wrong.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="For a 400: each invalid field or query parameter and why.",
    )


# --- review state ----------------------------------------------------------------------------


class PushSerializer(serializers.Serializer):
    """The newest outbox row of a step: how its last vote or tag change is being written to Letta."""

    id = serializers.IntegerField()
    feedback = serializers.ChoiceField(choices=FEEDBACK_ENUM)
    tags = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="The tags sent; null: none sent, the vote left Letta's tags as they were.",
    )
    status = serializers.ChoiceField(choices=FeedbackPush.Status.values)
    attempts = serializers.IntegerField()
    last_error = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True, help_text="What Letta could not take, e.g. a tag removal.")
    created_at = serializers.DateTimeField()
    done_at = serializers.DateTimeField(allow_null=True)
    source = serializers.CharField()


class LettaVoteSerializer(serializers.Serializer):
    feedback = serializers.ChoiceField(choices=FEEDBACK_ENUM)
    tags = serializers.ListField(child=serializers.CharField())


class ConflictSerializer(LettaVoteSerializer):
    seen_at = serializers.DateTimeField()


class ReviewSerializer(serializers.Serializer):
    """A step's review state; built from a VoteState (`vs`) and the step's StepReview (`review`)."""

    feedback = serializers.ChoiceField(
        choices=FEEDBACK_ENUM, help_text="The team's vote (ours when we voted, else what Letta holds)."
    )
    tags = serializers.ListField(child=serializers.CharField())
    write_back = serializers.ChoiceField(
        choices=WRITE_BACK_ENUM,
        help_text='Write-back to Letta: "" never written here, saving, retrying (Letta unreachable), '
        "saved, failed (see push.last_error), conflict (someone changed it in Letta; see conflict) or "
        "gone (the step was deleted in Letta: the vote is kept here but cannot be sent).",
    )
    push = PushSerializer(allow_null=True)
    letta = LettaVoteSerializer(help_text="What the mirror last read from Letta.")
    conflict = ConflictSerializer(allow_null=True)
    voted_by = serializers.CharField(allow_null=True)
    voted_at = serializers.DateTimeField(allow_null=True)
    tags_stuck_upstream = serializers.ListField(
        child=serializers.CharField(),
        help_text="Tags Letta keeps although removed here: its API cannot clear tags.",
    )
    notes = serializers.CharField(allow_blank=True)
    labels = serializers.ListField(child=serializers.CharField())
    hidden = serializers.BooleanField(help_text="Archived: left out of lists unless hidden=1.")

    def to_representation(self, instance):
        vs, review = instance
        vote, push, step = vs.vote, vs.push, vs.step
        return {
            "feedback": vs.feedback,
            "tags": vs.tags,
            "write_back": vs.state,
            "push": _push(push),
            "letta": {"feedback": step.feedback or "", "tags": list(step.tags or [])},
            "conflict": {
                "feedback": vote.conflict_feedback,
                "tags": list(vote.conflict_tags or []),
                "seen_at": vote.conflict_seen_at,
            }
            if vs.conflict
            else None,
            "voted_by": vote.voted_by.get_username() if vote and vote.voted_by else None,
            "voted_at": vote.voted_at if vote else None,
            "tags_stuck_upstream": vs.tags_stuck_upstream,
            "notes": review.notes if review else "",
            "labels": [str(label) for label in (review.labels if review else [])],
            "hidden": bool(review and review.hidden),
        }


def _push(push):
    if push is None:
        return None
    fields = ("id", "feedback", "tags", "status", "attempts", "last_error", "note", "created_at", "done_at")
    return {**{f: getattr(push, f) for f in fields}, "source": push.source}


class ListReviewSerializer(serializers.Serializer):
    """The review state a list row carries: the vote and its write-back state."""

    feedback = serializers.ChoiceField(choices=FEEDBACK_ENUM)
    tags = serializers.ListField(child=serializers.CharField())
    write_back = serializers.ChoiceField(choices=WRITE_BACK_ENUM)

    def to_representation(self, vs):
        return {"feedback": vs.feedback, "tags": vs.tags, "write_back": vs.state}


# --- steps ------------------------------------------------------------------------------------


class PreviewSerializer(serializers.Serializer):
    user = serializers.CharField(allow_blank=True, help_text="The first user text (240 characters).")
    assistant = serializers.CharField(allow_blank=True, help_text="The reply (240 characters).")
    tools = serializers.ListField(child=serializers.CharField())


class StepSummarySerializer(serializers.Serializer):
    """One row of the step list."""

    id = serializers.CharField()
    url = serializers.SerializerMethodField()
    run_id = serializers.CharField(allow_null=True)
    agent_id = serializers.CharField(allow_blank=True)
    agent_name = serializers.SerializerMethodField()
    model = serializers.CharField(allow_blank=True)
    provider_name = serializers.CharField(allow_blank=True)
    status = serializers.CharField(
        allow_blank=True, help_text="success, failed, pending, cancelled or empty."
    )
    stop_reason = serializers.CharField(allow_blank=True)
    error_type = serializers.CharField(allow_blank=True)
    prompt_tokens = serializers.IntegerField(allow_null=True)
    completion_tokens = serializers.IntegerField(allow_null=True)
    total_tokens = serializers.IntegerField(allow_null=True)
    duration_ns = serializers.IntegerField(allow_null=True)
    step_time = serializers.DateTimeField()
    step_time_source = serializers.CharField(
        help_text="Where step_time comes from: metrics, run, message, first_seen."
    )
    run_position = serializers.IntegerField(allow_null=True, help_text="Position in its run, from 0.")
    gone_upstream_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When Letta first answered 404 for this step (deleted there); null while Letta has it.",
    )
    review = ListReviewSerializer(source="vs")
    preview = PreviewSerializer()

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, step) -> str:
        request = self.context.get("request")
        path = f"/api/v1/steps/{step.pk}/"
        return request.build_absolute_uri(path) if request else path

    def get_agent_name(self, step) -> str:
        record = getattr(step, "agent_record", None)
        return record.name if record else ""


class StepPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page, or null on the last one.")
    results = StepSummarySerializer(many=True)


class MetricsSerializer(serializers.ModelSerializer):
    class Meta:
        model = StepMetrics
        fields = ["step_start_ns", "llm_request_start_ns", "llm_request_ns", "tool_execution_ns", "step_ns"]


class ToolCallSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    id = serializers.CharField(allow_blank=True)
    arguments = serializers.CharField(allow_blank=True, help_text="Pretty-printed JSON when it parses.")


class EntrySerializer(serializers.Serializer):
    """A message as the step page shows it (steps/pages/timeline.py)."""

    kind = serializers.ChoiceField(choices=ENTRY_KINDS)
    label = serializers.CharField()
    is_err = serializers.BooleanField()
    text = serializers.CharField(allow_blank=True)
    calls = ToolCallSerializer(many=True)
    status = serializers.CharField(allow_blank=True)
    stdout = serializers.ListField(child=serializers.CharField())
    stderr = serializers.ListField(child=serializers.CharField())
    images = serializers.ListField(child=serializers.DictField())
    event = serializers.DictField(allow_null=True)
    name = serializers.CharField(allow_blank=True)
    approvals = serializers.ListField(child=serializers.DictField())

    def to_representation(self, entry):
        data = asdict(entry)
        data.pop("date", None)
        return data


class MessageSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    message_id = serializers.CharField()
    message_type = serializers.CharField()
    date = serializers.DateTimeField(allow_null=True)
    entry = EntrySerializer(help_text="The message as the step page renders it.")
    payload = serializers.DictField(help_text="The message item exactly as Letta returned it.")

    def to_representation(self, pair):
        message, entry = pair
        return {
            "position": message.position,
            "message_id": message.message_id,
            "message_type": message.message_type,
            "date": serializers.DateTimeField().to_representation(message.date) if message.date else None,
            "entry": EntrySerializer(entry).data,
            "payload": message.payload,
        }


class TraceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    upstream_id = serializers.CharField()
    call_type = serializers.CharField(allow_blank=True)
    source = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField(allow_null=True)
    request_json = serializers.JSONField(required=False, help_text="Left out with traces=summary.")
    response_json = serializers.JSONField(required=False, help_text="Left out with traces=summary.")

    def to_representation(self, trace):
        data = {
            "id": trace.pk,
            "upstream_id": trace.upstream_id,
            "call_type": trace.call_type,
            "source": trace.source,
            "created_at": serializers.DateTimeField().to_representation(trace.created_at)
            if trace.created_at
            else None,
        }
        if self.context.get("trace_bodies", True):
            data["request_json"], data["response_json"] = trace.request_json, trace.response_json
        return data


class StepDetailSerializer(StepSummarySerializer):
    """One step with everything the step page shows."""

    review = ReviewSerializer(source="review_state")
    origin = serializers.CharField(allow_blank=True)
    provider_category = serializers.CharField(allow_blank=True)
    model_handle = serializers.CharField(allow_blank=True)
    model_endpoint = serializers.CharField(allow_blank=True)
    context_window_limit = serializers.IntegerField(allow_null=True)
    cached_input_tokens = serializers.IntegerField(allow_null=True)
    cache_write_tokens = serializers.IntegerField(allow_null=True)
    reasoning_tokens = serializers.IntegerField(allow_null=True)
    trace_id = serializers.CharField(allow_blank=True)
    request_id = serializers.CharField(allow_blank=True)
    trace_state = serializers.ChoiceField(choices=["unknown", "found", "retrying", "absent"])
    error = serializers.DictField(source="error_data", allow_null=True, help_text="Letta's error_data.")
    first_seen_at = serializers.DateTimeField()
    last_synced_at = serializers.DateTimeField()
    metrics = MetricsSerializer(source="metrics_or_none", allow_null=True)
    messages = MessageSerializer(source="timeline_pairs", many=True, help_text="In the step page's order.")
    traces = TraceSerializer(
        source="trace_list", many=True, required=False, help_text="Left out with traces=none."
    )
    payload = serializers.DictField(help_text="The step exactly as Letta last returned it.")

    def to_representation(self, step):
        data = super().to_representation(step)
        if self.context.get("traces") == "none":
            data.pop("traces")
        return data


# --- runs, agents, sync runs -------------------------------------------------------------------


class RunSerializer(serializers.ModelSerializer):
    class Meta:
        model = Run
        fields = ["id", "agent_id", "status", "stop_reason", "created_at", "completed_at", "first_seen_at"]


class RunTotalsSerializer(serializers.Serializer):
    steps = serializers.IntegerField()
    failed = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField(allow_null=True)
    completion_tokens = serializers.IntegerField(allow_null=True)
    total_tokens = serializers.IntegerField(allow_null=True)
    duration_ns = serializers.IntegerField(allow_null=True)


class RunDetailSerializer(serializers.Serializer):
    id = serializers.CharField()
    run = RunSerializer(
        allow_null=True, help_text="Null when the run itself is not mirrored (only its steps)."
    )
    steps = StepSummarySerializer(many=True, help_text="In the run's own order.")
    totals = RunTotalsSerializer()


class AgentSerializer(serializers.ModelSerializer):
    tags = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Agent
        fields = [
            "id",
            "name",
            "agent_type",
            "model",
            "description",
            "tags",
            "created_at",
            "missing_upstream",
        ]


class SyncRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncRun
        fields = [
            "id",
            "started_at",
            "finished_at",
            "heartbeat_at",
            "status",
            "trigger",
            "mode",
            "pages",
            "requests",
            "steps_created",
            "steps_updated",
            "steps_refreshed",
            "runs_seen",
            "errors",
            "error_message",
            "discovery_skipped",
            "steps_skipped",
            "steps_reclaimed",
            "notes",
        ]


# --- writes -------------------------------------------------------------------------------------


class FeedbackInputSerializer(serializers.Serializer):
    value = serializers.ChoiceField(choices=["positive", "negative", "clear"])


class TagsInputSerializer(serializers.Serializer):
    add = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=50)
    remove = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=50)

    def validate(self, attrs):
        if not attrs.get("add") and not attrs.get("remove"):
            raise serializers.ValidationError("Nothing to change: give add and/or remove.")
        return attrs


class NotesInputSerializer(serializers.Serializer):
    notes = serializers.CharField(allow_blank=True, max_length=20_000, trim_whitespace=True)


class BulkFeedbackInputSerializer(serializers.Serializer):
    value = serializers.ChoiceField(choices=["positive", "negative", "clear"])
    expected_count = serializers.IntegerField(
        min_value=0,
        max_value=2**31 - 1,
        help_text="How many steps you expect the filter to match (from a dry run, or count in "
        "GET /api/v1/steps/bulk-feedback). The request is refused with a 409 when the filter now matches "
        "a different number, so a typo in the filter never rates the whole mirror.",
    )


class BulkCountSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Steps the filter matches now.")
    query = serializers.CharField(allow_blank=True, help_text="The filter, as the list page's query string.")


class BatchSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    action = serializers.CharField()
    query = serializers.CharField(allow_blank=True)
    total = serializers.IntegerField()
    applied = serializers.IntegerField(help_text="Steps whose vote is recorded here (and queued for Letta).")
    done = serializers.IntegerField(help_text="Votes written to Letta.")
    saving = serializers.IntegerField(help_text="Votes waiting to be written to Letta.")
    failed = serializers.IntegerField(help_text="Votes Letta refused or that conflict with someone else's.")
    gone = serializers.IntegerField(help_text="Votes kept here whose step was deleted in Letta: never sent.")
    finished = serializers.BooleanField()


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "key_prefix", "created_at", "last_used_at"]
