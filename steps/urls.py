from django.urls import path

from . import views

urlpatterns = [
    path("", views.step_list, name="step_list"),
]
