"""/api/v1/views/, /rules/ and /alerts/: the same forms as the pages validate every write.

Roles: anyone signed in saves personal views (a viewer too: a view changes only its owner's
sidebar, like an API token); shared views, rules and alerts are a manager's (ManagerWrites).
"""

from __future__ import annotations

from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ..access import MANAGER_REFUSED, can_manage
from ..api.permissions import ManagerWrites
from . import evaluation, views_saved
from .forms import AlertForm, RuleForm, SavedViewForm
from .models import Alert, Rule, SavedView
from .serializers import (
    AlertInputSerializer,
    AlertSerializer,
    EvaluationSerializer,
    RuleInputSerializer,
    RuleSerializer,
    SavedViewInputSerializer,
    SavedViewSerializer,
)

MAX_LISTED = 200


def _form_data(request) -> dict:
    if not isinstance(request.data, dict):
        raise ValidationError({"non_field_errors": ["Send a JSON object."]})
    data = dict(request.data)
    if isinstance(data.get("tags"), list):
        data["tags"] = ",".join(str(t) for t in data["tags"])
    for key, value in data.items():
        if isinstance(value, bool):
            data[key] = "true" if value else "false"
        elif isinstance(value, (dict, list)):
            raise ValidationError({key: ["Expected a single value."]})
    return data


def _valid(form):
    if not form.is_valid():
        raise ValidationError({name: [str(e) for e in errors] for name, errors in form.errors.items()})
    return form


# --- saved views --------------------------------------------------------------------------


def _view_rows(request, views: list[SavedView]) -> list[views_saved.ViewRow]:
    return views_saved.rows_for(request.user, views)


class SavedViewList(APIView):
    permission_classes = [IsAuthenticated]  # a personal view is anyone's; sharing checks the role

    @extend_schema(
        operation_id="views_list",
        summary="List saved views",
        description="Your views and the team's shared ones, each with `new`: steps matching it since you "
        "last opened it (counted up to 100: more reads as 100; null when counting took too long).",
        responses={200: SavedViewSerializer(many=True)},
    )
    def get(self, request):
        views = list(views_saved.visible_to(request.user).select_related("owner")[:MAX_LISTED])
        return Response(SavedViewSerializer(_view_rows(request, views), many=True).data)

    @extend_schema(
        operation_id="views_create",
        summary="Save a view",
        description="A name for a list query string. `shared` needs the manager role.",
        request=SavedViewInputSerializer,
        responses={201: SavedViewSerializer},
    )
    def post(self, request):
        view = _valid(SavedViewForm(_form_data(request), user=request.user)).save()
        return Response(
            SavedViewSerializer(_view_rows(request, [view])[0]).data, status=status.HTTP_201_CREATED
        )


def _own_view(request, view_id: int) -> SavedView:
    view = get_object_or_404(
        SavedView.objects.filter(Q(owner=request.user) | Q(shared=True)).select_related("owner"), pk=view_id
    )
    return view


class SavedViewDetail(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="views_read", summary="One saved view", responses={200: SavedViewSerializer})
    def get(self, request, view_id: int):
        view = _own_view(request, view_id)
        return Response(SavedViewSerializer(_view_rows(request, [view])[0]).data)

    @extend_schema(operation_id="views_delete", summary="Delete a saved view", responses={204: None})
    def delete(self, request, view_id: int):
        view = _own_view(request, view_id)
        if view.owner_id != request.user.pk and not can_manage(request.user):
            raise PermissionDenied(MANAGER_REFUSED)
        if view.rules.exists():
            raise ValidationError({"view": ["A rule uses this view: delete the rule first."]})
        view.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- rules -------------------------------------------------------------------------------


