"""Rubrics, queues, items and reviews in the admin, for a manager correcting data. What the review
functions keep consistent (counters, reservations, verdicts, a used rubric's questions) is shown,
not edited; a correction that changes a count recounts it."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone

from ..admin import SAFE_FORMFIELDS, SafeAdmin
from . import rubrics
from .models import Queue, QueueItem, Review, Rubric, RubricItem, Skip


class RubricItemForm(forms.ModelForm):
    class Meta:
        model = RubricItem
        fields = ("position", "name", "kind", "description", "required", "choices", "choice_labels")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            cleaned = rubrics.clean_item(
                {
                    k: data.get(k)
                    for k in ("name", "kind", "description", "required", "choices", "choice_labels")
                },
                data.get("position") or 0,
            )
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None
        data.update({k: cleaned[k] for k in ("name", "choices", "choice_labels", "description")})
        return data


class RubricItemFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [f.cleaned_data for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if sum(d.get("kind") == RubricItem.Kind.THUMBS for d in kept) > 1:
            raise forms.ValidationError(
                "A rubric has at most one thumbs item (it becomes the step's feedback in Letta)."
            )


class RubricItemInline(admin.TabularInline):
    model = RubricItem
    form = RubricItemForm
    formset = RubricItemFormSet
    formfield_overrides = SAFE_FORMFIELDS
    extra = 0

    def _locked(self, obj) -> bool:
        return obj is not None and obj.locked_at is not None

    # a rubric a queue has used keeps its questions: edit it through a new version (the UI's editor)
    def has_add_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_delete_permission(request, obj)


@admin.register(Rubric)
class RubricAdmin(SafeAdmin):
    list_display = ("name", "version", "lineage", "locked_at", "archived", "created_by", "created_at")
    list_filter = ("archived", ("locked_at", admin.EmptyFieldListFilter))
    search_fields = ("name",)
    readonly_fields = ("version", "lineage", "locked_at", "created_by", "created_at")
    fields = ("name", "description", "archived", *readonly_fields)
    inlines = [RubricItemInline]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        # a rubric a queue used is protected by the database too; archive it instead
        return (obj is None or obj.locked_at is None) and super().has_delete_permission(request, obj)


@admin.register(Queue)
class QueueAdmin(SafeAdmin):
    list_display = (
        "name",
        "mode",
        "kind",
        "rubric",
        "reviewers_per_item",
        "access",
        "items_total",
        "items_done",
        "items_adjudicate",
        "created_at",
        "archived_at",
    )
    list_filter = ("mode", "kind", "access", ("archived_at", admin.EmptyFieldListFilter))
    search_fields = ("name",)
    filter_horizontal = ("assigned",)
    readonly_fields = (
        "query",
        "mode",
        "kind",
        "rubric",
        "items_total",
        "items_done",
        "items_adjudicate",
        "next_position",
        "created_by",
        "created_at",
    )
    actions = ["archive", "recount"]

    def has_add_permission(self, request):
        return False  # made from the step list or the API, which fill it

    @admin.action(description="Archive selected queues (they take no more reviews)")
    def archive(self, request, queryset):
        done = queryset.filter(archived_at__isnull=True).update(archived_at=timezone.now())
        self.message_user(request, f"Archived {done} queue(s).", messages.SUCCESS)

    @admin.action(description="Recount items (after a correction)")
    def recount(self, request, queryset):
        for queue in queryset:
            recount(queue)
        self.message_user(request, f"Recounted {queryset.count()} queue(s).", messages.SUCCESS)


def recount(queue: Queue) -> None:
    states = dict(queue.items.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    Queue.objects.filter(pk=queue.pk).update(
        items_total=sum(states.values()),
        items_done=states.get(QueueItem.State.DONE, 0),
        items_adjudicate=states.get(QueueItem.State.ADJUDICATE, 0),
    )


@admin.register(QueueItem)
class QueueItemAdmin(SafeAdmin):
    list_display = (
        "queue",
        "step",
        "step_b",
        "position",
        "state",
        "reviews_count",
        "reserved_by",
        "reserved_until",
    )
    list_filter = ("state", "queue")
    search_fields = ("=step__id", "=step_b__id", "queue__name")
    list_select_related = ("queue", "reserved_by")
    raw_id_fields = ("step", "step_b", "push")
    show_full_result_count = False
    readonly_fields = (
        "queue",
        "step",
        "step_b",
        "position",
        "state",
        "reviews_count",
        "reserved_by",
        "reserved_until",
        "reserved_at",
        "verdict",
        "resolved_at",
        "adjudicated_by",
        "push",
        "write_note",
        "added_at",
    )
    actions = ["release"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # a verdict changes through adjudication, which writes it to Letta

    @admin.action(description="Release reservations of the selected items")
    def release(self, request, queryset):
        done = queryset.filter(reserved_by__isnull=False).update(
            reserved_by=None, reserved_until=None, reserved_at=None
        )
        self.message_user(request, f"Released {done} reservation(s).", messages.SUCCESS)


class ReviewForm(forms.ModelForm):
    """A corrected review still answers its rubric: the scores are checked as a submission's."""

    class Meta:
        model = Review
        fields = ("scores", "note")

    def clean_scores(self):
        queue = self.instance.item.queue
        try:
            return rubrics.validate_scores(
                queue.rubric, self.cleaned_data["scores"], pairwise=queue.kind == Queue.Kind.PAIRWISE
            )
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None


@admin.register(Review)
class ReviewAdmin(SafeAdmin):
    form = ReviewForm
    list_display = ("item", "reviewer", "submitted_at", "seconds")
    list_filter = ("item__queue",)
    search_fields = ("=item__step__id", "reviewer__username", "note")
    list_select_related = ("item", "reviewer")
    readonly_fields = ("item", "reviewer", "started_at", "submitted_at", "seconds")
    fields = ("item", "reviewer", "scores", "note", "started_at", "submitted_at", "seconds")
    date_hierarchy = "submitted_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def _recount(self, item_ids) -> None:
        for item in QueueItem.objects.filter(pk__in=item_ids, state=QueueItem.State.WAITING):
            QueueItem.objects.filter(pk=item.pk).update(reviews_count=item.reviews.count())

    def delete_model(self, request, obj):
        item_id = obj.item_id
        super().delete_model(request, obj)
        self._recount([item_id])

    def delete_queryset(self, request, queryset):
        item_ids = list(queryset.values_list("item_id", flat=True))
        super().delete_queryset(request, queryset)
        self._recount(item_ids)


@admin.register(Skip)
class SkipAdmin(SafeAdmin):
    list_display = ("item", "reviewer", "skipped_at")
    list_select_related = ("item", "reviewer")
    readonly_fields = ("item", "reviewer", "skipped_at")

    def has_add_permission(self, request):
        return False
