from django.urls import path

from . import tokens

urlpatterns = [
    path("tokens/", tokens.token_list, name="api_tokens"),
    path("tokens/<int:token_id>/revoke/", tokens.token_revoke, name="api_token_revoke"),
]
