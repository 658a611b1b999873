"""Every API error is JSON: `{"detail": "<sentence>", "errors": {"<field>": ["<reason>", ...]}}`.

DRF's own exceptions come through `exception_handler`; what happens before or outside a DRF view
(an unknown /api/ URL, a NUL byte refused by the middleware, a 500) goes through Django's error
handlers, which dashboard/errors.py sends to `json_error` for paths under API_PREFIX.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

API_PREFIX = "/api/"


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def json_error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def _flatten(data) -> dict[str, list[str]]:
    if isinstance(data, dict):
        return {str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in data.items()}
    return {"non_field_errors": [str(m) for m in (data if isinstance(data, list) else [data])]}


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's handler500, JSON under /api/
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        field, messages = next(iter(errors.items()), ("", [""]))
        where = "" if field == "non_field_errors" else f"{field}: "
        response.data = {"detail": f"Invalid input. {where}{messages[0]}", "errors": errors}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"])}
    return response


class InvalidParameters(exceptions.ValidationError):
    """A 400 naming each invalid query parameter and why (from a Django form's errors)."""

    def __init__(self, form_errors):
        super().__init__({name: [str(e) for e in errs] for name, errs in form_errors.items()})
