"""Saved views, rules on new steps, alerts on the overview's series, and their notifications.

A saved view is a name for the step list's query string. Rules act on steps the sync brings in
that match a view; alerts watch a series of the rollups for a query. Both notify through a
Destination (an apprise URL, stored encrypted) by writing a Notification (the outbox) in the
transaction that decided it, delivered by a Celery task with retries and a sweep behind it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from . import secret_url

USER = settings.AUTH_USER_MODEL


class SavedView(models.Model):
    """A name for the list's current query string (filters and sort): personal, or shared with
    the team (managers only)."""

    owner = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    query = models.CharField(max_length=4000, blank=True, help_text="The list's query string.")
    shared = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="alerts_view_owner_name")]
        indexes = [
            # the sidebar: the team's shared views by name (the owner's come from the unique index)
            models.Index(fields=["name"], name="alerts_view_shared", condition=Q(shared=True)),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def url(self) -> str:
        return f"/?{self.query}" if self.query else "/"


class ViewVisit(models.Model):
    """When a user last opened a view: its "12 new" counts steps after this."""

    view = models.ForeignKey(SavedView, on_delete=models.CASCADE, related_name="visits")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["view", "user"], name="alerts_visit_view_user")]

    def __str__(self) -> str:
        return f"{self.view_id} opened {self.opened_at:%Y-%m-%d %H:%M}"


class ViewPreference(models.Model):
    """A user's default view, opened on sign-in."""

    user = models.OneToOneField(USER, primary_key=True, on_delete=models.CASCADE, related_name="+")
    default_view = models.ForeignKey(SavedView, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return f"default view {self.default_view_id}"


class Destination(models.Model):
    """Where notifications go: an apprise URL (Slack, Teams, Discord, email, a JSON webhook ...),
    stored encrypted and shown masked (steps/alerts/secret_url.py)."""

    name = models.CharField(max_length=100, blank=True)
    url_encrypted = models.TextField(editable=False)
    # the same URL given twice is one destination, found without decrypting
    fingerprint = models.CharField(max_length=64, unique=True, editable=False)
    display = models.CharField(max_length=300, editable=False, help_text="The URL, masked.")
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name or self.display

    @classmethod
    def for_url(cls, url: str, *, user=None, name: str = "") -> Destination:
        destination, _ = cls.objects.get_or_create(
            fingerprint=secret_url.fingerprint(url),
            defaults={
                "url_encrypted": secret_url.encrypt(url),
                "display": secret_url.mask(url),
                "created_by": user,
                "name": name,
            },
        )
        return destination

    @property
    def url(self) -> str:
        """The URL in clear: for delivery only, never for a page, an answer or a log."""
        return secret_url.decrypt(self.url_encrypted)


class Rule(models.Model):
    """When a newly synced step matches `view`, do `action` (once per step)."""

    class Action(models.TextChoices):
        TAG = "tag", "add tags (here and in Letta)"
        NOTIFY = "notify", "send a notification"
        QUEUE = "queue", "add to a review queue"

    name = models.CharField(max_length=100)
    view = models.ForeignKey(SavedView, on_delete=models.CASCADE, related_name="rules")
    action = models.CharField(max_length=16, choices=Action)
    tags = models.JSONField(default=list, blank=True)
    destination = models.ForeignKey(
        Destination, null=True, blank=True, on_delete=models.PROTECT, related_name="rules"
    )
    # "queue": the (single-step) review queue the matching steps join; a deleted queue leaves the
    # rule doing nothing, shown on the rules page, rather than deleting the rule with it
    queue = models.ForeignKey(
        "review.Queue", null=True, blank=True, on_delete=models.SET_NULL, related_name="rules"
    )
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    fired_steps = models.PositiveIntegerField(default=0, help_text="Steps it acted on, in all.")
    fired_batches = models.PositiveIntegerField(default=0, help_text="Sync batches it acted in.")

    class Meta:
        indexes = [models.Index(fields=["name"], name="alerts_rule_enabled", condition=Q(enabled=True))]

    def __str__(self) -> str:
        return self.name


class RuleFiring(models.Model):
    """A rule acted on a step: inserted with ON CONFLICT DO NOTHING, so a re-synced step never
    fires twice (the insert's RETURNING says which steps are new to the rule)."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="firings")
    step = models.ForeignKey("steps.Step", on_delete=models.CASCADE, related_name="+")
    fired_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "step"], name="alerts_firing_rule_step")]
        # retention deletes a step's firings by step id
        indexes = [models.Index(fields=["step"], name="alerts_firing_step")]

    def __str__(self) -> str:
        return f"rule {self.rule_id} on {self.step_id}"


class Alert(models.Model):
    """A series of the rollups for a list query, checked against a condition over a window."""

    class Series(models.TextChoices):
        ERROR_RATE = "error_rate", "error rate"
        NEGATIVE_SHARE = "negative_share", "👎 share"
        STEPS = "steps", "step count"
        P95_DURATION = "p95_duration", "p95 step duration (ms)"
        COST = "cost", "cost per hour (USD)"

    class Condition(models.TextChoices):
        ABOVE = "above", "above"
        BELOW = "below", "below"
        RISE = "rise", "rises ×N against the previous window"
        FALL = "fall", "falls ÷N against the previous window"

    class State(models.TextChoices):
        OK = "ok", "ok"
        FIRING = "firing", "firing"
        RESOLVED = "resolved", "resolved"

    name = models.CharField(max_length=100)
    query = models.CharField(max_length=4000, blank=True, help_text="The list's query string.")
    series = models.CharField(max_length=16, choices=Series)
    condition = models.CharField(max_length=8, choices=Condition)
    threshold = models.FloatField()
    window_minutes = models.PositiveIntegerField(default=60)
    min_steps = models.PositiveIntegerField(
        default=1, help_text="Fewer steps in the window: no figure (a rate over 2 steps is noise)."
    )
    destination = models.ForeignKey(Destination, on_delete=models.PROTECT, related_name="alerts")
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=16, choices=State, default=State.OK)
    state_since = models.DateTimeField(default=timezone.now)
    last_value = models.FloatField(null=True, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["id"], name="alerts_alert_enabled", condition=Q(enabled=True))]

    def __str__(self) -> str:
        return self.name


class AlertEvent(models.Model):
    """An alert started firing or resolved: its history, one notification each."""

    class Kind(models.TextChoices):
        FIRING = "firing", "started firing"
        RESOLVED = "resolved", "resolved"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind)
    at = models.DateTimeField(default=timezone.now)
    value = models.FloatField(null=True, blank=True)
    previous_value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField()
    steps = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    text = models.TextField(help_text="The figure against the threshold, as notified.")
    link = models.CharField(max_length=5000, help_text="The step list of exactly that window and query.")

    class Meta:
        indexes = [models.Index(fields=["alert", "-at"], name="alerts_event_alert")]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.kind} at {self.at:%Y-%m-%d %H:%M}"


class Notification(models.Model):
    """The outbox: one message to one destination, delivered after the commit that wrote it,
    retried with backoff, never dropped silently (a final failure stays, with its reason)."""

    class Status(models.TextChoices):
        PENDING = "pending", "sending"
        IN_FLIGHT = "in_flight", "sending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"

    OPEN_STATUSES = (Status.PENDING, Status.IN_FLIGHT)

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="notifications")
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.OneToOneField(
        AlertEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="notification"
    )
    rule = models.ForeignKey(
        Rule, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField(max_length=300)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    not_before = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # the sweep: undelivered notifications, oldest due first (a small partial index)
            models.Index(
                fields=["not_before"],
                name="alerts_notification_open",
                condition=Q(status__in=["pending", "in_flight"]),
            ),
            # an alert's or a rule's latest deliveries, on its page
            models.Index(fields=["alert", "-id"], name="alerts_notification_alert"),
            models.Index(fields=["rule", "-id"], name="alerts_notification_rule"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"
