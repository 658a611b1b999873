from django.urls import include, path, register_converter

from .export.views import export_steps
from .ids import RunIdConverter, StepIdConverter
from .views import compare, overview, review
from .views import steps as pages

# Path ids must look like Letta ids: anything else is a 404 before a view or a query runs.
register_converter(StepIdConverter, "step_id")
register_converter(RunIdConverter, "run_id")

urlpatterns = [
    path("", pages.step_list, name="step_list"),
    path("steps/live/", pages.step_list_live, name="step_list_live"),
    path("overview/", overview.overview, name="overview"),
    path("steps/<step_id:step_id>/", pages.step_detail, name="step_detail"),
    path("steps/<step_id:step_id>/share/", pages.share_create, name="share_create"),
    path("steps/<step_id:step_id>/vote/", review.vote, name="step_vote"),
    path("steps/<step_id:step_id>/vote/retry/", review.vote_retry, name="step_vote_retry"),
    path("steps/<step_id:step_id>/vote/resolve/", review.vote_resolve, name="step_vote_resolve"),
    path("steps/<step_id:step_id>/tags/", review.tags_update, name="step_tags"),
    path("steps/<step_id:step_id>/note/", review.note_update, name="step_note"),
    path("steps/<step_id:step_id>/next-unreviewed/", review.next_unreviewed, name="next_unreviewed"),
    path("export/", export_steps, name="export"),
    path("review/", include("steps.review.urls")),
    path("bulk/", review.bulk_start, name="bulk_start"),
    path("bulk/count/", review.bulk_count, name="bulk_count"),
    path("bulk/<int:batch_id>/", review.bulk_progress, name="bulk_progress"),
    path("share-links/<int:link_id>/revoke/", pages.share_revoke, name="share_revoke"),
    path("runs/<run_id:run_id>/", pages.run_detail, name="run_detail"),
    path("steps/<step_id:step_id>/compare-candidates/", compare.compare_recent, name="compare_recent"),
    path(
        "runs/<run_id:run_id>/compare-candidates/",
        compare.compare_recent_runs,
        name="compare_recent_runs",
    ),
    path("compare/", compare.compare_start, name="compare_start"),
    path("compare/runs/", compare.compare_runs_start, name="compare_runs_start"),
    path("compare/runs/<run_id:a_id>/<run_id:b_id>/", compare.compare_runs, name="compare_runs"),
    path("compare/<step_id:a_id>/<step_id:b_id>/", compare.compare_steps, name="compare_steps"),
    path("compare/<step_id:a_id>/<step_id:b_id>/expand/", compare.compare_expand, name="compare_expand"),
    path("", include("steps.alerts.urls")),  # saved views, rules, alerts
    # the one public route: LoginRequiredMiddleware is lifted by @login_not_required
    path("share/<str:token>/", pages.shared_step, name="shared_step"),
]
