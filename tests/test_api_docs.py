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
