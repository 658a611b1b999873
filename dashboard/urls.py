from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from .demo_login import LoginView

urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("steps.api.urls")),
    path("account/", include("steps.api.account_urls")),
    path("", include("steps.urls")),
]

# Styled pages with a way back; htmx requests get one line for the error toast instead.
handler400 = "dashboard.errors.bad_request"
handler403 = "dashboard.errors.permission_denied"
handler404 = "dashboard.errors.page_not_found"
handler500 = "dashboard.errors.server_error"
