"""GET /api/v1/: every endpoint of the API with its method and summary, and where its docs are.

JSON for scripts (the default, and for `Accept: application/json`); a page in the site's chrome for a
browser (`Accept: text/html`), as DRF's API root, whose browsable renderer the site's CSP refuses.
The list is read from the OpenAPI schema, so it names what the docs name and nothing else. Errors stay
JSON whoever asks, as everywhere under /api/; only a browser without a session is sent to sign in.
"""

from __future__ import annotations

import functools
import re

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.renderers import JSONRenderer, TemplateHTMLRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

METHODS = ("get", "post", "put", "patch", "delete")


class EndpointSerializer(serializers.Serializer):
    method = serializers.CharField()
    path = serializers.CharField(help_text="With `{name}` where an id goes.")
    url = serializers.CharField(help_text="The absolute URL, with the same placeholders.")
    summary = serializers.CharField(allow_blank=True)
    group = serializers.CharField(allow_blank=True)


class IndexSerializer(serializers.Serializer):
    title = serializers.CharField()
    version = serializers.CharField()
    docs = serializers.URLField(help_text="Swagger UI, for a browser.")
    schema = serializers.URLField(help_text="The OpenAPI 3 schema.")
    tokens = serializers.URLField(help_text="Where a person creates a personal API token.")
    endpoints = EndpointSerializer(many=True)


@functools.cache
def operations() -> tuple[dict, ...]:
    """(method, path, summary, group) of every documented operation, grouped as the docs show them.

    Generating the schema takes a noticeable fraction of a second and it only changes with the code,
    so once per process.
    """
    schema = SchemaGenerator().get_schema(request=None, public=True)
    order = {tag["name"]: i for i, tag in enumerate(settings.SPECTACULAR_SETTINGS.get("TAGS", []))}
    found = [
        {
            "method": method.upper(),
            "path": path,
            "summary": operation.get("summary", ""),
            "group": (operation.get("tags") or [""])[0],
        }
        for path, item in schema.get("paths", {}).items()
        for method, operation in item.items()
        if method in METHODS
    ]
    # sorted() is stable: within a group, the schema's order (by path)
    return tuple(sorted(found, key=lambda op: order.get(op["group"], len(order))))


def index(request) -> dict:
    def absolute(path: str) -> str:
        return request.build_absolute_uri(path)

    return {
        "title": settings.SPECTACULAR_SETTINGS.get("TITLE", "API"),
        "version": settings.SPECTACULAR_SETTINGS.get("VERSION", ""),
        "docs": absolute(reverse("api:docs")),
        "schema": absolute(reverse("api:schema")),
        "tokens": absolute(reverse("api_tokens")),
        # build_absolute_uri would percent-encode the braces of `{step_id}`
        "endpoints": [{**op, "url": absolute("/").rstrip("/") + op["path"]} for op in operations()],
    }


class IndexPage(TemplateHTMLRenderer):
    template_name = "api/index.html"

    def get_template_context(self, data, renderer_context):
        context = super().get_template_context(data, renderer_context)
        if renderer_context["response"].exception:
            return context
        about = {
            tag["name"]: tag.get("description", "") for tag in settings.SPECTACULAR_SETTINGS.get("TAGS", [])
        }
        for endpoint in context["endpoints"]:
            # a link only where a GET needs no id
            endpoint["link"] = endpoint["method"] == "GET" and not re.search(r"\{\w+\}", endpoint["path"])
            endpoint["about"] = about.get(endpoint["group"], "")
        return context


class ApiIndex(APIView):
    renderer_classes = [JSONRenderer, IndexPage]  # JSON first: what a client gets unless it asks for HTML

    @extend_schema(
        operation_id="api_index",
        summary="Index of the endpoints",
        description="Every endpoint with its method, path and summary, and the links to the docs, the "
        "schema and the token page. A browser (`Accept: text/html`) gets it as a page.",
        tags=["index"],
        responses={200: IndexSerializer},
    )
    def get(self, request):
        return Response(index(request))

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.NotAuthenticated) and self._wants_page():
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and response.exception:
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response

    def _wants_page(self) -> bool:
        renderer = getattr(self.request, "accepted_renderer", None)
        return isinstance(renderer, IndexPage)
