"""The list's rows are written in Python (steps/pages/row_html.py), not by the template engine: what
Letta's agents and models wrote still shows as text in them, never as markup, on the page, in its
htmx partial and in a row's vote widget."""

import html

import pytest

from steps import feedback
from steps.models import Agent, FeedbackPush
from tests.compare_fixtures import HOSTILE
from tests.factories import MessageFactory, StepFactory, UserFactory

pytestmark = pytest.mark.django_db
ESCAPED_SCRIPT = html.escape("<script>alert('x')</script>")  # what a shorter column keeps of it


@pytest.fixture
def hostile_step():
    step = StepFactory(failed=True, model=HOSTILE, stop_reason=HOSTILE, error_type=HOSTILE)
    MessageFactory(step=step, position=0, content=HOSTILE)
    MessageFactory(step=step, position=1, message_type="tool_call_message", tool=HOSTILE, arguments="{}")
    Agent.objects.create(id=step.agent_id, name=HOSTILE, payload={})
    voter = UserFactory(username="<b>voter</b>")
    push = feedback.cast_vote(step, user=voter, feedback="positive", enqueue=False)
    FeedbackPush.objects.filter(pk=push.pk).update(status="failed", last_error=HOSTILE)
    return step


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx partial"])
def test_what_a_model_wrote_shows_as_text_in_its_row(user_client, hostile_step, htmx):
    page = user_client.get("/", headers={"HX-Request": "true"} if htmx else {}).content.decode()
    row = page[page.index(f'data-step="{hostile_step.pk}"') :]
    row = row[: row.index("</tr>")]

    assert "<script>" not in row and "<img src=x" not in row
    # the user's message (text and title), the tool, the agent's name, the model, the stop reason (text
    # and title), the error, the push's failure
    assert row.count(ESCAPED_SCRIPT) >= 9
    assert 'title="voted by &lt;b&gt;voter&lt;/b&gt;' in row
    assert '<div class="wb wb-failed"><form' in row  # the row's own markup stays markup


def test_a_vote_answers_with_the_rows_widget_now_pressed(user_client, hostile_step):
    widget = user_client.post(
        f"/steps/{hostile_step.pk}/vote/",
        {"value": "negative", "compact": "1"},
        headers={"HX-Request": "true"},
    ).content.decode()

    assert widget.startswith(f'<div class="vote vote-compact" id="vote-{hostile_step.pk}"')
    assert (
        widget.count('aria-pressed="true"') == 1
        and 'value="negative" class="vote-btn vote-down is-active"' in widget
    )
