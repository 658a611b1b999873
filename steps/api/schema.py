"""What drf-spectacular cannot see by itself: our bearer tokens, and the error answers every
operation can give (401 without credentials, 403, 404, 429 when throttled, 500), all JSON."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "One sentence saying what went wrong."},
        "errors": {
            "type": "object",
            "description": "For a 400: each invalid field or query parameter and why.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["detail"],
}
ERRORS = {
    "400": "Invalid input: `errors` names each invalid field or parameter and why.",
    "401": "No credentials, or an unknown or revoked token.",
    "403": "Not allowed (for a signed-in browser: the CSRF token is missing).",
    "404": "No such object, or no endpoint at this address.",
    "405": "This endpoint does not take that method.",
    "429": "Too many requests for this token: wait the seconds in Retry-After.",
    "500": "Server error; nothing was saved.",
}


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "steps.api.auth.BearerTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        scheme = build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer")
        scheme["description"] = "A personal API token from /account/tokens/."
        return scheme


def add_error_responses(result, generator, request, public):
    """Postprocessing hook: the Error component, and every error status on every operation."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    if cookie := components.get("securitySchemes", {}).get("cookieAuth"):
        cookie["description"] = (
            "The signed-in browser's session; writes must also send the CSRF token as X-CSRFToken."
        )
    ref = {"$ref": "#/components/schemas/Error"}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                responses.setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": ref}}}
                )
    return result
