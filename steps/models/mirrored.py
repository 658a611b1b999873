"""The mirror of a Letta server: runs, steps, their messages, provider traces and metrics.

Every upstream object keeps its full last payload as JSON (`payload`), so a field Letta adds
tomorrow is kept and can be shown; the fields people filter or sort on are also typed,
indexed columns, kept equal to the payload by `apply_payload`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from ..ids import is_letta_id
from ..querysets import StepQuerySet

# Upstream enums (docs/letta-api.md §2.2); stored as plain strings so a new value never breaks a sync.
STEP_TERMINAL_STATUSES = ("success", "failed", "cancelled")
# Stop reasons that mean the step itself failed (the LLM call or the loop raised). Letta leaves
# `status` null on rows from before its status column (§2.1) and can leave one pending.
FAILED_STOP_REASONS = ("error", "llm_api_error")
# "deleted" is ours: a run that Letta answers 404 for is not looked at again.
RUN_DELETED = "deleted"
RUN_TERMINAL_STATUSES = ("completed", "failed", "cancelled", RUN_DELETED)


def parse_upstream_datetime(value: Any) -> datetime | None:
    """Letta mixes `...Z`, `+00:00` and naive ISO strings (run completed_at); naive means UTC."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def datetime_from_ns(value: Any) -> datetime | None:
    if not isinstance(value, int) or value <= 0:
        return None
    return datetime.fromtimestamp(value / 1e9, tz=UTC)


def _str(payload: dict, key: str, max_length: int = 255) -> str:
    value = payload.get(key)
    return str(value)[:max_length] if value is not None else ""


def _letta_id(payload: dict, key: str, prefix: str) -> str:
    """A reference to another Letta object, or "" when it does not look like a Letta id: it
    becomes a link (steps/ids.py converters), so only that shape is kept. The payload still
    holds what Letta sent."""
    value = payload.get(key)
    return value if is_letta_id(prefix, value) else ""


def _int(payload: dict, key: str) -> int | None:
    value = payload.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class MirroredModel(models.Model):
    payload = models.JSONField(default=dict, help_text="The last payload Letta returned, unmodified.")
    first_seen_at = models.DateTimeField(default=timezone.now, editable=False)
    last_synced_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True

    def apply_payload(self, payload: dict) -> bool:
        """Copy an upstream payload onto this row; return whether anything upstream changed."""
        changed = payload != self.payload
        self.payload = payload
        for field, value in self.columns_from_payload(payload).items():
            setattr(self, field, value)
        return changed

    @classmethod
    def columns_from_payload(cls, payload: dict) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def synced_fields(cls) -> list[str]:
        """What `apply_payload` plus a sync timestamp change: the update_fields of a re-sync."""
        return ["payload", "last_synced_at", *cls.columns_from_payload({}).keys()]


