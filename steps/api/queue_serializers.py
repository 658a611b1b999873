"""What the review-queue endpoints take and return (steps/api/queues.py). Input is checked here for
shape and by steps.review (rubrics, queues) for meaning, so the API, the pages and the admin
refuse the same things with the same words."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..review.models import Queue, RubricItem
from .serializers import StepSummarySerializer

KINDS = RubricItem.Kind.values
SCORE_HELP = (
    "`{item name: value}`: thumbs `positive`/`negative`; labels one of its choices; scale one of its "
    "integer points; boolean `true`/`false`; text a string (5,000 characters at most). In a pairwise "
    "queue every item but text takes `a`, `b` or `tie`."
)


# --- rubrics ----------------------------------------------------------------------------------


class RubricItemSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The item's key in scores, e.g. `accuracy`.")
    kind = serializers.ChoiceField(choices=KINDS)
    choices = serializers.ListField(
        child=serializers.JSONField(),
        required=False,
        help_text="categorical: its labels; scale: its integer points, e.g. [1, 2, 3, 4, 5].",
    )
    choice_labels = serializers.ListField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text="scale: a word for each point, in order.",
    )
    description = serializers.CharField(required=False, allow_blank=True)
    required = serializers.BooleanField(required=False, default=True)


class RubricSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    version = serializers.IntegerField()
    locked = serializers.BooleanField(help_text="Used by a queue: an edit makes a new version.")
    items = RubricItemSerializer(many=True)

    def to_representation(self, rubric):
        fields = ("name", "kind", "choices", "choice_labels", "description", "required")
        return {
            "id": rubric.pk,
            "name": rubric.name,
            "description": rubric.description,
            "version": rubric.version,
            "locked": rubric.locked_at is not None,
            "items": [{f: getattr(item, f) for f in fields} for item in rubric.items.all()],
        }


class RubricInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    items = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=30)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "description": "An existing rubric's id."},
            {
                "type": "array",
                "description": "A new rubric's items.",
                "minItems": 1,
                "maxItems": 30,
                "items": {
                    "type": "object",
                    "required": ["name", "kind"],
                    "properties": {
                        "name": {"type": "string", "maxLength": 64},
                        "kind": {"type": "string", "enum": KINDS},
                        "choices": {"type": "array", "items": {}},
                        "choice_labels": {"type": "array", "items": {"type": "string"}},
                        "description": {"type": "string"},
                        "required": {"type": "boolean"},
                    },
                },
            },
        ]
    }
)
class RubricChoiceField(serializers.JSONField):
    """A rubric id or a list of items: checked by steps.review.rubrics."""


# --- queues -----------------------------------------------------------------------------------


class QueueInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    query = serializers.CharField(
        max_length=2000,
        allow_blank=True,
        required=False,
        default="",
        help_text="The step list page's query string (`status=failed&agent=...`): which steps a snapshot "
        "takes now (10,000 at most), or which new steps join a live queue.",
    )
    mode = serializers.ChoiceField(choices=Queue.Mode.values)
    rubric = RubricChoiceField()
    rubric_name = serializers.CharField(
        max_length=200, required=False, help_text="The new rubric's name (default: the queue's)."
    )
    reviewers_per_item = serializers.IntegerField(min_value=1, max_value=20, help_text="k: reviews per step.")
    reservation_minutes = serializers.IntegerField(min_value=1, max_value=1440)
    kind = serializers.ChoiceField(choices=Queue.Kind.values, required=False, default=Queue.Kind.SINGLE)
    access = serializers.ChoiceField(choices=Queue.Access.values, required=False, default=Queue.Access.ANY)
    assigned = serializers.ListField(
        child=serializers.CharField(max_length=150),
        required=False,
        max_length=200,
        help_text="Usernames of the reviewers of an `assigned` queue.",
    )
    instructions = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")
    tag_items = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=30,
        help_text="Labels items whose verdict becomes a Letta tag `item:value`.",
    )
    write_feedback = serializers.BooleanField(
        required=False, default=True, help_text="The thumbs verdict becomes the step's feedback in Letta."
    )
    step_ids = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=10_000,
        help_text="These steps instead of the query's (a selection).",
    )
    pairs = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(max_length=64), min_length=2, max_length=2),
        required=False,
        max_length=10_000,
        help_text="A pairwise queue's pairs `[step A, step B]`.",
    )


class QueueUpdateSerializer(serializers.Serializer):
    """What a manager may change; the rubric, mode, kind and filter make another queue."""

    name = serializers.CharField(max_length=200, required=False)
    instructions = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    reviewers_per_item = serializers.IntegerField(
        min_value=1, max_value=20, required=False, help_text="Lower: steps with enough reviews resolve now."
    )
    reservation_minutes = serializers.IntegerField(min_value=1, max_value=1440, required=False)
    access = serializers.ChoiceField(choices=Queue.Access.values, required=False)
    assigned = serializers.ListField(
        child=serializers.CharField(max_length=150), required=False, max_length=200
    )
    tag_items = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=30
    )
    write_feedback = serializers.BooleanField(required=False)
    archived = serializers.BooleanField(required=False, help_text="An archived queue takes no more reviews.")


class QueueSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    name = serializers.CharField()
    instructions = serializers.CharField(allow_blank=True)
    query = serializers.CharField(allow_blank=True)
    mode = serializers.ChoiceField(choices=Queue.Mode.values)
    kind = serializers.ChoiceField(choices=Queue.Kind.values)
    rubric = RubricSerializer()
    reviewers_per_item = serializers.IntegerField()
    access = serializers.ChoiceField(choices=Queue.Access.values)
    assigned = serializers.ListField(child=serializers.CharField())
    reservation_minutes = serializers.IntegerField()
    write_feedback = serializers.BooleanField()
    tag_items = serializers.ListField(child=serializers.CharField())
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    archived_at = serializers.DateTimeField(allow_null=True)
    items_total = serializers.IntegerField()
    items_done = serializers.IntegerField()
    items_adjudicate = serializers.IntegerField()

    def to_representation(self, queue):
        request = self.context.get("request")
        path = f"/api/v1/queues/{queue.pk}/"
        return {
            "id": queue.pk,
            "url": request.build_absolute_uri(path) if request else path,
            "name": queue.name,
            "instructions": queue.instructions,
            "query": queue.query,
            "mode": queue.mode,
            "kind": queue.kind,
            "rubric": RubricSerializer(queue.rubric).data,
            "reviewers_per_item": queue.reviewers_per_item,
            "access": queue.access,
            "assigned": [u.get_username() for u in queue.assigned.all()],
            "reservation_minutes": queue.reservation_minutes,
            "write_feedback": queue.write_feedback,
            "tag_items": list(queue.tag_items or []),
            "created_by": queue.created_by.get_username() if queue.created_by else None,
            "created_at": queue.created_at,
            "archived_at": queue.archived_at,
            "items_total": queue.items_total,
            "items_done": queue.items_done,
            "items_adjudicate": queue.items_adjudicate,
        }


class ReviewerProgressSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    done = serializers.IntegerField()
    median_seconds = serializers.FloatField(allow_null=True)
    holding = serializers.IntegerField(help_text="Items they hold a live reservation on.")


class ProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    adjudicate = serializers.IntegerField(help_text="Waiting for a manager's decision (a tie).")
    in_review = serializers.IntegerField(help_text="Reserved by a reviewer right now.")
    waiting = serializers.IntegerField()
    reviews = serializers.IntegerField()
    reviewers = ReviewerProgressSerializer(many=True)


class QueueDetailSerializer(QueueSerializer):
    progress = ProgressSerializer()

    def to_representation(self, queue):
        return {**super().to_representation(queue), "progress": queue.progress}


class NextItemSerializer(serializers.Serializer):
    item = serializers.IntegerField(help_text="The queue item's id.")
    step = StepSummarySerializer(help_text="The step to review (A in a pairwise queue).")
    step_b = StepSummarySerializer(allow_null=True, help_text="B in a pairwise queue, else null.")
    reserved_until = serializers.DateTimeField(help_text="Others do not get this step until then.")


class ReviewInputSerializer(serializers.Serializer):
    scores = serializers.DictField(child=serializers.JSONField(), help_text=SCORE_HELP)
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    started_at = serializers.DateTimeField(
        required=False, help_text="When the step was shown (default: when it was reserved)."
    )


class QueueReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    item = serializers.IntegerField()
    step = serializers.CharField()
    reviewer = serializers.CharField()
    scores = serializers.DictField(child=serializers.JSONField())
    note = serializers.CharField(allow_blank=True)
    submitted_at = serializers.DateTimeField()
    seconds = serializers.FloatField(allow_null=True)
    item_state = serializers.CharField(help_text="waiting, done or adjudicate, after this review.")
    verdict = serializers.DictField(child=serializers.JSONField(), allow_null=True)

    def to_representation(self, review):
        item = review.item
        return {
            "id": review.pk,
            "item": item.pk,
            "step": item.step_id,
            "reviewer": review.reviewer.get_username(),
            "scores": review.scores,
            "note": review.note,
            "submitted_at": review.submitted_at,
            "seconds": review.seconds,
            "item_state": item.state,
            "verdict": item.verdict,
        }


class AdjudicateInputSerializer(serializers.Serializer):
    verdict = serializers.DictField(
        child=serializers.JSONField(), help_text="The values decided. " + SCORE_HELP
    )


class ItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    step = serializers.CharField()
    step_b = serializers.CharField(allow_null=True)
    position = serializers.IntegerField()
    state = serializers.CharField()
    reviews_count = serializers.IntegerField()
    verdict = serializers.DictField(child=serializers.JSONField(), allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    adjudicated_by = serializers.CharField(allow_null=True)
    write_back = serializers.CharField(
        allow_blank=True, help_text="The verdict's write-back to Letta (the outbox status), or empty."
    )
    write_note = serializers.CharField(allow_blank=True, help_text="Why no verdict was sent, when none was.")

    def to_representation(self, item):
        return {
            "id": item.pk,
            "step": item.step_id,
            "step_b": item.step_b_id,
            "position": item.position,
            "state": item.state,
            "reviews_count": item.reviews_count,
            "verdict": item.verdict,
            "resolved_at": item.resolved_at,
            "adjudicated_by": item.adjudicated_by.get_username() if item.adjudicated_by else None,
            "write_back": item.push.status if item.push else "",
            "write_note": item.write_note,
        }


class ItemAgreementSerializer(serializers.Serializer):
    alpha = serializers.FloatField(allow_null=True, help_text="Krippendorff's alpha; null when undefined.")
    percent = serializers.FloatField(allow_null=True, help_text="Pairwise percent agreement, 0-100.")
    n = serializers.IntegerField(help_text="Steps with at least two ratings of this item.")
    kind = serializers.CharField()
    level = serializers.CharField(help_text="nominal or ordinal.")
    disagreements = serializers.IntegerField()


@extend_schema_field(OpenApiTypes.OBJECT)
class _AnyObject(serializers.DictField):
    pass


class AgreementSerializer(serializers.Serializer):
    items = serializers.DictField(
        child=ItemAgreementSerializer(), help_text="Per rubric item (text excluded)."
    )
    reviewers = serializers.ListField(child=_AnyObject())
    pairs = serializers.ListField(child=_AnyObject(), help_text="Reviewer by reviewer: percent and n.")
    reviews = serializers.IntegerField()
    items_reviewed = serializers.IntegerField()
