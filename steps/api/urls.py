"""/api/v1/: reads and writes over steps, runs, agents, sync runs and review queues; the schema and its docs page."""

from django.urls import path, register_converter
from drf_spectacular.views import SpectacularJSONAPIView

from .. import urls as page_urls  # noqa: F401  (registers the step_id and run_id converters)
from ..alerts.api_urls import urlpatterns as alerts_urls
from ..ids import AgentIdConverter
from . import docs, export, index, queue_export, queues, schema, views  # noqa: F401  (schema registers the bearer scheme with drf-spectacular)

register_converter(AgentIdConverter, "agent_id")

app_name = "api"
urlpatterns = [
    path("", index.ApiIndex.as_view(), name="index"),
    path("steps/", views.StepList.as_view(), name="step-list"),
    # before the step routes: "export" is no step id, but keep the literal routes first
    path("steps/export/", export.StepExport.as_view(), name="step-export"),
    path("steps/bulk-feedback", views.BulkFeedback.as_view(), name="bulk-feedback"),
    path("steps/<step_id:step_id>/", views.StepDetail.as_view(), name="step-detail"),
    path("steps/<step_id:step_id>/feedback", views.StepFeedback.as_view(), name="step-feedback"),
    path("steps/<step_id:step_id>/tags", views.StepTags.as_view(), name="step-tags"),
    path("steps/<step_id:step_id>/notes", views.StepNotes.as_view(), name="step-notes"),
    path("bulk/<int:batch_id>/", views.BulkDetail.as_view(), name="bulk-detail"),
    path("runs/", views.RunList.as_view(), name="run-list"),
    path("runs/<run_id:run_id>/", views.RunDetail.as_view(), name="run-detail"),
    path("agents/", views.AgentList.as_view(), name="agent-list"),
    path("agents/<agent_id:agent_id>/", views.AgentDetail.as_view(), name="agent-detail"),
    path("sync-runs/", views.SyncRunList.as_view(), name="sync-run-list"),
    path("sync-runs/<int:sync_run_id>/", views.SyncRunDetail.as_view(), name="sync-run-detail"),
    path("compare/<step_id:a_id>/<step_id:b_id>/", views.CompareSteps.as_view(), name="compare"),
    *alerts_urls,  # views/, rules/, alerts/
    path("rubrics/", queues.RubricList.as_view(), name="rubric-list"),
    path("rubrics/<int:rubric_id>/", queues.RubricDetail.as_view(), name="rubric-detail"),
    path("queues/", queues.QueueList.as_view(), name="queue-list"),
    path("queues/<int:queue_id>/", queues.QueueDetail.as_view(), name="queue-detail"),
    path("queues/<int:queue_id>/next/", queues.QueueNext.as_view(), name="queue-next"),
    path("queues/<int:queue_id>/undo/", queues.QueueUndo.as_view(), name="queue-undo"),
    path("queues/<int:queue_id>/items/", queues.QueueItems.as_view(), name="queue-items"),
    path("queues/<int:queue_id>/agreement/", queues.QueueAgreement.as_view(), name="queue-agreement"),
    path("queues/<int:queue_id>/export/", queue_export.QueueExport.as_view(), name="queue-export"),
    path(
        "queues/<int:queue_id>/items/<step_id:step_id>/reviews/",
        queues.ItemReviews.as_view(),
        name="queue-item-reviews",
    ),
    path(
        "queues/<int:queue_id>/items/<step_id:step_id>/release/",
        queues.ItemRelease.as_view(),
        name="queue-item-release",
    ),
    path(
        "queues/<int:queue_id>/items/<step_id:step_id>/skip/",
        queues.ItemSkip.as_view(),
        name="queue-item-skip",
    ),
    path(
        "queues/<int:queue_id>/items/<step_id:step_id>/adjudicate/",
        queues.ItemAdjudicate.as_view(),
        name="queue-item-adjudicate",
    ),
    path("schema/", SpectacularJSONAPIView.as_view(), name="schema"),
    path("docs/", docs.api_docs, name="docs"),
]
