from django.urls import path

from .views import agreement

app_name = "review"

urlpatterns = [
    # --- revieweval: agreement, rubrics, exports -----------------------------------------------
    path("queues/<int:queue_id>/agreement/", agreement.queue_agreement, name="queue_agreement"),
    path(
        "queues/<int:queue_id>/agreement/disagreements/",
        agreement.queue_disagreements,
        name="queue_disagreements",
    ),
    # --- end revieweval ------------------------------------------------------------------------
]
