"""Data correction in the admin. Upstream-owned fields are read-only: the next sync would
overwrite an edit. Local fields (StepReview, ShareLink revocation) are editable, and every
change lands in the admin's LogEntry history with who made it."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.db import models
from django.utils.html import format_html

from . import feedback, sync
from .fields import JSONField
from .models import (
    Agent,
    ApiToken,
    FeedbackBatch,
    FeedbackPush,
    Message,
    ModelPrice,
    ProviderTrace,
    Run,
    ShareLink,
    Step,
    StepMetrics,
    StepReview,
    StepVote,
    SyncCursor,
    SyncRun,
)

# the product's name instead of "Django administration"
admin.site.site_header = admin.site.site_title = "Letta review admin"
admin.site.index_title = "Data and users"


def _all_fields(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields]


# JSON edited here (review labels) must be storable in JSONB: no NUL in any string.
SAFE_FORMFIELDS = {models.JSONField: {"form_class": JSONField}}


class SafeChangeList(ChangeList):
    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except OverflowError as error:
            # ?step_time__year=99999999999: Django's date hierarchy catches ValueError only
            raise IncorrectLookupParameters(error) from error


class SafeAdmin(admin.ModelAdmin):
    """Hand-edited admin URLs and forms get the admin's own error, never a 500."""

    formfield_overrides = SAFE_FORMFIELDS

    def get_changelist(self, request, **kwargs):
        return SafeChangeList


class ReadOnlyMirrorAdmin(SafeAdmin):
    """Mirror rows come from Letta: viewable, never added or edited by hand."""

    def get_readonly_fields(self, request, obj=None):
        return _all_fields(self.model)

    def has_add_permission(self, request):
        return False


class StepReviewInline(admin.StackedInline):
    model = StepReview
    formfield_overrides = SAFE_FORMFIELDS
    can_delete = False
    fields = ("labels", "notes", "hidden", "updated_at")
    readonly_fields = ("updated_at",)
    extra = 1
    max_num = 1


class ShareLinkInline(admin.TabularInline):
    model = ShareLink
    fk_name = "step"
    fields = ("created_by", "created_at", "expires_at", "include_traces", "revoked_at", "revoked_by")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Step)
class StepAdmin(ReadOnlyMirrorAdmin):
    list_display = (
        "id",
        "step_time",
        "status",
        "agent_id",
        "model",
        "stop_reason",
        "error_type",
        "total_tokens",
        "feedback",
        "trace_state",
        "last_synced_at",
    )
    list_filter = ("status", "stop_reason", "feedback", "provider_name", "trace_state", "step_time_source")
    search_fields = ("=id", "=run__id", "=agent_id", "model", "error_type")
    date_hierarchy = "step_time"
    list_select_related = ("review",)
    # COUNT(*) over a million rows on every changelist view is the slow part; skip it.
    show_full_result_count = False
    list_per_page = 50
    inlines = [StepReviewInline, ShareLinkInline]
    actions = ["resync_now", "push_feedback_upstream"]

    def get_queryset(self, request):
        # The changelist never shows payload; keep it out of the query.
        qs = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            qs = qs.defer("payload")
        return qs

    @admin.action(description="Re-sync selected steps now")
    def resync_now(self, request, queryset):
        step_ids = list(queryset.values_list("pk", flat=True)[:1000])
        sync.refresh_later(step_ids)
        self.message_user(request, f"Queued a re-sync of {len(step_ids)} step(s).", messages.SUCCESS)

    @admin.action(description="Push local feedback upstream")
    def push_feedback_upstream(self, request, queryset):
        # Only steps the team voted on: there is nothing of ours to send for the others.
        steps = list(queryset.filter(vote__isnull=False).defer("payload")[:1000])
        for step in steps:
            feedback.retry(step, user=request.user)
        skipped = queryset.count() - len(steps) if len(steps) < 1000 else 0
        text = f"Queued {len(steps)} step(s) for delivery to Letta."
        if skipped:
            text += f" {skipped} without a local vote were skipped."
        self.message_user(request, text, messages.SUCCESS)


