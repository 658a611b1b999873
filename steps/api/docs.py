"""The API's documentation page: Swagger UI from drf-spectacular-sidecar's static files (no CDN).

Not drf-spectacular's own view: its template starts Swagger UI from an inline <script>, which the
site's CSP refuses. Here the page is ours (base.html chrome, signed-in only like every page) and
Swagger UI is started by static/js/api_docs.js. Swagger UI's stylesheet draws its icons as data:
images, so this one page allows `img-src data:` as well; scripts, styles and requests stay 'self'.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override

from .errors import json_error

DOCS_CSP = {**settings.SECURE_CSP, "img-src": [CSP.SELF, "data:"]}


@csp_override(DOCS_CSP)
def api_docs(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return json_error(405, f"Method {request.method} not allowed.")
    return render(request, "api/docs.html")
