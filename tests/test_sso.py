"""Single sign-on through a real OpenID Connect provider (oidc-provider-mock, its own process):
the flow, the role from the claim, and forged or replayed callbacks that sign in nobody."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.shortcuts import resolve_url

from steps.access import role_of
from steps.access.models import RolePin, SignOnIdentity
from steps.audit.models import AuditEvent
from tests.factories import UserFactory
from tests.oidc_fixtures import CLIENT_ID, authorize, callback, signed_in_user_id, start

pytestmark = pytest.mark.django_db
User = get_user_model()


def sign_in(client, sub: str):
    response = callback(client, authorize(start(client), sub))
    assert response.status_code == 302, response.content.decode()[:500]
    return User.objects.get(pk=signed_in_user_id(client))


def test_the_login_page_offers_the_provider_and_keeps_passwords(client, sso):
    page = client.get("/login/").content.decode()
    assert 'href="/oidc/login/"' in page and "Sign in with Test IdP" in page
    assert 'name="password"' in page


def test_without_an_issuer_there_is_no_button_and_the_routes_are_gone(client, settings):
    settings.OIDC_ISSUER = ""
    assert "Sign in with" not in client.get("/login/").content.decode()
    assert client.get("/oidc/login/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404


def test_the_authorization_request_uses_pkce_state_and_nonce(client, sso):
    query = parse_qs(urlsplit(start(client)).query)
    assert query["response_type"] == ["code"] and query["client_id"] == [CLIENT_ID]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert query["redirect_uri"] == ["http://testserver/oidc/callback/"]


def test_first_sign_in_creates_the_user_with_the_role_of_the_claim(client, sso):
    user = sign_in(client, "rex")  # groups ["staff", "qa-team"]: qa-team maps to reviewer
    assert (user.username, user.email, user.first_name, user.last_name) == (
        "rex",
        "rex@example.com",
        "Rex",
        "Reviewer",
    )
    assert role_of(user) == "reviewer"
    assert not user.has_usable_password()  # signs in through the provider only
    assert SignOnIdentity.objects.get(user=user).subject == "rex"
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(("sub", "role"), [("vera", "viewer"), ("mona", "manager"), ("nobody", "viewer")])
def test_the_role_follows_the_claim(client, sso, sub, role):
    assert role_of(sign_in(client, sub)) == role


def test_the_role_follows_the_provider_at_each_sign_in_unless_pinned(client, sso, settings):
    user = sign_in(client, "rex")
    client.logout()
    settings.OIDC_ROLE_MAP = {"qa-team": "manager"}  # the team got promoted at the provider
    assert role_of(sign_in(client, "rex")) == "manager"
    assert User.objects.filter(username__startswith="rex").count() == 1  # the same user, found again
    client.logout()
    RolePin.objects.create(user=user, pinned_by="admin")
    settings.OIDC_ROLE_MAP = {}
    assert role_of(sign_in(client, "rex")) == "manager"  # pinned: the claim no longer changes it


def test_a_local_account_with_the_same_name_is_not_taken_over(client, sso):
    local = UserFactory(username="rex", email="rex@example.com", role="manager")
    user = sign_in(client, "rex")
    assert user.pk != local.pk and user.username == "rex-2"
    assert role_of(user) == "reviewer"


def test_a_deactivated_user_is_not_signed_in(client, sso):
    user = sign_in(client, "rex")
    client.logout()
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = callback(client, authorize(start(client), "rex"))
    assert response.status_code == 400 and signed_in_user_id(client) is None


# --- forged and replayed callbacks ----------------------------------------------------------------


def refused(client, response) -> bool:
    return (
        response.status_code == 400
        and "did not complete" in response.content.decode()
        and signed_in_user_id(client) is None
    )


def test_a_callback_with_a_forged_state_signs_in_nobody(client, sso):
    params = authorize(start(client), "mona")
    response = callback(client, {**params, "state": "forged-" + params["state"]})
    assert refused(client, response)
    assert not User.objects.exists()


def test_a_callback_without_a_started_sign_in_signs_in_nobody(client, sso, oidc_provider):
    other = type(client)()  # the code was issued to another browser's sign-in
    params = authorize(start(other), "mona")
    assert refused(client, callback(client, params))
    assert not User.objects.exists()


def test_an_id_token_with_another_nonce_signs_in_nobody(client, sso):
    # the provider is asked with a nonce other than the one this session holds (a token meant
    # for another sign-in, replayed into this one)
    params = authorize(start(client), "mona", nonce="someone-elses-nonce")
    assert refused(client, callback(client, params))
    assert not User.objects.exists()


def test_a_replayed_callback_signs_in_nobody(client, sso):
    params = authorize(start(client), "rex")
    assert callback(client, params).status_code == 302
    client.logout()
    # the same URL again: its state was used up
    assert refused(client, callback(client, params))


def test_a_spent_code_with_a_fresh_state_signs_in_nobody(client, sso):
    params = authorize(start(client), "rex")
    assert callback(client, params).status_code == 302
    client.logout()
    fresh = parse_qs(urlsplit(start(client)).query)["state"][0]
    # the state is genuine now, the code is spent (the provider refuses it at the token endpoint)
    assert refused(client, callback(client, {"code": params["code"], "state": fresh}))


def test_a_made_up_code_signs_in_nobody(client, sso):
    fresh = parse_qs(urlsplit(start(client)).query)["state"][0]
    assert refused(client, callback(client, {"code": "made-up", "state": fresh}))


def test_the_provider_refusing_signs_in_nobody(client, sso):
    fresh = parse_qs(urlsplit(start(client)).query)["state"][0]
    response = callback(client, {"error": "access_denied", "state": fresh})
    assert response.status_code == 400 and signed_in_user_id(client) is None
    assert "did not sign you in" in response.content.decode()


def test_an_unreachable_provider_is_a_clear_503(client, settings):
    from steps.access import discovery

    settings.OIDC_ISSUER = "http://127.0.0.1:9"  # nothing listens there
    discovery.forget()
    response = client.get("/oidc/login/")
    assert response.status_code == 503 and "cannot be reached" in response.content.decode()
    discovery.forget()


# --- signing out ------------------------------------------------------------------------------------


def test_signing_out_ends_the_session_and_goes_to_the_providers_end_session(client, sso, oidc_provider):
    sign_in(client, "rex")
    response = client.post("/logout/")
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}" == oidc_provider and target.path == "/oauth2/end_session"
    query = parse_qs(target.query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/login/"] and query["id_token_hint"]
    assert signed_in_user_id(client) is None
    assert client.get("/").status_code == 302  # to the login page


def test_a_local_sign_out_stays_local(client, sso):
    user = UserFactory(username="local")
    client.force_login(user)
    assert client.post("/logout/")["Location"] == "/login/"


def test_sign_ins_and_sign_outs_are_audited(client, sso):
    user = sign_in(client, "rex")
    client.post("/logout/")
    actions = list(AuditEvent.objects.filter(actor_id=user.pk).order_by("id").values_list("action", "after"))
    assert actions == [("user.sign_in", {"method": "single sign-on"}), ("user.sign_out", None)]
    role = AuditEvent.objects.get(action="role.change", target_id=str(user.pk))
    assert (role.actor_name, role.before, role.after) == (
        "Test IdP (at sign-in)",
        {"role": None},
        {"role": "reviewer"},
    )


# --- passwords turned off ---------------------------------------------------------------------------


def test_local_login_off_refuses_every_password(client, sso, settings):
    settings.LOCAL_LOGIN = False
    UserFactory(username="local")
    page = client.get("/login/").content.decode()
    assert 'name="password"' not in page and "Sign in with Test IdP" in page
    response = client.post("/login/", {"username": "local", "password": "correct horse battery"})
    assert response.status_code == 403 and signed_in_user_id(client) is None
    assert client.get("/admin/login/")["Location"].startswith("/login/")
    assert sign_in(client, "rex")  # the provider still signs in


# --- configuration that cannot work is refused at start ------------------------------------------


def test_start_up_checks_name_a_sign_on_that_cannot_work(settings):
    from steps.access.checks import sign_on_settings

    settings.OIDC_ISSUER, settings.LOCAL_LOGIN = "", True
    assert sign_on_settings() == []
    settings.LOCAL_LOGIN = False
    assert [p.id for p in sign_on_settings()] == ["access.E001"]
    settings.OIDC_ISSUER, settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = (
        "http://sso.example.com",
        "",
        "",
    )
    assert [p.id for p in sign_on_settings()] == ["access.W001", "access.E003"]
    settings.OIDC_ISSUER = "sso.example.com"
    assert "access.E002" in [p.id for p in sign_on_settings()]


def test_a_locked_out_address_is_refused_at_the_callback_too(client, sso, settings):
    from axes.models import AccessAttempt

    AccessAttempt.objects.create(
        username="someone",
        ip_address="127.0.0.1",
        user_agent="",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
    )
    params = authorize(start(client), "rex")
    response = callback(client, params)
    assert response.status_code == 429 and signed_in_user_id(client) is None
    assert "Too many failed attempts" in response.content.decode()


def test_next_is_followed_only_within_the_site(client, sso, settings):
    response = client.get("/oidc/login/", {"next": "/overview/"})
    assert callback(client, authorize(response["Location"], "rex"))["Location"] == "/overview/"
    client.logout()
    response = client.get("/oidc/login/", {"next": "https://evil.example.com/"})
    # an outside `next` is dropped: where any sign-in lands (the user's default saved view)
    assert callback(client, authorize(response["Location"], "rex"))["Location"] == resolve_url(
        settings.LOGIN_REDIRECT_URL
    )


def test_a_single_sign_on_session_ends_after_oidc_session_hours(client, sso, settings):
    settings.OIDC_SESSION_HOURS = 2
    sign_in(client, "rex")
    assert client.session.get_expiry_age() == 2 * 3600
