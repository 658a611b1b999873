"""Error pages: styled pages with a way back for people, one line of text for htmx requests,
JSON for the API (anything under /api/, where a script reads the answer).

htmx swaps nothing on an error status; static/js/review.js shows the line as a toast, so a
fragment of a whole page never lands inside the list.
"""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader

from steps.access import RoleRequired
from steps.api.errors import is_api_request, json_error

# status -> (title, the page's sentence, the toast's sentence)
PAGES = {
    400: ("Bad request", "The request could not be understood.", "The request was not valid."),
    403: ("Not allowed", "You do not have permission to do that.", "You are not allowed to do that."),
    404: (
        "Not found",
        "There is nothing at this address: the step may not be mirrored yet, or the link is incomplete.",
        "That step or page no longer exists.",
    ),
    500: (
        "Something went wrong",
        "The server hit an error and it has been logged. Try again in a moment.",
        "Something went wrong on the server; nothing was saved.",
    ),
}
API_SENTENCES = {
    404: "Not found: no API endpoint at this address, or no such object.",
    500: "Server error; it has been logged. Nothing was saved.",
}
CSRF_MESSAGE = (
    "This form has expired (the page was open a long time, or you signed in again elsewhere). "
    "Reload the page and try again."
)


def _is_htmx(request: HttpRequest) -> bool:
    # request.htmx is not set when a middleware before HtmxMiddleware refused the request
    return request.headers.get("HX-Request") == "true"


def _respond(request: HttpRequest, status: int, message: str = "", *, with_request: bool = True):
    title, sentence, line = PAGES[status]
    if is_api_request(request):
        return json_error(status, message or API_SENTENCES.get(status, sentence))
    if _is_htmx(request):
        return _line(message or line, status)
    message = message or sentence
    context = {"status": status, "title": title, "message": message}
    if not with_request:
        # a 500 may come from a broken database: render without context processors (no session, no user)
        return HttpResponse(loader.render_to_string("errors/error.html", context), status=status)
    return render(request, "errors/error.html", context, status=status)


def _line(text: str, status: int) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    # Our own BadRequest carries a sentence written for the user; Django's (SuspiciousOperation) does not.
    message = str(exception) if type(exception) is BadRequest else ""
    return _respond(request, 400, message)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    # A role refusal says which role the action needs; any other keeps the general sentence.
    message = str(exception) if isinstance(exception, RoleRequired) else ""
    return _respond(request, 403, message)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _respond(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return _respond(request, 500, with_request=False)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if is_api_request(request):
        return json_error(403, "CSRF check failed: a signed-in browser must send the X-CSRFToken header.")
    if _is_htmx(request):
        return _line(CSRF_MESSAGE, 403)
    context = {"status": 403, "title": "Form expired", "message": CSRF_MESSAGE, "reload": True}
    return render(request, "errors/error.html", context, status=403)
