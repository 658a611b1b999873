"""The API docs page (a signed-in page under the site's CSP, relaxed only for Swagger UI's data: icons);
and the one error a script should never see, a 500, still as JSON."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_docs_page_loads_swagger_ui_from_our_static_files(user_client):
    response = user_client.get("/api/v1/docs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "/static/js/api_docs.js" in html
    assert 'data-schema-url="/api/v1/schema/"' in html
    assert "<script>" not in html and "cdn" not in html.lower()


def test_only_the_docs_page_allows_data_images_and_nothing_else_is_relaxed(user_client):
    docs = user_client.get("/api/v1/docs/")["Content-Security-Policy"]
    page = user_client.get("/")["Content-Security-Policy"]
    assert "img-src 'self' data:" in docs and "data:" not in page
    assert docs.replace(" data:", "") == page


def test_the_docs_page_needs_a_sign_in_and_answers_other_methods_with_json(user_client):
    assert Client().get("/api/v1/docs/")["Location"].startswith("/login/")
    response = user_client.post("/api/v1/docs/")
    assert response.status_code == 405 and response.json()["detail"]


@pytest.mark.urls("tests.api_error_urls")
def test_a_bug_in_an_api_view_is_a_json_500_without_the_traceback(api):
    api.raise_request_exception = False
    response = api.get("/api/v1/boom/")
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Server error; it has been logged. Nothing was saved."}


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_the_api_root_lists_every_documented_endpoint_and_where_the_docs_are(api):
    response = api.get("/api/v1/")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    index = response.json()
    assert index["docs"] == "http://testserver/api/v1/docs/"
    assert index["schema"] == "http://testserver/api/v1/schema/"
    assert index["tokens"] == "http://testserver/account/tokens/"
    listed = {(e["method"], e["path"]) for e in index["endpoints"]}
    schema = api.get("/api/v1/schema/").json()
    documented = {(method.upper(), path) for path, item in schema["paths"].items() for method in item}
    assert listed == documented
    steps = next(e for e in index["endpoints"] if e["path"] == "/api/v1/steps/")
    assert steps == {
        "method": "GET",
        "path": "/api/v1/steps/",
        "url": "http://testserver/api/v1/steps/",
        "summary": "List steps",
        "group": "steps",
    }
    vote = next(e for e in index["endpoints"] if e["path"] == "/api/v1/steps/{step_id}/feedback")
    assert vote["method"] == "POST" and vote["url"] == "http://testserver/api/v1/steps/{step_id}/feedback"


def test_the_api_root_needs_credentials_like_every_endpoint():
    response = Client().get("/api/v1/", HTTP_ACCEPT="application/json")
    assert response.status_code == 401 and response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    bad = Client().get("/api/v1/", HTTP_AUTHORIZATION="Bearer lsd_not-a-token")
    assert bad.status_code == 401 and bad["Content-Type"] == "application/json"


def test_a_browser_gets_the_api_root_as_a_page_with_links(user_client):
    response = user_client.get("/api/v1/", HTTP_ACCEPT=BROWSER_ACCEPT)
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert '<a href="http://testserver/api/v1/docs/">Documentation (Swagger UI)</a>' in html
    assert '<a href="http://testserver/api/v1/steps/">/api/v1/steps/</a>' in html
    # a path that needs an id is shown, not linked
    assert '<td class="mono">/api/v1/steps/{step_id}/</td>' in html
    assert "Vote on a step" in html and "<script>" not in html
    assert response["Content-Security-Policy"] == user_client.get("/")["Content-Security-Policy"]


def test_a_browser_without_a_session_is_sent_to_sign_in_and_errors_stay_json(user_client):
    response = Client().get("/api/v1/", HTTP_ACCEPT=BROWSER_ACCEPT)
    assert response.status_code == 302 and response["Location"] == "/login/?next=/api/v1/"
    refused = user_client.post("/api/v1/", HTTP_ACCEPT=BROWSER_ACCEPT)
    assert refused.status_code == 405 and refused["Content-Type"] == "application/json"
