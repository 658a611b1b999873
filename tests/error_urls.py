"""The project's URLconf plus a view that fails, to see the 500 page as a user would."""

from django.urls import path

from dashboard.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), *urlpatterns]
