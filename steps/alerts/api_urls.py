"""The alerts app's API routes, included in /api/v1/ (steps/api/urls.py) under its namespace."""

from django.urls import path

from . import api

urlpatterns = [
    path("views/", api.SavedViewList.as_view(), name="view-list"),
    path("views/<int:view_id>/", api.SavedViewDetail.as_view(), name="view-detail"),
    path("rules/", api.RuleList.as_view(), name="rule-list"),
    path("rules/<int:rule_id>/", api.RuleDetail.as_view(), name="rule-detail"),
    path("alerts/", api.AlertList.as_view(), name="alert-list"),
    path("alerts/<int:alert_id>/", api.AlertDetail.as_view(), name="alert-detail"),
    path("alerts/<int:alert_id>/evaluate/", api.AlertEvaluate.as_view(), name="alert-evaluate"),
]
