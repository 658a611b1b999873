"""API views of team review: queues, the next step to review, reviews, adjudication, agreement.
HTTP in, JSON out; the work is steps.review's (the pages call the same functions)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ..access import RoleRequired
from ..models import Step
from ..review import figures, queues, reserve, rubrics, submit, verdict
from ..review.models import Queue, QueueItem, Review, Rubric
from ..review.progress import queue_progress
from .pagination import NewestFirst
from .params import BOOLEAN_TEXTS
from .permissions import ManagerWrites
from .queue_serializers import (
    AdjudicateInputSerializer,
    AgreementSerializer,
    ItemSerializer,
    NextItemSerializer,
    QueueDetailSerializer,
    QueueInputSerializer,
    QueueReviewSerializer,
    QueueSerializer,
    QueueUpdateSerializer,
    ReviewInputSerializer,
    RubricInputSerializer,
    RubricSerializer,
)
from .serializers import ErrorSerializer, StepSummarySerializer
from .views import _rows, _valid

ARCHIVED = "This queue is archived: it takes no more reviews."
CONFLICT = OpenApiResponse(ErrorSerializer, description="Not possible now; `detail` says why.")
REFUSED = OpenApiResponse(
    ErrorSerializer, description="Your role (or the queue's assignment) does not allow it."
)


def _invalid(exc: DjangoValidationError) -> exceptions.ValidationError:
    """steps.review's refusals as the API's 400 (each field or rubric item named)."""
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(exc.message_dict)
    return exceptions.ValidationError({"non_field_errors": exc.messages})


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Not possible now."


def _conflict(detail: str) -> Response:
    return Response({"detail": detail}, status=status.HTTP_409_CONFLICT)


def _queue(queue_id: int) -> Queue:
    queues_with_rubric = Queue.objects.select_related("rubric", "created_by").prefetch_related(
        "rubric__items", "assigned"
    )
    return get_object_or_404(queues_with_rubric, pk=queue_id)


def _worker_queue(request, queue_id: int) -> Queue:
    """The queue, if the caller may work it (reviewer role, and assigned when it is assigned)."""
    queue = _queue(queue_id)
    if queue.archived_at is not None:
        raise Conflict(ARCHIVED)
    if not reserve.can_work(queue, request.user):
        raise exceptions.PermissionDenied(submit.REFUSED)
    return queue


def _item(queue: Queue, step_id: str, user) -> QueueItem:
    """The queue's item of this step; in a pairwise queue (a step may be A of several pairs) the
    one the caller holds, else the first open one."""
    items = QueueItem.objects.filter(queue=queue, step_id=step_id).select_related("step", "adjudicated_by")
    item = (
        items.filter(reserved_by=user).order_by("position").first()
        or items.filter(state=QueueItem.State.WAITING).order_by("position").first()
        or items.order_by("position").first()
    )
    if item is None:
        raise exceptions.NotFound("This step is not in this queue.")
    return item


# --- rubrics ------------------------------------------------------------------------------------


class RubricsByName(NewestFirst):
    ordering = ("name", "-version", "id")  # review_rubric_by_name


class RubricList(generics.ListAPIView):
    serializer_class = RubricSerializer
    pagination_class = RubricsByName
    permission_classes = [IsAuthenticated, ManagerWrites]

    def get_queryset(self):
        rubrics_shown = Rubric.objects.prefetch_related("items")
        archived = self.request.query_params.get("archived", "").lower()
        if archived not in BOOLEAN_TEXTS:
            raise exceptions.ValidationError({"archived": ["true or false."]})
        if archived not in ("1", "true", "on"):
            rubrics_shown = rubrics_shown.filter(archived=False)
        return rubrics_shown

    @extend_schema(
        operation_id="rubrics_list",
        summary="List rubrics",
        description="By name, newest version first; `archived=true` includes archived ones. A queue takes "
        "a rubric's `id`.",
        parameters=[OpenApiParameter("archived", {"type": "boolean"}, OpenApiParameter.QUERY)],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="rubrics_create",
        summary="Create a rubric",
        description="Managers only. Items as a queue's `rubric` takes them.",
        request=RubricInputSerializer,
        responses={201: RubricSerializer, 403: REFUSED},
    )
    def post(self, request):
        data = _valid(RubricInputSerializer, request)
        try:
            rubric = rubrics.rubric_from_items(
                data["items"], name=data["name"], description=data["description"], created_by=request.user
            )
        except DjangoValidationError as exc:
            raise exceptions.ValidationError({"items": exc.messages}) from None
        rubric = Rubric.objects.prefetch_related("items").get(pk=rubric.pk)
        return Response(RubricSerializer(rubric).data, status=status.HTTP_201_CREATED)


class RubricDetail(APIView):
    @extend_schema(operation_id="rubrics_retrieve", summary="One rubric", responses={200: RubricSerializer})
    def get(self, request, rubric_id: int):
        return Response(
            RubricSerializer(get_object_or_404(Rubric.objects.prefetch_related("items"), pk=rubric_id)).data
        )


# --- queues -------------------------------------------------------------------------------------


class QueuesNewestFirst(NewestFirst):
    ordering = ("-created_at", "-id")  # review_queue_newest


def _resolve_rubric(data: dict, user) -> Rubric:
    value = data["rubric"]
    if isinstance(value, int) and not isinstance(value, bool):
        rubric = Rubric.objects.filter(pk=value).first() if 0 < value < 2**63 else None
        if rubric is None:
            raise exceptions.ValidationError({"rubric": ["No rubric with this id."]})
        return rubric
    if isinstance(value, list):
        try:
            return rubrics.rubric_from_items(
                value, name=data.get("rubric_name") or data["name"], created_by=user
            )
        except DjangoValidationError as exc:
            raise exceptions.ValidationError({"rubric": exc.messages}) from None
    raise exceptions.ValidationError({"rubric": ["A rubric id, or a list of items {name, kind, choices?}."]})


def _assigned(usernames: list[str]) -> list:
    users = list(get_user_model().objects.filter(username__in=usernames))
    missing = sorted(set(usernames) - {u.get_username() for u in users})
    if missing:
        raise exceptions.ValidationError({"assigned": [f"No user named {', '.join(missing)}."]})
    return users


class QueueList(generics.ListAPIView):
    serializer_class = QueueSerializer
    pagination_class = QueuesNewestFirst
    permission_classes = [IsAuthenticated, ManagerWrites]

    def get_queryset(self):
        return Queue.objects.select_related("rubric", "created_by").prefetch_related(
            "rubric__items", "assigned"
        )

    @extend_schema(operation_id="queues_list", summary="List review queues", description="Newest first.")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="queues_create",
        summary="Create a review queue",
        description="Managers only. A `snapshot` takes the steps `query` matches now (or `step_ids`, or "
        "a pairwise queue's `pairs`), at most 10,000; a `live` queue takes new steps matching `query` as "
        "the sync brings them in. `rubric` is an existing rubric's id or a list of items "
        '`{"name", "kind", "choices"?}` (a new rubric). The rubric is locked from now on: editing it '
        "makes a new version.",
        request=QueueInputSerializer,
        responses={201: QueueSerializer, 403: REFUSED},
    )
    def post(self, request):
        data = _valid(QueueInputSerializer, request)
        try:
            with transaction.atomic():  # a refused queue leaves no new rubric behind
                queue = queues.create_queue(
                    name=data["name"],
                    query=data["query"],
                    mode=data["mode"],
                    rubric=_resolve_rubric(data, request.user),
                    reviewers_per_item=data["reviewers_per_item"],
                    reservation_minutes=data["reservation_minutes"],
                    created_by=request.user,
                    kind=data["kind"],
                    access=data["access"],
                    assigned=_assigned(data.get("assigned", [])),
                    instructions=data["instructions"],
                    tag_items=data.get("tag_items", []),
                    write_feedback=data["write_feedback"],
                    step_ids=data.get("step_ids"),
                    pairs=[tuple(p) for p in data["pairs"]] if data.get("pairs") else None,
                )
        except DjangoValidationError as exc:
            raise _invalid(exc) from None
        queue = _queue(queue.pk)
        return Response(
            QueueSerializer(queue, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class QueueDetail(APIView):
    permission_classes = [IsAuthenticated, ManagerWrites]

    @extend_schema(
        operation_id="queues_retrieve",
        summary="One queue with its progress",
        description="Settings, rubric, counters, and progress: waiting, in review (reserved now), done, "
        "to adjudicate, and per reviewer the items done and median seconds per item.",
        responses={200: QueueDetailSerializer},
    )
    def get(self, request, queue_id: int):
        queue = _queue(queue_id)
        queue.progress = queue_progress(queue)
        return Response(QueueDetailSerializer(queue, context={"request": request}).data)

    @extend_schema(
        operation_id="queues_update",
        summary="Change a queue's settings",
        description="Managers only. Name, instructions, k (a lower k resolves the steps that now have "
        "enough reviews), reservation minutes, access and assigned reviewers, tag items, write_feedback, "
        "archived. Its rubric, mode, kind and filter cannot change: make another queue.",
        request=QueueUpdateSerializer,
        responses={200: QueueDetailSerializer, 403: REFUSED},
    )
    def patch(self, request, queue_id: int):
        queue = _queue(queue_id)
        data = _valid(QueueUpdateSerializer, request)
        if "assigned" in data:
            data["assigned"] = _assigned(data["assigned"])
        try:
            queues.update_queue(queue, **data)
        except DjangoValidationError as exc:
            raise _invalid(exc) from None
        return self.get(request, queue_id)


class QueueItems(generics.ListAPIView):
    serializer_class = ItemSerializer

    class InQueueOrder(NewestFirst):
        ordering = ("position", "id")  # review_item_next

    pagination_class = InQueueOrder

    def get_queryset(self):
        queue = _queue(self.kwargs["queue_id"])
        items = QueueItem.objects.filter(queue=queue).select_related("push", "adjudicated_by")
        state = self.request.query_params.get("state", "")
        if state:
            if state not in QueueItem.State.values:
                raise exceptions.ValidationError({"state": [f"One of {', '.join(QueueItem.State.values)}."]})
            items = items.filter(state=state)
        return items

    @extend_schema(
        operation_id="queues_items",
        summary="A queue's items",
        description="In queue order, with each verdict and its write-back to Letta; `state=adjudicate` "
        "lists the ties waiting for a manager.",
        parameters=[
            OpenApiParameter(
                "state", {"type": "string", "enum": QueueItem.State.values}, OpenApiParameter.QUERY
            )
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# --- reviewing ----------------------------------------------------------------------------------


class QueueNext(APIView):
    @extend_schema(
        operation_id="queues_next",
        summary="Reserve your next step",
        description="Reserves the caller's next step for `reservation_minutes` (others do not get it "
        "meanwhile) and returns it; asking again returns the same step until it is reviewed, skipped or "
        "released. Resumes at the first step the caller has not reviewed; never one they reviewed. 204 "
        "when nothing is left for the caller.",
        request=None,
        responses={
            200: NextItemSerializer,
            204: OpenApiResponse(description="Nothing left for you."),
            403: REFUSED,
            409: CONFLICT,
        },
    )
    def post(self, request, queue_id: int):
        queue = _worker_queue(request, queue_id)
        item = reserve.next_item(queue, request.user)
        if item is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        ids = [i for i in (item.step_id, item.step_b_id) if i]
        steps = {s.pk: s for s in _rows(list(Step.objects.for_list().filter(pk__in=ids)))}
        context = {"request": request}
        b = steps.get(item.step_b_id)
        return Response(
            {
                "item": item.pk,
                "step": StepSummarySerializer(steps[item.step_id], context=context).data,
                "step_b": StepSummarySerializer(b, context=context).data if b else None,
                "reserved_until": item.reserved_until,
            }
        )


class ItemReviews(APIView):
    @extend_schema(
        operation_id="queues_item_review",
        summary="Submit your review of a step",
        description="Saves the caller's scores once: 201 for a new review; the same request again (a "
        "double submit, a retry after a lost answer) returns the first review with 200 and changes "
        "nothing. 400 names each wrong score; 409 when another reviewer holds the step or it has all its "
        "reviews. The k-th review resolves the step's verdict (sent to Letta through the outbox).",
        request=ReviewInputSerializer,
        responses={201: QueueReviewSerializer, 200: QueueReviewSerializer, 403: REFUSED, 409: CONFLICT},
    )
    def post(self, request, queue_id: int, step_id: str):
        queue = _worker_queue(request, queue_id)
        data = _valid(ReviewInputSerializer, request)
        item = _item(queue, step_id, request.user)
        try:
            review, created = submit.submit_review(
                item, request.user, data["scores"], note=data["note"], started_at=data.get("started_at")
            )
        except DjangoValidationError as exc:
            raise _invalid(exc) from None
        except submit.NotReviewable as exc:
            return _conflict(str(exc))
        except RoleRequired as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        review = Review.objects.select_related("item", "reviewer").get(pk=review.pk)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(QueueReviewSerializer(review).data, status=code)


RELEASED = inline_serializer("Released", {"released": serializers.BooleanField()})


class ItemRelease(APIView):
    @extend_schema(
        operation_id="queues_item_release",
        summary="Give back your reservation",
        description="Another reviewer may take the step at once. `released` is false when you held none.",
        request=None,
        responses={200: RELEASED},
    )
    def post(self, request, queue_id: int, step_id: str):
        queue = _worker_queue(request, queue_id)
        return Response({"released": reserve.release(_item(queue, step_id, request.user), request.user)})


class ItemSkip(APIView):
    @extend_schema(
        operation_id="queues_item_skip",
        summary="Skip a step for now",
        description="Gives back the reservation; the step comes back to you after every step you have "
        "not skipped.",
        request=None,
        responses={204: OpenApiResponse(description="Skipped.")},
    )
    def post(self, request, queue_id: int, step_id: str):
        queue = _worker_queue(request, queue_id)
        submit.skip(_item(queue, step_id, request.user), request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


UNDONE = inline_serializer("Undone", {"item": serializers.IntegerField(), "step": serializers.CharField()})


class QueueUndo(APIView):
    @extend_schema(
        operation_id="queues_undo",
        summary="Undo your last review",
        description="Deletes your last review in this queue and reserves its step for you again, while "
        "the step is not decided. 204 when you have no review here; 409 (with the reason) when its step "
        "is decided already.",
        request=None,
        responses={200: UNDONE, 204: OpenApiResponse(description="Nothing to undo."), 409: CONFLICT},
    )
    def post(self, request, queue_id: int):
        queue = _worker_queue(request, queue_id)
        try:
            item = submit.undo_last(queue, request.user)
        except DjangoValidationError as exc:
            return _conflict(exc.messages[0])
        if item is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response({"item": item.pk, "step": item.step_id})


class ItemAdjudicate(APIView):
    permission_classes = [IsAuthenticated, ManagerWrites]

    @extend_schema(
        operation_id="queues_item_adjudicate",
        summary="Decide a tied step",
        description="Managers only. `verdict` gives the values the reviewers tied on (and may correct "
        "others); the step is then done and its verdict sent to Letta. 409 when the step is not waiting "
        "for a decision.",
        request=AdjudicateInputSerializer,
        responses={200: ItemSerializer, 403: REFUSED, 409: CONFLICT},
    )
    def post(self, request, queue_id: int, step_id: str):
        queue = _queue(queue_id)
        data = _valid(AdjudicateInputSerializer, request)
        items = QueueItem.objects.filter(queue=queue, step_id=step_id)
        item = (
            items.filter(state=QueueItem.State.ADJUDICATE).order_by("position").first()
            or items.order_by("position").first()
        )
        if item is None:
            raise exceptions.NotFound("This step is not in this queue.")
        if item.state != QueueItem.State.ADJUDICATE:
            return _conflict("This step is not waiting for a decision.")
        try:
            verdict.adjudicate(item, request.user, data["verdict"])
        except DjangoValidationError as exc:
            raise _invalid(exc) from None
        item = QueueItem.objects.select_related("push", "adjudicated_by").get(pk=item.pk)
        return Response(ItemSerializer(item).data)


class QueueAgreement(APIView):
    @extend_schema(
        operation_id="queues_agreement",
        summary="How much the reviewers agree",
        description="Per rubric item (free text excluded): Krippendorff's alpha (nominal for thumbs, "
        "labels, yes/no and pairwise; ordinal for scales), percent agreement and `n`, the steps rated "
        "at least twice; a reviewer-by-reviewer table; per reviewer the items done and median seconds.",
        responses={200: AgreementSerializer},
    )
    def get(self, request, queue_id: int):
        return Response(figures.agreement_report(_queue(queue_id)))
