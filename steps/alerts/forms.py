"""The editors' forms, shared by the pages and the API: one place says what a valid view, rule or
alert is, so a page and a script get the same 400 for the same mistake."""

from __future__ import annotations

import math

from django import forms

from ..access import can_manage
from ..feedback import clean_tags
from ..review.models import Queue
from . import evaluation, notify, views_saved
from .models import Alert, Destination, Rule, SavedView

MAX_QUERY_CHARS = 4000
WINDOW_LABELS = [(m, f"{m} min" if m < 60 else f"{m // 60} h") for m in evaluation.WINDOW_CHOICES]


class DestinationField(forms.CharField):
    """An apprise URL (json://host:port/path, https://hooks.slack.com/..., mailto://...)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 2000)
        kwargs.setdefault(
            "help_text",
            "An apprise URL: json://host:port/path or an http(s) webhook, slack://…, msteams://…, "
            "discord://…, mailto://…. Stored encrypted; shown masked.",
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value and not notify.is_valid_url(value.strip()):
            raise forms.ValidationError("Not a destination URL apprise understands.")
        return value.strip() if value else value


class SavedViewForm(forms.Form):
    name = forms.CharField(max_length=100)
    query = forms.CharField(max_length=MAX_QUERY_CHARS, required=False)
    shared = forms.BooleanField(required=False, help_text="Shared with the team (managers only).")
    is_default = forms.BooleanField(required=False, help_text="Open this view when I sign in.")

    def __init__(self, *args, user, instance: SavedView | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.instance = user, instance

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the view a name.")
        taken = SavedView.objects.filter(owner=self.instance.owner if self.instance else self.user, name=name)
        if self.instance:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("You already have a view with this name.")
        return name

    def clean_query(self):
        return views_saved.clean_view_query(self.cleaned_data.get("query", "").lstrip("?"))

    def clean_shared(self):
        shared = self.cleaned_data["shared"]
        if shared and not can_manage(self.user):
            raise forms.ValidationError("Only managers share views with the team; save it as yours.")
        return shared

    def save(self) -> SavedView:
        data = self.cleaned_data
        view = self.instance or SavedView(owner=self.user)
        view.name, view.query, view.shared = data["name"], data["query"], data["shared"]
        view.save()
        if data.get("is_default"):
            views_saved.set_default(self.user, view)
        return view


class RuleForm(forms.Form):
    name = forms.CharField(max_length=100)
    view = forms.ModelChoiceField(queryset=SavedView.objects.none(), help_text="Steps matching this view.")
    action = forms.ChoiceField(choices=Rule.Action.choices)
    tags = forms.CharField(max_length=1000, required=False, help_text="For “add tags”: comma-separated.")
    destination = DestinationField(required=False, label="Destination URL")
    queue = forms.ModelChoiceField(
        queryset=Queue.objects.none(), required=False, help_text="For “add to a review queue”."
    )
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # a rule acts for the team: on shared views, or the manager's own
        self.fields["view"].queryset = views_saved.visible_to(user)
        # steps join one at a time: open single-step queues (a pair needs two steps chosen together)
        self.fields["queue"].queryset = Queue.objects.filter(
            archived_at__isnull=True, kind=Queue.Kind.SINGLE
        ).order_by("name")
        self.user = user

    def clean_tags(self):
        raw = self.cleaned_data.get("tags") or ""
        return clean_tags(raw.split(","))

    def clean(self):
        data = super().clean()
        if data.get("action") == Rule.Action.TAG and not data.get("tags"):
            self.add_error("tags", "Name at least one tag to add.")
        if data.get("action") == Rule.Action.NOTIFY and not data.get("destination"):
            self.add_error("destination", "Say where to send the notification.")
        if data.get("action") == Rule.Action.QUEUE and not data.get("queue"):
            self.add_error("queue", "Pick the review queue the steps join (an open, single-step queue).")
        return data

    def save(self, rule: Rule | None = None) -> Rule:
        data = self.cleaned_data
        rule = rule or Rule(created_by=self.user)
        rule.name, rule.view, rule.action = data["name"].strip(), data["view"], data["action"]
        rule.tags = data["tags"] if data["action"] == Rule.Action.TAG else []
        rule.queue = data.get("queue") if data["action"] == Rule.Action.QUEUE else None
        rule.enabled = data["enabled"] if "enabled" in self.data else rule.enabled
        if data.get("destination"):
            rule.destination = Destination.for_url(data["destination"], user=self.user)
        rule.save()
        return rule


class AlertForm(forms.Form):
    name = forms.CharField(max_length=100)
    query = forms.CharField(max_length=MAX_QUERY_CHARS, required=False, help_text="The list's query string.")
    series = forms.ChoiceField(choices=Alert.Series.choices)
    condition = forms.ChoiceField(choices=Alert.Condition.choices)
    threshold = forms.FloatField(
        help_text="A fraction for rates (0.2 = 20%), ms for p95 duration, USD per hour for cost, a "
        "count for steps; the factor N for rise and fall."
    )
    window_minutes = forms.IntegerField(
        min_value=1,
        max_value=evaluation.MAX_WINDOW_MINUTES,
        initial=60,
        help_text="15 min to 24 h (the page offers the usual ones); the rollups are hourly.",
    )
    min_steps = forms.IntegerField(min_value=1, max_value=1_000_000, required=False, initial=1)
    destination = DestinationField(required=False, label="Destination URL")
    enabled = forms.BooleanField(required=False, initial=True)

    @staticmethod
    def values_of(alert: Alert) -> dict:
        """The alert as this form's data: the editor's initial values, and what a partial API
        update starts from."""
        fields = [
            "name",
            "query",
            "series",
            "condition",
            "threshold",
            "window_minutes",
            "min_steps",
            "enabled",
        ]
        return {name: getattr(alert, name) for name in fields}

    def __init__(self, *args, user, instance: Alert | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.instance = user, instance
        if instance is None:
            self.fields["destination"].required = True

    def clean_query(self):
        try:
            return evaluation.clean_query(self.cleaned_data.get("query", "").lstrip("?"))
        except evaluation.UnservedQuery as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self):
        data = super().clean()
        threshold, series, condition = data.get("threshold"), data.get("series"), data.get("condition")
        if threshold is None:
            return data
        if not math.isfinite(threshold) or threshold < 0:
            self.add_error("threshold", "Give a number of 0 or more.")
        elif condition in ("rise", "fall") and threshold <= 1:
            self.add_error("threshold", "A change is a factor above 1 (2 = doubles, or halves for “fall”).")
        elif condition in ("above", "below") and series in evaluation.RATES and threshold > 1:
            self.add_error("threshold", "A rate is a fraction from 0 to 1 (0.2 = 20%).")
        return data

    def save(self) -> Alert:
        data = self.cleaned_data
        alert = self.instance or Alert(created_by=self.user)
        for name in ("name", "query", "series", "condition", "threshold", "window_minutes"):
            setattr(alert, name, data[name])
        alert.name = alert.name.strip()
        alert.min_steps = data.get("min_steps") or 1
        alert.enabled = data["enabled"] if "enabled" in self.data else alert.enabled
        if data.get("destination"):
            alert.destination = Destination.for_url(data["destination"], user=self.user)
        alert.save()
        return alert
