"""The alerts app's pages, included at the site's root (steps/urls.py)."""

from django.urls import path

from . import pages

urlpatterns = [
    path("views/", pages.view_list, name="view_list"),
    path("views/default/", pages.view_default, name="view_default"),
    path("views/counts/", pages.view_counts, name="view_counts"),
    path("views/<int:view_id>/", pages.view_open, name="view_open"),
    path("views/<int:view_id>/default/", pages.view_make_default, name="view_make_default"),
    path("views/<int:view_id>/delete/", pages.view_delete, name="view_delete"),
    path("rules/", pages.rule_list, name="rule_list"),
    path("rules/<int:rule_id>/toggle/", pages.rule_toggle, name="rule_toggle"),
    path("rules/<int:rule_id>/delete/", pages.rule_delete, name="rule_delete"),
    path("alerts/", pages.alert_list, name="alert_list"),
    path("alerts/<int:alert_id>/", pages.alert_detail, name="alert_detail"),
    path("alerts/<int:alert_id>/evaluate/", pages.alert_evaluate, name="alert_evaluate"),
    path("alerts/<int:alert_id>/delete/", pages.alert_delete, name="alert_delete"),
    path("notifications/<int:notification_id>/retry/", pages.notification_retry, name="notification_retry"),
    path("destinations/test/", pages.destination_test, name="destination_test"),
]
