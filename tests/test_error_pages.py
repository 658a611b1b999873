"""404, 403, 400, 500 and CSRF failures: a styled page with a way back; one line for htmx."""

import pytest
from django.test import Client

from tests.factories import StepFactory, UserFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
MISSING = "step-00000000-0000-4000-8000-000000000000"


def assert_styled(response, status, title):
    html = response.content.decode()
    assert response.status_code == status
    assert f'<div class="error-code" aria-hidden="true">{status}</div>' in html
    assert f"<h1>{title}</h1>" in html
    assert 'href="/">Back to the step list</a>' in html
    assert 'href="/static/css/app.css"' in html  # extends base.html: it looks like the product


@pytest.mark.parametrize("url", [f"/steps/{MISSING}/", "/no/such/page/", "/steps/not-an-id/"])
def test_not_found_is_styled(user_client, url):
    assert_styled(user_client.get(url), 404, "Not found")


def test_not_found_for_htmx_is_one_line(user_client):
    response = user_client.post(f"/steps/{MISSING}/vote/", {"value": "positive"}, headers=HX)
    assert response.status_code == 404
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == "That step or page no longer exists."


def test_anonymous_unknown_url_is_styled_without_the_signed_in_chrome(client):
    response = client.get("/no/such/page/")
    assert_styled(response, 404, "Not found")
    assert "Sign out" not in response.content.decode()


def test_forbidden_is_styled(user_client):
    step = StepFactory()  # the user has no add_sharelink permission
    assert_styled(user_client.post(f"/steps/{step.pk}/share/"), 403, "Not allowed")
    response = user_client.post(f"/steps/{step.pk}/share/", headers=HX)
    assert response.content.decode() == "You are not allowed to do that."


def test_bad_request_page_says_what_was_wrong(user_client):
    step = StepFactory()
    response = user_client.post(f"/steps/{step.pk}/vote/", {"value": "meh"})
    assert_styled(response, 400, "Bad request")
    assert "Unknown vote: use positive or negative." in response.content.decode()
    htmx = user_client.post(f"/steps/{step.pk}/vote/", {"value": "meh"}, headers=HX)
    assert htmx.content.decode() == "Unknown vote: use positive or negative."


def test_csrf_failure_is_styled_and_says_to_reload():
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    step = StepFactory()
    response = client.post(f"/steps/{step.pk}/vote/", {"value": "positive"})
    assert_styled(response, 403, "Form expired")
    assert "Reload the page and try again." in response.content.decode()
    htmx = client.post(f"/steps/{step.pk}/vote/", {"value": "positive"}, headers=HX)
    assert htmx.status_code == 403 and htmx.content.decode().startswith("This form has expired")


@pytest.mark.urls("tests.error_urls")
def test_server_error_is_styled_and_renders_without_the_database(user_client, django_assert_num_queries):
    user_client.raise_request_exception = False
    with django_assert_num_queries(2):  # the session and the user of the request; none by the page
        response = user_client.get("/boom/")
    assert_styled(response, 500, "Something went wrong")
    assert "a bug" not in response.content.decode()  # no internals
    htmx = user_client.get("/boom/", headers=HX)
    assert htmx.content.decode() == "Something went wrong on the server; nothing was saved."
