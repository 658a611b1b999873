"""Request guards that hold for every route, the admin included."""

from __future__ import annotations

from django.core.exceptions import BadRequest

from steps.api.errors import is_api_request

NUL = "\x00"


class RejectNulMiddleware:
    """A 400 for a NUL byte anywhere in the path, query string, form body or cookies.

    No text this app stores may contain one (PostgreSQL text and JSONB refuse it, which would
    surface as a 500 wherever such a value reaches a query), and no person types one. Checking
    once here covers every view, form and admin page, present and future.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            raise BadRequest("Text cannot contain NUL characters (\\0).")
        return self.get_response(request)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(request) -> bool:
    return any(NUL in text for text in _texts(request))


def _texts(request):
    yield request.path
    forms = [request.GET]
    if request.method == "POST" and request.content_type in FORM_TYPES:
        forms.append(request.POST)
    for form in forms:
        for key, values in form.lists():
            yield key
            yield from values
    for key, value in request.COOKIES.items():
        yield key
        yield value


class FormBodiesOnlyMiddleware:
    """A 400 for a POST to a page whose body is no form (JSON, XML, text ...).

    Pages read request.POST, which Django fills from form bodies only: any other body reached a
    view as an empty form, so a JSON body cleared the note it was sent to, and one nested 100,000
    levels deep did the same. The API (under /api/) parses its JSON itself (steps/api/parsers.py).
    Checked after the sign-in and CSRF checks, which answer an anonymous or forged POST first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or is_api_request(request) or request.content_type in FORM_TYPES:
            return None
        if not request.body:
            return None  # nothing to misread: a button's POST without fields
        kind = request.content_type[:60] or "a body without a content type"
        raise BadRequest(f"This page takes form data, not {kind}.")
