"""Login throttling: failures count per username and per client address (django-axes)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.http import HttpRequest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # UserFactory's
LOCKED = "Too many failed attempts; try again in 15 minutes."


@pytest.fixture
def rita():
    return UserFactory(username="rita")


def sign_in(client, username, password, address="203.0.113.7", url=None):
    return client.post(
        url or reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_a_hundred_wrong_passwords_then_the_right_one_is_refused(client, rita, settings):
    assert settings.LOGIN_FAILURE_LIMIT == 5 and settings.LOGIN_LOCKOUT_MINUTES == 15
    responses = [sign_in(client, "rita", f"guess {n}") for n in range(100)]
    assert [r.status_code for r in responses[:4]] == [200] * 4  # the form's own error
    assert "Please enter a correct username and password" in responses[0].content.decode()
    assert {r.status_code for r in responses[4:]} == {429}
    response = sign_in(client, "rita", PASSWORD)
    assert response.status_code == 429 and not signed_in(client)
    html = response.content.decode()
    assert LOCKED in html and 'class="alert alert-error"' in html
    assert 'name="username"' in html and 'value="rita"' in html  # still the styled sign-in page
    # Refused attempts are not recorded: the attempt row stops growing under a flood.
    assert sum(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == 5


def test_one_address_guessing_many_usernames_is_stopped(client, rita):
    for n in range(5):
        sign_in(client, f"someone{n}", "guess")
    assert sign_in(client, "rita", PASSWORD).status_code == 429
    assert sign_in(client, "rita", PASSWORD, address="198.51.100.1").status_code == 302  # elsewhere


def test_many_addresses_guessing_one_username_are_stopped(client, rita):
    for n in range(5):
        sign_in(client, "rita", "guess", address=f"198.51.100.{n + 1}")
    assert sign_in(client, "rita", PASSWORD, address="192.0.2.50").status_code == 429
    assert not signed_in(client)


def test_the_admin_login_is_throttled_too(client):
    UserFactory(username="boss", is_staff=True, is_superuser=True)
    admin_login = reverse("admin:login")
    for _ in range(5):
        sign_in(client, "boss", "guess", url=admin_login)
    response = sign_in(client, "boss", PASSWORD, url=admin_login)
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert not signed_in(client)


def test_the_lockout_ends_after_the_window(client, rita):
    for _ in range(5):
        sign_in(client, "rita", "guess")
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=14)
    )
    assert "try again in 1 minute." in sign_in(client, "rita", PASSWORD).content.decode()
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=2))
    assert sign_in(client, "rita", PASSWORD).status_code == 302 and signed_in(client)


def test_signing_in_to_another_account_does_not_reset_the_count(client, rita):
    """Otherwise any user could guess someone else's password a few at a time between own sign-ins."""
    UserFactory(username="mallory")
    for round in range(2):
        for _ in range(2):
            sign_in(client, "rita", f"guess {round}")
        assert sign_in(client, "mallory", PASSWORD).status_code == 302
        client.logout()
    assert sign_in(client, "rita", "guess 3").status_code == 429  # the fifth failure
    assert sign_in(client, "rita", PASSWORD).status_code == 429


def test_test_helpers_still_log_in(client, rita):
    """Axes needs the request in authenticate(); the test client's login() passes none."""
    client.force_login(rita)
    assert client.get(reverse("step_list")).status_code == 200
    client.logout()
    assert client.login(request=HttpRequest(), username="rita", password=PASSWORD)
    assert client.get(reverse("step_list")).status_code == 200


def test_behind_a_proxy_the_forwarded_address_counts(client, rita, settings):
    settings.PROXY_COUNT = 1
    for _ in range(5):
        client.post(
            reverse("login"),
            {"username": f"x{_}", "password": "guess"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="spoofed, 203.0.113.9",
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}
    # another client behind the same proxy is not locked out
    other = sign_in(client, "rita", PASSWORD, address="10.0.0.1")
    assert other.status_code == 302
