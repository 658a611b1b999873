"""What the views, rules and alerts endpoints return and take, for DRF and the OpenAPI schema.

Input is validated by the pages' forms (steps/alerts/forms.py); the input serializers here only
describe it. A destination's URL is write-only: answers carry its masked form.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from . import evaluation
from .evaluation import MAX_WINDOW_MINUTES
from .models import Alert, AlertEvent, Notification, Rule

DESTINATION_HELP = (
    "An apprise URL (json://host:port/path, an http(s):// webhook, slack://…, msteams://…, discord://…, "
    "mailto://…). Write-only: stored encrypted, answered masked (`destination`)."
)


class SavedViewSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="view.pk")
    name = serializers.CharField(source="view.name")
    query = serializers.CharField(source="view.query", help_text="The list's query string.")
    shared = serializers.BooleanField(source="view.shared")
    owner = serializers.CharField(source="view.owner.get_username")
    url = serializers.CharField(source="view.url", help_text="The step list with this view's query.")
    new = serializers.IntegerField(
        allow_null=True,
        help_text="Steps matching the view since you last opened it, counted up to 100; null: not counted.",
    )
    is_default = serializers.BooleanField(help_text="The view opened when you sign in.")


class SavedViewInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    query = serializers.CharField(required=False, allow_blank=True, help_text="The list's query string.")
    shared = serializers.BooleanField(required=False, help_text="Shared with the team: managers only.")
    is_default = serializers.BooleanField(required=False, help_text="Open it when I sign in.")


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "title", "status", "attempts", "created_at", "sent_at", "not_before", "last_error"]


class RuleSerializer(serializers.ModelSerializer):
    view = serializers.PrimaryKeyRelatedField(read_only=True)
    view_name = serializers.CharField(source="view.name")
    queue = serializers.PrimaryKeyRelatedField(
        read_only=True, help_text="For `queue`: the review queue's id (null once it is deleted)."
    )
    destination = serializers.SerializerMethodField(help_text="The destination URL, masked.")
    notifications = serializers.SerializerMethodField()

    class Meta:
        model = Rule
        fields = [
            "id",
            "name",
            "view",
            "view_name",
            "action",
            "tags",
            "queue",
            "destination",
            "enabled",
            "last_fired_at",
            "fired_steps",
            "fired_batches",
            "notifications",
        ]

    @extend_schema_field(OpenApiTypes.STR)
    def get_destination(self, rule: Rule) -> str | None:
        return rule.destination.display if rule.destination_id else None

    @extend_schema_field(NotificationSerializer(many=True))
    def get_notifications(self, rule: Rule) -> list[dict]:
        return NotificationSerializer(rule.notifications.order_by("-id")[:10], many=True).data


class RuleInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    view = serializers.IntegerField(help_text="A saved view's id: the steps the rule acts on.")
    action = serializers.ChoiceField(choices=Rule.Action.choices)
    tags = serializers.ListField(child=serializers.CharField(), required=False, help_text="For `tag`.")
    queue = serializers.IntegerField(
        required=False, help_text="For `queue`: an open single-step review queue's id (`/api/v1/queues/`)."
    )
    destination = serializers.CharField(required=False, help_text=DESTINATION_HELP)
    enabled = serializers.BooleanField(required=False, default=True)


class AlertEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AlertEvent
        fields = ["kind", "at", "value", "previous_value", "threshold", "steps", "window_start", "window_end"]
        fields += ["text", "link"]


class AlertSerializer(serializers.ModelSerializer):
    destination = serializers.CharField(
        source="destination.display", help_text="The destination URL, masked."
    )
    events = serializers.SerializerMethodField(help_text="The newest firing and resolved events.")
    notifications = serializers.SerializerMethodField(
        help_text="The newest notifications and their delivery."
    )
    evaluate_url = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        fields = [
            "id",
            "name",
            "query",
            "series",
            "condition",
            "threshold",
            "window_minutes",
            "min_steps",
            "destination",
            "enabled",
            "state",
            "state_since",
            "last_value",
            "last_evaluated_at",
            "events",
            "notifications",
            "evaluate_url",
        ]

    @extend_schema_field(AlertEventSerializer(many=True))
    def get_events(self, alert: Alert) -> list[dict]:
        if self.context.get("brief"):
            return []
        return AlertEventSerializer(alert.events.order_by("-at", "-id")[:20], many=True).data

    @extend_schema_field(NotificationSerializer(many=True))
    def get_notifications(self, alert: Alert) -> list[dict]:
        if self.context.get("brief"):
            return []
        return NotificationSerializer(alert.notifications.order_by("-id")[:10], many=True).data

    @extend_schema_field(OpenApiTypes.STR)
    def get_evaluate_url(self, alert: Alert) -> str:
        return reverse("api:alert-evaluate", args=[alert.pk])


class AlertInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    query = serializers.CharField(
        allow_blank=True,
        help_text="The step list's query string; only filters the rollups answer (agent, model, provider, "
        "status, error_type, has_error, hidden). Time filters are dropped: the window says the time.",
    )
    series = serializers.ChoiceField(choices=Alert.Series.choices)
    condition = serializers.ChoiceField(choices=Alert.Condition.choices)
    threshold = serializers.FloatField(
        help_text="A fraction for rates (0.2 = 20%), ms for p95_duration, USD per hour for cost, a count "
        "for steps; the factor N (> 1) for rise and fall."
    )
    window_minutes = serializers.IntegerField(
        min_value=1,
        max_value=MAX_WINDOW_MINUTES,
        help_text="15 (or fewer) to 1440. The rollups are hourly: a window reads the whole hours it "
        "overlaps, up to now (15 min at 10:20 is 10:00–10:20; at 10:05, 09:00–10:05).",
    )
    min_steps = serializers.IntegerField(
        required=False, min_value=1, help_text="Fewer steps in the window: no figure (default 1)."
    )
    destination = serializers.CharField(help_text=DESTINATION_HELP)
    enabled = serializers.BooleanField(required=False, default=True)


class EvaluationSerializer(serializers.Serializer):
    state = serializers.CharField(source="alert.state")
    value = serializers.FloatField(source="figure.value", allow_null=True)
    value_text = serializers.SerializerMethodField()
    steps = serializers.IntegerField(source="figure.steps")
    changed = serializers.SerializerMethodField(help_text="firing, resolved, or null (no change).")
    event = AlertEventSerializer(allow_null=True)

    @extend_schema_field(OpenApiTypes.STR)
    def get_value_text(self, outcome) -> str:
        return evaluation.show(outcome.alert.series, outcome.figure.value)

    @extend_schema_field(OpenApiTypes.STR)
    def get_changed(self, outcome) -> str | None:
        return outcome.event.kind if outcome.event else None
