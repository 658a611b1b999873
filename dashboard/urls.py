from django.contrib import admin
from django.urls import include, path

from steps.access.sso_views import logout

from .demo_login import LoginView, admin_login

urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    # signs out here, and at the identity provider too after a single sign-on
    path("logout/", logout, name="logout"),
    # single sign-on (OpenID Connect): /oidc/login/, /oidc/callback/; 404 while OIDC_ISSUER is unset
    path("", include("steps.access.urls")),
    path("", include("steps.audit.urls")),  # /audit/: the audit trail, managers only
    path("admin/login/", admin_login, name="admin_login"),  # the admin's own form, unless LOCAL_LOGIN is off
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
