from django.urls import path

from . import views

urlpatterns = [
    path("", views.step_list, name="step_list"),
    path("steps/live/", views.step_list_live, name="step_list_live"),
    path("steps/<str:step_id>/", views.step_detail, name="step_detail"),
    path("steps/<str:step_id>/share/", views.share_create, name="share_create"),
    path("share-links/<int:link_id>/revoke/", views.share_revoke, name="share_revoke"),
    path("runs/<str:run_id>/", views.run_detail, name="run_detail"),
    # the one public route: LoginRequiredMiddleware is lifted by @login_not_required
    path("share/<str:token>/", views.shared_step, name="shared_step"),
]
