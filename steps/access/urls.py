from django.urls import path

from . import sso_views

urlpatterns = [
    path("oidc/login/", sso_views.StartView.as_view(), name="oidc_login"),
    # the redirect URI to register at the provider: https://<host>/oidc/callback/
    path("oidc/callback/", sso_views.CallbackView.as_view(), name="oidc_callback"),
]
