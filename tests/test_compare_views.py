import pytest
from django.urls import reverse

from tests.compare_fixtures import consecutive_steps

pytestmark = pytest.mark.django_db


def get(client, a, b, **query):
    response = client.get(reverse("compare_steps", args=[a.pk, b.pk]), query)
    assert response.status_code == 200
    return response.content.decode()


def test_structural_view_leads_with_the_headline(user_client):
    a, b = consecutive_steps()
    html = get(user_client, a, b)
    print(html)
    assert "2 messages appended" in html


@pytest.mark.parametrize("view", ["structural", "side", "json"])
def test_every_view_renders(user_client, view):
    a, b = consecutive_steps()
    html = get(user_client, a, b, view=view)
    assert "2 messages appended" in html