class RuleList(APIView):
    permission_classes = [IsAuthenticated, ManagerWrites]

    @extend_schema(
        operation_id="rules_list", summary="List rules", responses={200: RuleSerializer(many=True)}
    )
    def get(self, request):
        rules = Rule.objects.select_related("view", "destination").order_by("name", "id")[:MAX_LISTED]
        return Response(RuleSerializer(rules, many=True).data)

    @extend_schema(
        operation_id="rules_create",
        summary="Create a rule",
        description="When a newly synced step matches the saved view `view`, `tag` it (here and in Letta) "
        "or `notify` the destination (one message per sync batch). Each step fires a rule once.",
        request=RuleInputSerializer,
        responses={201: RuleSerializer},
    )
    def post(self, request):
        rule = _valid(RuleForm(_form_data(request), user=request.user)).save()
        return Response(RuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class RuleDetail(APIView):
    permission_classes = [IsAuthenticated, ManagerWrites]

    @extend_schema(operation_id="rules_read", summary="One rule", responses={200: RuleSerializer})
    def get(self, request, rule_id: int):
        return Response(RuleSerializer(get_object_or_404(Rule, pk=rule_id)).data)

    @extend_schema(operation_id="rules_delete", summary="Delete a rule", responses={204: None})
    def delete(self, request, rule_id: int):
        get_object_or_404(Rule, pk=rule_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- alerts ------------------------------------------------------------------------------


class AlertList(APIView):
    permission_classes = [IsAuthenticated, ManagerWrites]

    @extend_schema(
        operation_id="alerts_list", summary="List alerts", responses={200: AlertSerializer(many=True)}
    )
    def get(self, request):
        alerts = Alert.objects.select_related("destination").order_by("name", "id")[:MAX_LISTED]
        return Response(AlertSerializer(alerts, many=True, context={"brief": True}).data)

    @extend_schema(
        operation_id="alerts_create",
        summary="Create an alert",
        description="Watches a series of the overview's rollups for a list query (`query`, e.g. "
        "`agent=support&model=gpt-4.1`; only filters the rollups answer: agent, model, provider, status, "
        "error type, errors, archived; anything else is a 400) over a window, and notifies `destination` "
        "(an apprise URL: `json://host:port/path`, an `http(s)://` webhook, `slack://…`, `mailto://…`) "
        "once when it starts firing and once when it resolves. Beat evaluates it every "
        "ALERT_EVALUATE_SECONDS.",
        request=AlertInputSerializer,
        responses={201: AlertSerializer},
    )
    def post(self, request):
        alert = _valid(AlertForm(_form_data(request), user=request.user)).save()
        return Response(AlertSerializer(alert).data, status=status.HTTP_201_CREATED)


class AlertDetail(APIView):
    permission_classes = [IsAuthenticated, ManagerWrites]

    @extend_schema(
        operation_id="alerts_read",
        summary="One alert, with its history",
        description="Its state, last figure, the newest firing/resolved events and notifications "
        "(with delivery status and any error).",
        responses={200: AlertSerializer},
    )
    def get(self, request, alert_id: int):
        return Response(AlertSerializer(get_object_or_404(Alert, pk=alert_id)).data)

    @extend_schema(
        operation_id="alerts_update",
        summary="Change an alert",
        description="Any of the fields of a create; the others stay.",
        request=AlertInputSerializer,
        responses={200: AlertSerializer},
    )
    def patch(self, request, alert_id: int):
        alert = get_object_or_404(Alert, pk=alert_id)
        current = {k: v for k, v in AlertForm.values_of(alert).items() if k != "enabled"}
        form = AlertForm({**current, **_form_data(request)}, user=request.user, instance=alert)
        return Response(AlertSerializer(_valid(form).save()).data)

    @extend_schema(operation_id="alerts_delete", summary="Delete an alert", responses={204: None})
    def delete(self, request, alert_id: int):
        get_object_or_404(Alert, pk=alert_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class AlertEvaluate(APIView):
    permission_classes = [IsAuthenticated, ManagerWrites]

    @extend_schema(
        operation_id="alerts_evaluate",
        summary="Evaluate an alert now",
        description="As beat does: the rollups are brought up to date, the figure computed, and a change "
        "of state recorded and notified (once).",
        request=None,
        responses={200: EvaluationSerializer},
    )
    def post(self, request, alert_id: int):
        get_object_or_404(Alert.objects.only("id"), pk=alert_id)
        outcome = evaluation.evaluate_now(alert_id)
        return Response(EvaluationSerializer(outcome).data)