class Run(MirroredModel):
    """One agent invocation (GET /v1/runs/). Its created_at is the best time a step can get."""

    id = models.CharField(primary_key=True, max_length=64)
    agent_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, blank=True)
    stop_reason = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # When we last listed this run's steps while it was terminal: a run listed after it
    # finished has all its steps, so runs-mode discovery can stop looking at it.
    steps_listed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        indexes = [
            # run view and "runs of agent X" lists, newest first
            models.Index(fields=["agent_id", "-created_at"], name="steps_run_agent_created"),
            # the API's run list, newest first, cursor-paginated on (created_at, id)
            models.Index(fields=["-created_at", "-id"], name="steps_run_created"),
            # runs-mode discovery: runs whose steps may still change
            models.Index(
                fields=["status"],
                name="steps_run_open",
                condition=~Q(status__in=RUN_TERMINAL_STATUSES) | Q(steps_listed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.id

    @property
    def is_terminal(self) -> bool:
        return self.status in RUN_TERMINAL_STATUSES

    @classmethod
    def columns_from_payload(cls, payload: dict) -> dict[str, Any]:
        return {
            "agent_id": _str(payload, "agent_id", 64),
            "status": _str(payload, "status", 32),
            "stop_reason": _str(payload, "stop_reason", 64),
            "created_at": parse_upstream_datetime(payload.get("created_at")),
            "completed_at": parse_upstream_datetime(payload.get("completed_at")),
        }


class Step(MirroredModel):
    """One LLM round-trip of an agent loop (docs/letta-api.md §2.1), plus what we derive and track."""

    class TimeSource(models.TextChoices):
        METRICS = "metrics", "metrics step_start_ns"
        RUN = "run", "run created_at"
        MESSAGE = "message", "first message date"
        FIRST_SEEN = "first_seen", "first seen by the dashboard"

    class TraceState(models.TextChoices):
        UNKNOWN = "unknown", "not fetched yet"
        FOUND = "found", "recorded"
        RETRYING = "retrying", "null so far, retrying"
        ABSENT = "absent", "no trace recorded"

    id = models.CharField(primary_key=True, max_length=64)
    # No database constraint: a step can arrive before its run, and Letta nulls run_id when
    # a run is deleted (§2.1); the relation is for joins, not for integrity.
    run = models.ForeignKey(
        Run,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # served by steps_step_run_position
        related_name="steps",
    )
    agent_id = models.CharField(max_length=64, blank=True)
    origin = models.CharField(max_length=255, blank=True)
    organization_id = models.CharField(max_length=64, blank=True)
    provider_id = models.CharField(max_length=64, blank=True)
    project_id = models.CharField(max_length=64, blank=True)
    provider_name = models.CharField(max_length=64, blank=True)
    provider_category = models.CharField(max_length=32, blank=True)
    model = models.CharField(max_length=255, blank=True)
    model_handle = models.CharField(max_length=255, blank=True)
    model_endpoint = models.CharField(max_length=500, blank=True)
    context_window_limit = models.IntegerField(null=True, blank=True)
    prompt_tokens = models.IntegerField(null=True, blank=True)
    completion_tokens = models.IntegerField(null=True, blank=True)
    total_tokens = models.IntegerField(null=True, blank=True)
    cached_input_tokens = models.IntegerField(null=True, blank=True)
    cache_write_tokens = models.IntegerField(null=True, blank=True)
    reasoning_tokens = models.IntegerField(null=True, blank=True)
    # Letta's, except that a step with an error is failed (step_status)
    status = models.CharField(
        max_length=32, blank=True, help_text="Empty for legacy rows Letta stores as null."
    )
    stop_reason = models.CharField(max_length=64, blank=True)
    error_type = models.CharField(max_length=255, blank=True)
    feedback = models.CharField(max_length=16, blank=True)
    tags = models.JSONField(default=list, blank=True)
    tid = models.CharField(max_length=255, blank=True)
    trace_id = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=255, blank=True)

    # Derived: Letta's API has no step timestamp (§5), so we take the best we can get.
    step_time = models.DateTimeField(default=timezone.now)
    step_time_source = models.CharField(max_length=16, choices=TimeSource, default=TimeSource.FIRST_SEEN)
    duration_ns = models.BigIntegerField(null=True, blank=True, help_text="metrics step_ns")
    # Position in its run, from 0, in Letta's (created_at, id) order, which both step lists follow.
    # Real servers leave metrics step_start_ns null, so every step of a run gets the run's time;
    # this is what orders them (null until known: a legacy row, or a step without a run).
    run_position = models.PositiveIntegerField(null=True, blank=True, editable=False)

    # Sync bookkeeping.
    details_synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    trace_state = models.CharField(
        max_length=16, choices=TraceState, default=TraceState.UNKNOWN, editable=False
    )
    refresh_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    refresh_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    # The sync run refreshing this step right now; free once that run ends or stops beating.
    claimed_by = models.ForeignKey(
        "SyncRun",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.DO_NOTHING,  # a pruned run holds nothing
        db_constraint=False,
        db_index=False,  # claims are taken and released by primary key
        related_name="+",
    )
    last_sync_error = models.TextField(blank=True, editable=False)
    # When Letta first answered 404 for this step (deleted there; or the demo's simulator began
    # a new world). The step stays here with its vote, nothing more is sent for it, and it is no
    # review work; Letta showing it again clears the mark (apply_payload).
    gone_upstream_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = StepQuerySet.as_manager()

    class Meta:
        indexes = [
            # the step list, newest first, keyset-paginated on (step_time, id)
            models.Index(fields=["-step_time", "-id"], name="steps_step_time"),
            # list filtered by agent / run / model / status ..., default sort
            models.Index(fields=["agent_id", "-step_time", "-id"], name="steps_step_agent_time"),
            # the run page and previous/next in a run, in the run's sequence
            models.Index(fields=["run", "run_position", "id"], name="steps_step_run_position"),
            models.Index(fields=["model", "-step_time", "-id"], name="steps_step_model_time"),
            models.Index(fields=["status", "-step_time", "-id"], name="steps_step_status_time"),
            models.Index(fields=["provider_name", "-step_time", "-id"], name="steps_step_provider_time"),
            models.Index(fields=["stop_reason", "-step_time", "-id"], name="steps_step_stop_time"),
            # feedback=positive / negative, newest first: only rated steps are in it (1 % of a
            # full one's size); "no feedback" is most steps, found as fast along steps_step_time
            models.Index(
                fields=["feedback", "-step_time", "-id"],
                name="steps_step_feedback_given",
                condition=~Q(feedback=""),
            ),
            # "has error" and error_type filters, newest first: errors are rare, so a partial
            # index stays small, and an error_type filter reads it in order and keeps matches
            models.Index(
                fields=["-step_time", "-id"], name="steps_step_errors_time", condition=~Q(error_type="")
            ),
            # sort by tokens / duration with keyset pagination
            models.Index(fields=["-total_tokens", "-id"], name="steps_step_tokens"),
            models.Index(fields=["-duration_ns", "-id"], name="steps_step_duration"),
            # sync: steps whose refresh is due (pending, trace retry, approvals); a handful of rows
            models.Index(
                fields=["refresh_due_at"],
                name="steps_step_refresh_due",
                condition=Q(refresh_due_at__isnull=False),
            ),
            # sync: steps awaiting their first details (a backlog being discovered), claimed
            # in due order while discovery runs; empty once the backlog is read, so the claim
            # never walks the settle reads and retries due in the same minutes
            models.Index(
                fields=["refresh_due_at"],
                name="steps_step_undetailed_due",
                condition=Q(refresh_due_at__isnull=False, details_synced_at__isnull=True),
            ),
            # sync: runs whose steps have no position yet (rows from before positions existed)
            models.Index(
                fields=["run"],
                name="steps_step_unsequenced",
                condition=Q(run_position__isnull=True, run__isnull=False),
            ),
            # sync: rolling re-verification of the least recently synced steps
            models.Index(fields=["last_synced_at", "id"], name="steps_step_last_synced"),
            # sync: steps that carry feedback, least recently synced first, re-checked so a
            # vote cleared upstream is noticed (has_feedback=true cannot show a clear, §5)
            models.Index(
                fields=["last_synced_at"], name="steps_step_feedback_recheck", condition=~Q(feedback="")
            ),
        ]

    def __str__(self) -> str:
        return self.id

    @property
    def is_terminal(self) -> bool:
        return self.status in STEP_TERMINAL_STATUSES

    @property
    def needs_approval(self) -> bool:
        return self.stop_reason == "requires_approval"

    def apply_payload(self, payload: dict) -> bool:
        # A payload from Letta proves the step is there: a step marked gone that comes back is
        # a change to write, even when Letta sends what it sent before.
        was_gone, self.gone_upstream_at = self.gone_upstream_at is not None, None
        return super().apply_payload(payload) or was_gone

    @classmethod
    def synced_fields(cls) -> list[str]:
        return [*super().synced_fields(), "gone_upstream_at"]

    @classmethod
    def columns_from_payload(cls, payload: dict) -> dict[str, Any]:
        tags = payload.get("tags")
        return {
            # a malformed run id is dropped, the step kept: as when Letta deletes the run
            "run_id": _letta_id(payload, "run_id", "run") or None,
            # an agent id is only ever a filter value here, never a link: kept as sent
            "agent_id": _str(payload, "agent_id", 64),
            "origin": _str(payload, "origin"),
            "organization_id": _str(payload, "organization_id", 64),
            "provider_id": _str(payload, "provider_id", 64),
            "project_id": _str(payload, "project_id", 64),
            "provider_name": _str(payload, "provider_name", 64),
            "provider_category": _str(payload, "provider_category", 32),
            "model": _str(payload, "model"),
            "model_handle": _str(payload, "model_handle"),
            "model_endpoint": _str(payload, "model_endpoint", 500),
            "context_window_limit": _int(payload, "context_window_limit"),
            "prompt_tokens": _int(payload, "prompt_tokens"),
            "completion_tokens": _int(payload, "completion_tokens"),
            "total_tokens": _int(payload, "total_tokens"),
            "cached_input_tokens": _int(payload, "cached_input_tokens"),
            "cache_write_tokens": _int(payload, "cache_write_tokens"),
            "reasoning_tokens": _int(payload, "reasoning_tokens"),
            "status": step_status(payload),
            "stop_reason": _str(payload, "stop_reason", 64),
            "error_type": _str(payload, "error_type"),
            "feedback": _str(payload, "feedback", 16),
            "tags": [str(t) for t in tags] if isinstance(tags, list) else [],
            "tid": _str(payload, "tid"),
            "trace_id": _str(payload, "trace_id", 64),
            "request_id": _str(payload, "request_id"),
        }

    @property
    def error_data(self) -> dict | None:
        data = self.payload.get("error_data")
        return data if isinstance(data, dict) else None

    def derive_time(
        self, *, metrics: StepMetrics | None, run: Run | None, first_message_date: datetime | None
    ):
        """Pick the best available step time, in order of how close it is to Letta's created_at."""
        candidates = [
            (metrics and datetime_from_ns(metrics.step_start_ns), self.TimeSource.METRICS),
            (run and run.created_at, self.TimeSource.RUN),
            (first_message_date, self.TimeSource.MESSAGE),
        ]
        for when, source in candidates:
            if when:
                if source != self.TimeSource.METRICS:
                    when += self.sequence_offset()
                self.step_time, self.step_time_source = when, source
                return
        self.step_time, self.step_time_source = self.first_seen_at, self.TimeSource.FIRST_SEEN

    def sequence_offset(self) -> timedelta:
        """Steps that share their run's time (or a whole-second message date) are that many
        microseconds apart in their run's order: every time-ordered list and keyset then keeps
        the run's sequence, with no second sort column. Invisible at the milliseconds shown."""
        return timedelta(microseconds=self.run_position or 0)

    def place_in_run(self, position: int) -> None:
        """Set the step's run position; a time taken from the run or a message moves with it."""
        if self.step_time_source != self.TimeSource.METRICS:
            self.step_time += timedelta(microseconds=position - (self.run_position or 0))
        self.run_position = position


def step_status(payload: dict) -> str:
    """The status the list shows, filters and counts: Letta's, but "failed" for a step that
    carries an error (an error type, or an error stop reason) whatever Letta says, unless it
    was cancelled. Legacy rows have no status at all, and the list would call them unknown
    while "Status: failed" left them out."""
    status = _str(payload, "status", 32)
    errored = bool(payload.get("error_type")) or payload.get("stop_reason") in FAILED_STOP_REASONS
    return "failed" if errored and status != "cancelled" else status


class StepMetrics(MirroredModel):
    """GET /v1/steps/{id}/metrics (§1.3); 404 upstream for steps of legacy agent loops."""

    step = models.OneToOneField(Step, primary_key=True, on_delete=models.CASCADE, related_name="metrics")
    run_id = models.CharField(max_length=64, blank=True)
    agent_id = models.CharField(max_length=64, blank=True)
    provider_id = models.CharField(max_length=64, blank=True)
    project_id = models.CharField(max_length=64, blank=True)
    step_start_ns = models.BigIntegerField(null=True, blank=True)
    llm_request_start_ns = models.BigIntegerField(null=True, blank=True)
    llm_request_ns = models.BigIntegerField(null=True, blank=True)
    tool_execution_ns = models.BigIntegerField(null=True, blank=True)
    step_ns = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "step metrics"

    def __str__(self) -> str:
        return f"metrics of {self.step_id}"

    @classmethod
    def columns_from_payload(cls, payload: dict) -> dict[str, Any]:
        return {
            "run_id": _str(payload, "run_id", 64),
            "agent_id": _str(payload, "agent_id", 64),
            "provider_id": _str(payload, "provider_id", 64),
            "project_id": _str(payload, "project_id", 64),
            "step_start_ns": _int(payload, "step_start_ns"),
            "llm_request_start_ns": _int(payload, "llm_request_start_ns"),
            "llm_request_ns": _int(payload, "llm_request_ns"),
            "tool_execution_ns": _int(payload, "tool_execution_ns"),
            "step_ns": _int(payload, "step_ns"),
        }


class Message(MirroredModel):
    """One item of GET /v1/steps/{id}/messages (§1.6, §2.3).

    Items produced from one internal message share `message_id`; `item_key` (the otid, else
    the message type) tells them apart. `position` is the natural order: Letta returns each
    group reversed, and the sync restores it.
    """

    # db_index off: the unique constraint starts with step
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="messages", db_index=False)
    message_id = models.CharField(max_length=64)
    item_key = models.CharField(max_length=64)
    position = models.PositiveIntegerField()
    message_type = models.CharField(max_length=64)
    date = models.DateTimeField(null=True, blank=True)
    name = models.CharField(max_length=255, blank=True)
    otid = models.CharField(max_length=64, blank=True)
    run_id = models.CharField(max_length=64, blank=True)
    is_err = models.BooleanField(default=False)
    tool_name = models.CharField(max_length=255, blank=True)
    tool_call_id = models.CharField(max_length=255, blank=True)
    text = models.TextField(blank=True, help_text="Readable text of the item, for search and previews.")

    class Meta:
        ordering = ["step", "position"]
        constraints = [
            # re-syncing a step's messages updates items in place, never duplicates them
            models.UniqueConstraint(
                fields=["step", "message_id", "item_key"], name="steps_message_item_unique"
            ),
        ]
        # A step's messages (the step page, compare, search's per-step check) are found by
        # steps_message_item_unique, which starts with step; the few per step sort in memory.
        indexes = [
            # "steps that used tool X" filter, and the tool facet's recount
            models.Index(fields=["tool_name", "step"], name="steps_message_tool", condition=~Q(tool_name="")),
        ]

    def __str__(self) -> str:
        return f"{self.message_type} {self.message_id}"

    @classmethod
    def columns_from_payload(cls, payload: dict) -> dict[str, Any]:
        from ..messages import message_text, message_tool

        tool_name, tool_call_id = message_tool(payload)
        return {
            "message_id": _str(payload, "id", 64),
            "item_key": message_item_key(payload),
            "message_type": _str(payload, "message_type", 64),
            "date": parse_upstream_datetime(payload.get("date")),
            "name": _str(payload, "name"),
            "otid": _str(payload, "otid", 64),
            "run_id": _str(payload, "run_id", 64),
            "is_err": payload.get("is_err") is True,
            "tool_name": tool_name[:255],
            "tool_call_id": tool_call_id[:255],
            "text": message_text(payload),
        }


def message_item_key(payload: dict) -> str:
    # docs/letta-api.md §2.3: (id, otid) when otid is set, else (id, message_type)
    return str(payload.get("otid") or payload.get("message_type") or "")[:64]


class ProviderTrace(MirroredModel):
    """GET /v1/steps/{id}/trace (§1.4, §2.5). A step can have several (summarization, retries);
    Letta shows one at a time, so every distinct one we observe is kept."""

    # db_index off: steps_providertrace_unique starts with step
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="traces", db_index=False)
    upstream_id = models.CharField(max_length=128, help_text="Letta's id, else a hash of the content.")
    call_type = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    request_json = models.JSONField(default=dict)
    response_json = models.JSONField(default=dict)

    class Meta:
        constraints = [
            # the sync's upsert, and a step's traces (the step page's tabs, search's per-step
            # check): one or two per step, sorted by created_at in memory
            models.UniqueConstraint(fields=["step", "upstream_id"], name="steps_providertrace_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.call_type or 'trace'} {self.upstream_id}"

    # The provider request and response are most of a trace's bytes; they live in their own
    # columns, and `payload` keeps every other field, so nothing is stored twice.
    BULKY_FIELDS = ("request_json", "response_json")

    def apply_payload(self, payload: dict) -> bool:
        changed = payload != self.upstream_payload
        self.payload = {k: v for k, v in payload.items() if k not in self.BULKY_FIELDS}
        for field, value in self.columns_from_payload(payload).items():
            setattr(self, field, value)
        return changed

    @property
    def origin(self) -> list[tuple[str, str]]:
        """Who answered this call, as (label, value) pairs from the trace's own fields.

        Letta's `source` is the server's telemetry name and is null on a plain self-hosted server
        (docs/letta-api.md §2.5), so the provider and model come from the call's llm_config (a
        summarization call names its model in compaction_settings). None of these on a trace from
        Letta's ClickHouse backend: then nothing.
        """
        payload = self.payload if isinstance(self.payload, dict) else {}

        def text(obj: Any, *keys: str) -> str:
            obj = obj if isinstance(obj, dict) else {}
            return next((v for k in keys if isinstance(v := obj.get(k), str) and v.strip()), "")

        config, compaction = payload.get("llm_config"), payload.get("compaction_settings")
        found = [
            ("provider", text(config, "provider_name", "model_endpoint_type")),
            ("model", text(config, "handle", "model") or text(compaction, "model")),
            ("source", self.source),
        ]
        return [(label, value) for label, value in found if value]

    @property
    def upstream_payload(self) -> dict:
        """The trace exactly as Letta returned it."""
        if not self.payload:
            return {}
        return {**self.payload, "request_json": self.request_json, "response_json": self.response_json}

    @classmethod
    def columns_from_payload(cls, payload: dict) -> dict[str, Any]:
        request_json = payload.get("request_json")
        response_json = payload.get("response_json")
        return {
            "call_type": _str(payload, "call_type", 64),
            "source": _str(payload, "source"),
            "created_at": parse_upstream_datetime(payload.get("created_at")),
            "request_json": request_json if request_json is not None else {},
            "response_json": response_json if response_json is not None else {},
        }