@admin.register(StepReview)
class StepReviewAdmin(SafeAdmin):
    list_display = ("step", "hidden", "labels", "updated_at")
    list_filter = ("hidden",)
    search_fields = ("=step__id", "notes")
    date_hierarchy = "updated_at"
    raw_id_fields = ("step",)


@admin.register(Run)
class RunAdmin(ReadOnlyMirrorAdmin):
    list_display = ("id", "agent_id", "status", "stop_reason", "created_at", "completed_at", "last_synced_at")
    list_filter = ("status", "stop_reason")
    search_fields = ("=id", "=agent_id")
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(Message)
class MessageAdmin(ReadOnlyMirrorAdmin):
    list_display = ("message_id", "message_type", "step", "position", "tool_name", "is_err", "date")
    list_filter = ("message_type", "is_err")
    search_fields = ("=step__id", "=message_id", "tool_name")
    list_select_related = ("step",)
    date_hierarchy = "date"
    show_full_result_count = False


@admin.register(ProviderTrace)
class ProviderTraceAdmin(ReadOnlyMirrorAdmin):
    list_display = ("upstream_id", "step", "call_type", "source", "created_at")
    list_filter = ("call_type", "source")
    search_fields = ("=step__id", "=upstream_id")
    list_select_related = ("step",)
    date_hierarchy = "created_at"
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("request_json", "response_json", "payload")


@admin.register(StepMetrics)
class StepMetricsAdmin(ReadOnlyMirrorAdmin):
    list_display = ("step", "step_ns", "llm_request_ns", "tool_execution_ns", "last_synced_at")
    search_fields = ("=step__id", "=run_id", "=agent_id")
    list_select_related = ("step",)
    show_full_result_count = False


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyMirrorAdmin):
    list_display = (
        "id",
        "started_at",
        "status",
        "mode",
        "trigger",
        "steps_created",
        "steps_refreshed",
        "steps_skipped",
        "steps_reclaimed",
        "errors",
        "short_error",
    )
    list_filter = ("status", "mode", "trigger", "discovery_skipped")
    search_fields = ("error_message", "notes")
    date_hierarchy = "started_at"
    show_full_result_count = False

    @admin.display(description="error / skipped")
    def short_error(self, obj):
        # what went wrong, else what this run left to another sync or took over, and why
        return (obj.error_message or obj.notes.replace("\n", " "))[:160]


@admin.register(Agent)
class AgentAdmin(ReadOnlyMirrorAdmin):
    list_display = ("name", "id", "model", "agent_type", "tags", "created_at", "last_synced_at")
    list_filter = ("agent_type", "model", "missing_upstream")
    search_fields = ("name", "=id")
    date_hierarchy = "created_at"


@admin.register(SyncCursor)
class SyncCursorAdmin(ReadOnlyMirrorAdmin):
    list_display = ("name", "value", "lease_holder", "updated_at")
    search_fields = ("name",)


@admin.register(ShareLink)
class ShareLinkAdmin(SafeAdmin):
    list_display = ("step", "created_by", "created_at", "expires_at", "include_traces", "state", "revoked_by")
    list_filter = ("revoked_at", "expires_at")
    search_fields = ("=step__id", "created_by__username")
    list_select_related = ("step", "created_by", "revoked_by")
    date_hierarchy = "created_at"
    readonly_fields = ("step", "created_by", "created_at", "revoked_by", "public_url")
    fields = (
        "step",
        "public_url",
        "created_by",
        "created_at",
        "expires_at",
        "include_traces",
        "revoked_at",
        "revoked_by",
    )
    actions = ["revoke_links"]

    def has_add_permission(self, request):
        # Links are made from the step page, which picks a token and signs it.
        return False

    @admin.display(description="state")
    def state(self, obj):
        if obj.revoked_at:
            return "revoked"
        return "active" if obj.is_active else "expired"

    @admin.display(description="public URL")
    def public_url(self, obj):
        from django.urls import reverse

        from .pages.share import signed_token

        return format_html("<code>{}</code>", reverse("shared_step", args=[signed_token(obj)]))

    @admin.action(description="Revoke selected links")
    def revoke_links(self, request, queryset):
        from .pages.share import revoke

        links = list(queryset.filter(revoked_at__isnull=True)[:1000])
        for link in links:
            revoke(link, request.user)  # each audited, as on the step page
        self.message_user(request, f"Revoked {len(links)} link(s).", messages.SUCCESS)


