"""What the list and run pages cost per row (queries, markup) and that pages go out compressed."""

import gzip
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from steps import feedback
from steps.models import FeedbackPush, StepVote
from tests.factories import BASE_TIME, StepFactory, conversation

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def _steps(n, *, run_id=None, offset=0):
    steps = []
    for i in range(n):
        extra = {"run_id": run_id} if run_id else {}
        step = StepFactory(step_time=BASE_TIME + timedelta(seconds=offset + i), **extra)
        conversation(step)
        steps.append(step)
    return steps


def _review_some(steps):
    """Every kind of vote state a row can show: saved, pending, failed, conflict, none."""
    voter = User.objects.get_or_create(username="voter")[0]
    for i, step in enumerate(steps[:8]):
        push = feedback.cast_vote(step, user=voter, feedback="positive", enqueue=False)
        if i % 4 == 1:
            FeedbackPush.objects.filter(pk=push.pk).update(status="done")
        elif i % 4 == 2:
            FeedbackPush.objects.filter(pk=push.pk).update(status="failed", last_error="HTTP 500")
        elif i % 4 == 3:
            StepVote.objects.filter(step=step).update(
                conflict_feedback="negative", conflict_seen_at=BASE_TIME
            )


def _queries(client, url, **kwargs) -> int:
    client.get(url, **kwargs)  # warms the per-process caches (facets)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **kwargs)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx-partial"])
def test_the_lists_queries_do_not_grow_with_its_rows(user_client, headers):
    _review_some(_steps(5))
    few = _queries(user_client, reverse("step_list"), headers=headers)
    assert len(user_client.get(reverse("step_list"), headers=headers).context["rows"]) == 5
    _review_some(_steps(45, offset=100))
    many = _queries(user_client, reverse("step_list"), headers=headers)
    assert len(user_client.get(reverse("step_list"), headers=headers).context["rows"]) == 50
    assert many == few


def test_the_run_pages_queries_do_not_grow_with_its_steps(user_client):
    _steps(5, run_id="run-00000000-0000-4000-8000-000000000005")
    _steps(50, run_id="run-00000000-0000-4000-8000-000000000050", offset=100)
    five = _queries(user_client, reverse("run_detail", args=["run-00000000-0000-4000-8000-000000000005"]))
    fifty = _queries(user_client, reverse("run_detail", args=["run-00000000-0000-4000-8000-000000000050"]))
    assert fifty == five


def test_a_client_that_accepts_gzip_gets_the_list_compressed(user_client):
    step = _steps(3)[0]
    response = user_client.get(reverse("step_list"), headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    html = gzip.decompress(response.content).decode()
    assert step.pk in html and "tango charlie delta" in html
    assert int(response["Content-Length"]) == len(response.content) < len(html)


def test_a_client_that_does_not_accept_gzip_gets_plain_html(user_client):
    step = _steps(1)[0]
    response = user_client.get(reverse("step_list"), headers={"Accept-Encoding": "identity"})
    assert not response.has_header("Content-Encoding")
    assert step.pk in response.content.decode()


def test_the_htmx_partial_and_the_step_page_are_compressed_too(user_client):
    step = _steps(1)[0]
    for url, headers in ((reverse("step_list"), HX), (reverse("step_detail", args=[step.pk]), {})):
        response = user_client.get(url, headers={"Accept-Encoding": "gzip", **headers})
        assert response["Content-Encoding"] == "gzip", url
        assert step.pk in gzip.decompress(response.content).decode()


def test_thumb_icons_are_drawn_once_and_referenced_by_each_row(user_client):
    _steps(4)
    html = user_client.get(reverse("step_list")).content.decode()
    assert html.count('<symbol id="i-thumb-up"') == 1 and html.count('<symbol id="i-thumb-down"') == 1
    # a use per row, and one in the bulk bar
    assert html.count('<use href="#i-thumb-up">') == 4 + 1
    assert html.count("<path") == 2


def test_a_row_links_its_step_with_the_lists_query_once(user_client):
    step = _steps(1)[0]
    html = user_client.get(reverse("step_list") + "?status=success").content.decode()
    assert html.count(f'href="/steps/{step.pk}/?from=status%3Dsuccess"') == 1
    # the vote widget posts to the step's vote URL, with and without JavaScript
    assert html.count(f'"/steps/{step.pk}/vote/"') == 2


def test_every_vote_state_renders_in_its_row(user_client):
    _review_some(_steps(12))
    html = user_client.get(reverse("step_list")).content.decode()
    for state in ("saving", "saved", "failed", "conflict"):
        assert f'data-state="{state}"' in html, state
    assert html.count('data-state="none"') == 4
    # an open push polls for its outcome; a settled one does not
    assert html.count('hx-trigger="load delay:') == 2
