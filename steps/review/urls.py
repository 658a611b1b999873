from django.urls import path

from .views import agreement, exports, rubrics

app_name = "review"

urlpatterns = [
    # --- revieweval: agreement, rubrics, exports -----------------------------------------------
    path("queues/<int:queue_id>/agreement/", agreement.queue_agreement, name="queue_agreement"),
    path(
        "queues/<int:queue_id>/agreement/disagreements/",
        agreement.queue_disagreements,
        name="queue_disagreements",
    ),
    path("queues/<int:queue_id>/export/", exports.queue_export, name="queue_export"),
    path("rubrics/", rubrics.rubric_list, name="rubric_list"),
    path("rubrics/new/", rubrics.rubric_create, name="rubric_create"),
    path("rubrics/<int:rubric_id>/", rubrics.rubric_detail, name="rubric_detail"),
    path("rubrics/<int:rubric_id>/edit/", rubrics.rubric_edit, name="rubric_edit"),
    path("rubrics/<int:rubric_id>/archive/", rubrics.rubric_archive, name="rubric_archive"),
    # --- end revieweval ------------------------------------------------------------------------
]
