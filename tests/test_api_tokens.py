"""Personal API tokens: shown once, hashed at rest, bearer works, revoked is 401; session writes need CSRF;
per-token throttling; and a script holding only a token lists, filters, pages, reads and votes."""

import re
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from steps.models import ApiToken, FeedbackPush
from steps.models.api_tokens import hash_key
from tests.factories import BASE_TIME, StepFactory, UserFactory

pytestmark = pytest.mark.django_db


def create_on_page(client, name="nightly eval") -> tuple[str, str]:
    html = client.post("/account/tokens/", {"name": name}).content.decode()
    return re.search(r'id="new-token-key">([^<]+)<', html).group(1), html


def test_token_lifecycle_on_the_page(user_client, user):
    key, html = create_on_page(user_client)
    assert key.startswith("lsd_") and len(key) > 40
    assert "shown only this once" in html

    token = ApiToken.objects.get(user=user)
    assert token.name == "nightly eval" and token.key_hash == hash_key(key)
    assert key not in str(ApiToken.objects.values().get())  # only the hash is stored

    listing = user_client.get("/account/tokens/").content.decode()
    assert key not in listing and token.key_prefix in listing and "never" in listing

    bearer = Client(headers={"Authorization": f"Bearer {key}"})
    assert bearer.get("/api/v1/steps/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert "never" not in user_client.get("/account/tokens/").content.decode().split("<tbody>")[1]

    assert user_client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 302
    response = bearer.get("/api/v1/steps/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or revoked token."}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_tokens_page_needs_csrf_and_only_revokes_your_own(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post("/account/tokens/", {"name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()
    theirs, _ = ApiToken.create_for(UserFactory(), "not yours")
    token_page = client.get("/account/tokens/")
    csrf = token_page.cookies["csrftoken"].value
    assert (
        client.post(f"/account/tokens/{theirs.pk}/revoke/", {"csrfmiddlewaretoken": csrf}).status_code == 404
    )
    theirs.refresh_from_db()
    assert theirs.is_active


def test_an_empty_name_is_a_form_error(user_client):
    response = user_client.post("/account/tokens/", {"name": "   "})
    assert response.status_code == 400 and not ApiToken.objects.exists()


@pytest.mark.parametrize(
    "header",
    ["Bearer lsd_not-a-real-key", "Bearer", "Bearer a b", "Bearer " + "x" * 500, "Bearer \u00e9t\u00e9"],
)
def test_unknown_or_malformed_tokens_are_401_json(header):
    response = Client(headers={"Authorization": header}).get("/api/v1/steps/")
    assert response.status_code == 401 and response.json()["detail"]


def test_anonymous_is_401_json_not_a_login_redirect(client):
    response = client.get("/api/v1/steps/")
    assert response.status_code == 401 and response["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_a_token_of_a_deactivated_user_stops_working(api, token_user):
    token_user.is_active = False
    token_user.save()
    assert api.get("/api/v1/steps/").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(api, token_user):
    api.get("/api/v1/agents/")
    token = ApiToken.objects.get(user=token_user)
    first = token.last_used_at
    with CaptureQueriesContext(connection) as queries:
        api.get("/api/v1/agents/")
    assert not [q for q in queries if q["sql"].startswith("UPDATE")]
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    api.get("/api/v1/agents/")
    token.refresh_from_db()
    assert token.last_used_at > first


def test_session_writes_need_the_csrf_token_bearer_writes_do_not(user, api):
    step = StepFactory()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    url = f"/api/v1/steps/{step.pk}/feedback"
    refused = browser.post(url, {"value": "positive"}, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert browser.get("/api/v1/steps/").status_code == 200  # reads with the session are fine
    csrf = browser.get("/account/tokens/").cookies["csrftoken"].value
    ok = browser.post(
        url, {"value": "positive"}, content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert ok.status_code == 200
    assert api.post(url, {"value": "negative"}, content_type="application/json").status_code == 200
    assert FeedbackPush.objects.filter(step=step).count() == 2


def test_each_token_is_throttled_on_its_own(settings, token_user):
    settings.API_THROTTLE_RATE = "3/min"
    tokens = [ApiToken.create_for(token_user, name) for name in ("a", "b")]
    # only these tokens' counters (the shared cache may be the broker's Redis database: no clear())
    counters = [f"api-throttle:token:{token.pk}" for token, _ in tokens]
    caches["api-throttle"].delete_many(counters)
    (_, first), (_, second) = tokens
    a = Client(headers={"Authorization": f"Bearer {first}"})
    b = Client(headers={"Authorization": f"Bearer {second}"})
    assert [a.get("/api/v1/agents/").status_code for _ in range(3)] == [200, 200, 200]
    limited = a.get("/api/v1/agents/")
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert "throttled" in limited.json()["detail"].lower()
    assert b.get("/api/v1/agents/").status_code == 200
    assert caches["api-throttle"].get(counters[0])  # counted in the shared cache, not in this process
    caches["api-throttle"].delete_many(counters)


def test_a_script_holding_only_a_token_lists_filters_pages_reads_and_votes(api):
    for i in range(7):
        StepFactory(step_time=BASE_TIME + timedelta(seconds=i), **({"failed": True} if i % 2 else {}))
    # list, filtered: the failed steps of the night, three a page
    url, failed = "/api/v1/steps/?status=failed&page_size=2", []
    while url:
        page = api.get(url).json()
        failed += page["results"]
        url = page["next"]
    assert len(failed) == 3 and {s["status"] for s in failed} == {"failed"}
    # read one, then vote on it
    detail = api.get(failed[0]["url"] + "?traces=none").json()
    assert detail["error"]["message"].startswith("INVALID_ARGUMENT")
    voted = api.post(
        f"/api/v1/steps/{detail['id']}/feedback", {"value": "negative"}, content_type="application/json"
    )
    assert voted.status_code == 200 and voted.json()["feedback"] == "negative"
    assert (
        api.get("/api/v1/steps/?feedback=negative").json()["results"] == []
    )  # Letta's value, not yet written
    assert [s["id"] for s in api.get("/api/v1/steps/?status=failed&unreviewed=1").json()["results"]] == [
        s["id"] for s in failed[1:]
    ]


def test_staff_see_tokens_in_the_admin_without_their_hash_and_can_revoke_them(admin_client, api, token_user):
    token = ApiToken.objects.get(user=token_user)
    listing = admin_client.get("/admin/steps/apitoken/?q=scripter").content.decode()
    assert token.key_prefix in listing and token.key_hash not in listing
    change = admin_client.get(f"/admin/steps/apitoken/{token.pk}/change/").content.decode()
    assert token.key_hash not in change
    admin_client.post(
        "/admin/steps/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )
    assert api.get("/api/v1/steps/").status_code == 401
    assert admin_client.get("/admin/steps/apitoken/add/").status_code == 403
