from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from steps.models import ShareLink
from steps.pages import share
from tests.factories import (
    MessageFactory,
    ProviderTraceFactory,
    StepFactory,
    StepMetricsFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sharer(client):
    u = UserFactory()
    u.user_permissions.add(Permission.objects.get(codename="add_sharelink"))
    client.force_login(u)
    return u


def public_url(link):
    return reverse("shared_step", args=[share.signed_token(link)])


def test_create_link_needs_permission(user_client):
    step = StepFactory()
    assert user_client.post(reverse("share_create", args=[step.pk])).status_code == 403
    assert not ShareLink.objects.exists()
    assert (
        b"permission to create public links"
        in user_client.get(reverse("step_detail", args=[step.pk])).content
    )


def test_create_link_htmx_partial(client, sharer):
    step = StepFactory()
    response = client.post(
        reverse("share_create", args=[step.pk]), {"expiry": "1d"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="share-links"' in html
    link = ShareLink.objects.get()
    assert link.created_by == sharer
    assert timedelta(hours=23) < link.expires_at - timezone.now() <= timedelta(days=1)
    assert public_url(link) in html
    assert len(link.token) >= 40


def test_csrf_is_enforced(sharer):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(sharer)
    step = StepFactory()
    assert csrf_client.post(reverse("share_create", args=[step.pk])).status_code == 403


def test_public_page_is_readonly_and_noindex(client):
    step = StepFactory(feedback="positive")
    MessageFactory(step=step, content="shared conversation text")
    link = share.create_link(step, UserFactory(), "7d")
    response = client.get(public_url(link))  # anonymous
    html = response.content.decode()
    assert response.status_code == 200
    assert "shared conversation text" in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "Feedback" not in html  # no feedback controls
    # no navigation into the authenticated app
    assert 'href="/"' not in html and 'href="/steps/' not in html and 'href="/runs/' not in html
    assert "Sign out" not in html
    assert "Public links" not in html


def test_revoked_link_is_a_clear_page(client, sharer):
    step = StepFactory()
    link = share.create_link(step, sharer, "7d")
    response = client.post(reverse("share_revoke", args=[link.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200 and b"revoked" in response.content
    link.refresh_from_db()
    assert link.revoked_by == sharer
    client.logout()
    response = client.get(public_url(link))
    assert response.status_code == 410
    assert b"This link was revoked" in response.content


def test_expired_link_is_a_clear_page(client):
    link = share.create_link(StepFactory(), None, "1h")
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(public_url(link))
    assert response.status_code == 410
    assert b"This link has expired" in response.content


def test_forged_or_unsigned_token_is_404(client):
    link = share.create_link(StepFactory(), None, "1h")
    assert client.get(reverse("shared_step", args=[link.token])).status_code == 404
    assert client.get(reverse("shared_step", args=[link.token + ":forged"])).status_code == 404


def test_only_creator_or_changer_can_revoke(client, sharer):
    link = share.create_link(StepFactory(), UserFactory(), "1d")
    assert client.post(reverse("share_revoke", args=[link.pk])).status_code == 403
    sharer.user_permissions.add(Permission.objects.get(codename="change_sharelink"))
    assert client.post(reverse("share_revoke", args=[link.pk])).status_code == 302


def test_links_listed_with_creator_on_step_page(client, sharer):
    step = StepFactory()
    share.create_link(step, sharer, "1d")
    html = client.get(reverse("step_detail", args=[step.pk])).content.decode()
    assert f"by {sharer.username}" in html


SYSTEM_PROMPT = "You are a helpful agent."


def test_a_new_link_shows_messages_and_metrics_but_no_trace_by_default(client, sharer):
    step = StepFactory()
    MessageFactory(step=step, content="shared conversation text")
    StepMetricsFactory(step=step)
    ProviderTraceFactory(step=step)
    client.post(reverse("share_create", args=[step.pk]), {"expiry": "1d"})
    link = ShareLink.objects.get()
    assert link.include_traces is False
    client.logout()
    html = client.get(public_url(link)).content.decode()
    assert "shared conversation text" in html and "Timing" in html
    assert "This link shows messages and metrics; provider traces are not included." in html
    assert SYSTEM_PROMPT not in html and "chatcmpl-" not in html and "Provider trace" not in html


def test_the_creator_can_choose_to_include_traces(client, sharer):
    step = StepFactory()
    ProviderTraceFactory(step=step)
    page = client.get(reverse("step_detail", args=[step.pk])).content.decode()
    assert 'name="include_traces"' in page
    response = client.post(
        reverse("share_create", args=[step.pk]),
        {"expiry": "1d", "include_traces": "on"},
        headers={"HX-Request": "true"},
    )
    assert "messages, metrics and provider traces" in response.content.decode()
    link = ShareLink.objects.get()
    assert link.include_traces is True
    client.logout()
    html = client.get(public_url(link)).content.decode()
    assert SYSTEM_PROMPT in html and "Provider trace" in html
    assert "provider traces are not included" not in html


def test_link_times_carry_their_iso_time(client, sharer):
    step = StepFactory()
    active = share.create_link(step, sharer, "1d")
    revoked = share.create_link(step, sharer, "7d")
    ShareLink.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now(), revoked_by=sharer)
    revoked.refresh_from_db()
    html = client.get(reverse("step_detail", args=[step.pk])).content.decode()
    section = html[html.index('id="share-links"') :]
    for moment in (active.created_at, active.expires_at, revoked.created_at, revoked.revoked_at):
        iso = timezone.localtime(moment).isoformat()
        assert f'<time datetime="{iso}" title="{iso}">' in section
    shared = client.get(public_url(active)).content.decode()
    iso = timezone.localtime(active.expires_at).isoformat()
    assert f'expires <time datetime="{iso}" title="{iso}">' in shared
