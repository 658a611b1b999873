"""`manage.py seed_steps`: realistic steps that every page renders, reproducible, never by accident
into a database that has data."""

import re
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils.html import escape

from steps.models import Agent, Message, ProviderTrace, Run, Step, StepMetrics, StepReview, StepTool, StepVote
from steps.pages.timeline import structured_text
from steps.seeding import catalog, load
from steps.seeding.generate import Seeder

# VACUUM and the one-transaction load need a database without a test-wide transaction around it
pytestmark = pytest.mark.django_db(transaction=True)
UNTIL = "2026-11-20T12:00:00Z"
STEP_LINK = re.compile(r"/steps/(step-[0-9a-f-]{36})/")


def seed(count=300, **options) -> str:
    out = StringIO()
    call_command("seed_steps", count=count, seed=3, until=UNTIL, days=30, stdout=out, **options)
    return out.getvalue()


def linked_steps(html: str) -> set[str]:
    return set(STEP_LINK.findall(html))


def assert_tool_index_is_the_messages_tools():
    """The tool filter's index holds each tool of a step's messages once, at the step's time."""
    derived = Message.objects.exclude(tool_name="").values_list("step_id", "tool_name", "step__step_time")
    assert set(StepTool.objects.values_list("step_id", "tool_name", "step_time")) == set(derived)
    assert StepTool.objects.count() > Step.objects.count() / 4


def test_seeded_steps_are_whole_and_consistent():
    output = seed()
    assert "Done: 300 steps" in output and "steps/s" in output
    assert Step.objects.count() == 300
    assert Run.objects.count() >= 50 and Agent.objects.count() == 48
    assert Message.objects.count() > 2 * 300
    assert set(Message.objects.values_list("message_type", flat=True).distinct()) >= {
        "user_message",
        "assistant_message",
        "reasoning_message",
        "tool_call_message",
        "tool_return_message",
    }
    assert 10 <= ProviderTrace.objects.count() <= 80  # about one step in eight
    assert StepMetrics.objects.count() > 250
    assert_tool_index_is_the_messages_tools()
    assert len(set(Step.objects.values_list("provider_name", flat=True))) >= 3
    assert Step.objects.exclude(error_type="").exists()
    # every typed column is what the sync would derive from the stored payload
    for step in Step.objects.order_by("id")[:40]:
        for column, value in Step.columns_from_payload(step.payload).items():
            assert getattr(step, column) == value, column
    for trace in ProviderTrace.objects.all()[:5]:
        assert len(str(trace.request_json)) > 5_000 and 300 < len(str(trace.response_json)) < 4_000
    # runs are in order: positions from 0, times that follow them
    run = Run.objects.filter(steps__run_position=2).first()
    steps = list(run.steps.in_run_order())
    assert [s.run_position for s in steps] == list(range(len(steps)))
    assert [s.step_time for s in steps] == sorted(s.step_time for s in steps)


def test_seeded_steps_are_counted_in_filters_and_charts(user_client):
    """COPY skips the writers of facets and rollups: the command recounts both."""
    output = seed()
    assert "Recounting facets" in output and "Rebuilding rollups" in output
    model = Step.objects.values_list("model", flat=True).first()
    with_model = Step.objects.filter(model=model).count()
    html = user_client.get(reverse("step_list")).content.decode()
    assert f'<option value="{model}" label="{with_model} steps">' in html  # the model filter counts them
    overview = user_client.get(
        reverse("overview"), {"since": "2026-10-15T00:00", "until": "2026-11-20T12:00"}
    )
    assert (
        '<span class="kpi-label">Steps</span><span class="kpi-value">300</span>' in overview.content.decode()
    )


def test_every_page_renders_seeded_steps(user_client):
    seed()
    newest = Step.objects.order_by("-step_time", "-id").first()
    html = user_client.get(reverse("step_list")).content.decode()
    assert newest.id in linked_steps(html)

    step = Step.objects.filter(trace_state="found", error_type="").first()
    user_text = Message.objects.filter(step__run_id=step.run_id, message_type="user_message").first().text
    response = user_client.get(reverse("step_detail", args=[step.id]))
    assert response.status_code == 200
    last = Message.objects.filter(step=step).last()
    # a tool return holding a dict or list is shown indented as JSON, other text as it is
    shown = structured_text(last.text) if last.message_type == "tool_return_message" else ""
    assert escape(shown or last.text)[:40] in response.content.decode()

    response = user_client.get(reverse("run_detail", args=[step.run_id]))
    assert response.status_code == 200
    assert step.id in response.content.decode()

    other = Step.objects.exclude(run_id=step.run_id).filter(model=step.model).first()
    response = user_client.get(reverse("compare_steps", args=[step.id, other.id]))
    assert response.status_code == 200

    # search finds only steps whose messages or provider responses hold the word, in Latin and
    # Cyrillic script
    for word in (catalog.COMMON_WORD, "Привет", user_text.split()[0]):
        expected = set(Step.objects.filter(messages__text__icontains=word).values_list("id", flat=True))
        expected |= set(
            ProviderTrace.objects.filter(response_json__icontains=word).values_list("step_id", flat=True)
        )
        found = linked_steps(user_client.get(reverse("step_list"), {"q": word}).content.decode())
        assert found and found <= expected, word


def test_same_seed_same_data_other_seed_other_data():
    def digest(seed):
        seeder = Seeder(seed=seed, count=150, days=10, until=datetime(2026, 11, 20, tzinfo=UTC))
        return [(b.runs, b.steps, b.messages, b.traces, b.votes) for b in seeder.batches(50)]

    assert digest(5) == digest(5)
    assert digest(5) != digest(6)


def test_refuses_a_database_with_steps_unless_appending():
    seed(count=60, no_vacuum=True)
    with pytest.raises(CommandError, match=r"already has 60 steps.*--append"):
        seed(count=60)
    assert Step.objects.count() == 60
    seed(count=40, append=True, no_vacuum=True)  # same seed, new ids
    assert Step.objects.count() == 100
    assert Agent.objects.count() == 48  # the seed's agents, reused


def test_portable_bulk_create_path():
    """What SQLite runs (bulk_create), checked here on the same rows."""
    seeder = Seeder(seed=9, count=120, days=5, until=datetime(2026, 11, 20, tzinfo=UTC))
    load.seed(seeder, batch_steps=50, fresh=False, say=lambda line: None, writer=load.BulkCreateWriter())
    assert Step.objects.count() == 120
    assert Message.objects.count() > 240
    assert StepVote.objects.count() == Step.objects.exclude(feedback="").count()
    assert StepReview.objects.count() >= 0
    assert_tool_index_is_the_messages_tools()


@pytest.mark.django_db(transaction=False)
def test_copy_text_escapes_what_copy_would_misread():
    assert load.copy_text("a\\b\tc\nd\re") == "a\\\\b\\tc\\nd\\re"
    assert load.copy_text(None) == "\\N" and load.copy_text(False) == "f" and load.copy_text(12) == "12"
