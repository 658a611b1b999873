from django.urls import path

from .views import adjudicate, agreement, exports, queues, rubrics, work

app_name = "review"

urlpatterns = [
    # --- reviewui: queues, reviewing, adjudication ---------------------------------------------
    path("", queues.queue_list, name="queue_list"),
    path("queues/new/", queues.queue_new, name="queue_new"),
    path("queues/<int:queue_id>/", queues.queue_detail, name="queue_detail"),
    path("queues/<int:queue_id>/edit/", queues.queue_edit, name="queue_edit"),
    path("queues/<int:queue_id>/review/", work.review, name="queue_review"),
    path("queues/<int:queue_id>/undo/", work.undo, name="queue_undo"),
    path("queues/<int:queue_id>/items/<int:item_id>/submit/", work.submit, name="item_submit"),
    path("queues/<int:queue_id>/items/<int:item_id>/skip/", work.skip, name="item_skip"),
    path("queues/<int:queue_id>/items/<int:item_id>/diff/", work.diff, name="item_diff"),
    path("queues/<int:queue_id>/adjudicate/", adjudicate.adjudicate_list, name="queue_adjudicate"),
    path(
        "queues/<int:queue_id>/items/<int:item_id>/adjudicate/",
        adjudicate.adjudicate_item,
        name="item_adjudicate",
    ),
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
]
