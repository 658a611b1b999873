"""The personal API tokens page (/account/tokens/): create (the key is shown once), list, revoke."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from ..models import ApiToken

MAX_TOKENS_PER_USER = 50


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “nightly eval job”.")

    def clean_name(self):
        return self.cleaned_data["name"].strip()


def _page(request: HttpRequest, form: TokenForm, **extra) -> HttpResponse:
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at")
    context = {
        "form": form,
        "active": [t for t in tokens if t.is_active],
        "revoked": [t for t in tokens if not t.is_active][:20],
        **extra,
    }
    return render(
        request, "api/tokens.html", context, status=200 if form.is_bound is False or not form.errors else 400
    )


@never_cache
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request, TokenForm())
    form = TokenForm(request.POST)
    if form.is_valid() and ApiToken.objects.filter(user=request.user).active().count() >= MAX_TOKENS_PER_USER:
        form.add_error(None, f"You have {MAX_TOKENS_PER_USER} active tokens; revoke one first.")
    if not form.is_valid():
        return _page(request, form)
    token, key = ApiToken.create_for(request.user, form.cleaned_data["name"])
    # The key is in this response only (no redirect, never stored): never_cache keeps it out of caches.
    return _page(request, TokenForm(), new_token=token, new_key=key)


@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    get_object_or_404(ApiToken, pk=token_id, user=request.user).revoke(by=request.user)
    return redirect("api_tokens")
