"""The project's URLconf plus an API view that fails, to see the 500 a script gets."""

from django.urls import path
from rest_framework.views import APIView

from dashboard.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


class Boom(APIView):
    def get(self, request):
        raise RuntimeError("a bug")


urlpatterns = [path("api/v1/boom/", Boom.as_view()), *urlpatterns]
