import pytest
from django.urls import reverse

from tests.factories import (
    ProviderTraceFactory,
    StepFactory,
    StepMetricsFactory,
    SyncRunFactory,
    UserFactory,
    conversation,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_client(client):
    client.force_login(UserFactory())
    return client


def test_list_page_renders_rows(user_client):
    step = StepFactory()
    conversation(step, user_text="hello from the user", answer="the final answer")
    SyncRunFactory()
    response = user_client.get(reverse("step_list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert step.pk in html
    assert "hello from the user" in html
    assert "the final answer" in html
    assert "conversation_search" in html
    assert "synced" in html


def test_list_partial_for_htmx(user_client):
    StepFactory()
    response = user_client.get(reverse("step_list"), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="step-table"' in html


def test_detail_smoke(user_client):
    step = StepFactory()
    conversation(step)
    StepMetricsFactory(step=step)
    ProviderTraceFactory(step=step)
    response = user_client.get(reverse("step_detail", args=[step.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Provider trace" in html