class ReadMostlyAdmin(SafeAdmin):
    """The outbox and votes are written by the review UI and the worker: viewable, never
    edited by hand (an edit here would bypass the outbox and never reach Letta)."""

    def get_readonly_fields(self, request, obj=None):
        return _all_fields(self.model)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # deleting an undelivered push would silently drop a vote
        return False


@admin.register(StepVote)
class StepVoteAdmin(ReadMostlyAdmin):
    list_display = (
        "step",
        "feedback",
        "tags",
        "voted_by",
        "voted_at",
        "conflict_feedback",
        "conflict_seen_at",
    )
    list_filter = ("feedback", ("conflict_seen_at", admin.EmptyFieldListFilter), "voted_by")
    search_fields = ("=step__id", "voted_by__username")
    list_select_related = ("voted_by",)
    date_hierarchy = "voted_at"
    show_full_result_count = False


@admin.register(FeedbackPush)
class FeedbackPushAdmin(ReadMostlyAdmin):
    list_display = (
        "id",
        "step",
        "feedback",
        "status",
        "attempts",
        "source",
        "created_by",
        "created_at",
        "short_error",
    )
    list_filter = ("status", "source", "feedback")
    search_fields = ("=step__id", "created_by__username", "last_error")
    list_select_related = ("created_by",)
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="error / note")
    def short_error(self, obj):
        return (obj.last_error or obj.note)[:120]


@admin.register(FeedbackBatch)
class FeedbackBatchAdmin(ReadMostlyAdmin):
    list_display = ("id", "action", "total", "applied", "created_by", "created_at", "finished_at")
    list_filter = ("action",)
    list_select_related = ("created_by",)
    date_hierarchy = "created_at"


@admin.register(ModelPrice)
class ModelPriceAdmin(SafeAdmin):
    """Prices are ours to edit: a change shows on every page at once (costs are computed
    when shown, from the current price; see steps/cost/)."""

    list_display = (
        "model",
        "provider",
        "input_per_mtok",
        "cached_input_per_mtok",
        "output_per_mtok",
        "effective_date",
        "updated_at",
    )
    # edited right in the list; the form's validators refuse a negative price there too
    list_editable = ("input_per_mtok", "cached_input_per_mtok", "output_per_mtok", "effective_date")
    list_filter = ("provider",)
    search_fields = ("model", "provider", "notes")
    date_hierarchy = "effective_date"
    fields = (
        "model",
        "provider",
        "input_per_mtok",
        "cached_input_per_mtok",
        "output_per_mtok",
        "effective_date",
        "source",
        "notes",
        "updated_at",
    )
    readonly_fields = ("updated_at",)


@admin.register(ApiToken)
class ApiTokenAdmin(SafeAdmin):
    """Staff can see every personal API token and revoke a leaked one; keys are made on /account/tokens/."""

    list_display = ("name", "user", "key_prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "key_prefix", "user__username")
    list_select_related = ("user",)
    readonly_fields = ("user", "name", "key_prefix", "created_at", "last_used_at", "revoked_at")
    exclude = ("key_hash",)
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        tokens = list(queryset.filter(revoked_at__isnull=True).select_related("user")[:1000])
        revoked = sum(token.revoke(by=request.user) for token in tokens)  # each audited
        self.message_user(request, f"Revoked {revoked} tokens.", messages.SUCCESS)
