"""The tool filter's index (StepTool): exactly the tools of each step's messages, at the step's
time, through a sync, a re-sync, time changes and retention; the list pages by it in order."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from steps.filters import encode_cursor
from steps.models import Message, Step, StepTool
from steps.querysets import SORTS
from steps.retention import prune_steps
from steps.sync import run_sync
from steps.sync.mirror import store_step_details, upsert_runs, upsert_steps
from tests.bench.sql import list_queryset
from tests.factories import BASE_TIME, MessageFactory, StepFactory
from tests.samples import body

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def index_rows() -> set[tuple[str, str, datetime]]:
    return set(StepTool.objects.values_list("step_id", "tool_name", "step_time"))


def derived_rows() -> set[tuple[str, str, datetime]]:
    """What the index must hold: each tool of a step's messages once, at the step's time."""
    return set(Message.objects.exclude(tool_name="").values_list("step_id", "tool_name", "step__step_time"))


def tool_steps(tool: str) -> set[str]:
    return set(Message.objects.filter(tool_name=tool).values_list("step_id", flat=True))


def listed(client, query: str) -> list[str]:
    """Every step id the list shows for this query, page after page."""
    seen, url = [], reverse("step_list") + "?" + query
    while url:
        response = client.get(url, headers=HX)
        seen += [s.pk for s, _ in response.context["rows"]]
        cursor = response.context["next_cursor"]
        url = reverse("step_list") + f"?{query}&cursor={cursor}" if cursor else ""
    return seen


def test_a_sync_writes_each_steps_tools_and_the_filter_finds_exactly_those_steps(
    simulator, letta, user_client
):
    run_sync(letta)

    assert index_rows() == derived_rows() and index_rows()
    tools = set(Message.objects.exclude(tool_name="").values_list("tool_name", flat=True))
    assert len(tools) >= 3
    for tool in tools:
        assert set(listed(user_client, f"tool={tool}")) == tool_steps(tool)


def test_a_resync_follows_messages_that_changed_upstream(simulator, letta, user_client):
    run_sync(letta)
    step_id, tool = Message.objects.exclude(tool_name="").values_list("step_id", "tool_name").first()
    with simulator.world.lock:
        simulator.world.steps[step_id].messages = []  # soft-deleted upstream
    Step.objects.filter(pk=step_id).update(refresh_due_at=timezone.now() - timedelta(minutes=1))

    run_sync(letta, reverify_batch=0)

    assert not Message.objects.filter(step_id=step_id).exists()
    assert not StepTool.objects.filter(step_id=step_id).exists()
    assert index_rows() == derived_rows()
    assert step_id not in listed(user_client, f"tool={tool}")


def test_a_pending_step_gets_its_tools_when_it_finishes(simulator, letta):
    run_sync(letta)
    new_ids = simulator.world.add_run(pending=True).step_ids
    run_sync(letta)
    assert not StepTool.objects.filter(step_id__in=new_ids).exists()

    simulator.world.finish_pending()
    Step.objects.filter(pk__in=new_ids).update(refresh_due_at=timezone.now() - timedelta(minutes=1))
    run_sync(letta)

    assert index_rows() == derived_rows()


def _stored_step() -> Step:
    upsert_steps([body("step")])
    return Step.objects.get(pk=body("step")["id"])


def test_the_index_moves_with_the_steps_time():
    step = _stored_step()
    store_step_details(step, metrics=None, messages=body("step_messages_tool_call"), trace=None)
    assert index_rows() == derived_rows() and index_rows()

    # the run arrives after its step: the run's time beats the message date
    upsert_runs([{"id": step.run_id, "status": "completed", "created_at": "2026-11-25T09:30:28.500000Z"}])
    step.refresh_from_db()
    assert step.step_time == datetime(2026, 11, 25, 9, 30, 28, 500000, tzinfo=UTC)
    assert index_rows() == derived_rows()

    # its run's step list places it: the time moves by its position
    upsert_steps([step.payload], positions={step.pk: 3})
    step.refresh_from_db()
    assert step.run_position == 3 and step.step_time.microsecond == 500003
    assert index_rows() == derived_rows()


def test_restored_details_replace_the_tools():
    step = _stored_step()
    messages = body("step_messages_tool_call")
    store_step_details(step, metrics=None, messages=messages, trace=None)
    store_step_details(step, metrics=None, messages=messages, trace=None)
    assert index_rows() == derived_rows() and len(index_rows()) == 1

    store_step_details(step, metrics=None, messages=messages[:1], trace=None)  # soft-deleted upstream
    assert index_rows() == derived_rows() == set()


def test_retention_takes_the_rows_of_the_steps_it_deletes():
    now = timezone.now()
    old = StepFactory(step_time=now - timedelta(days=40))
    new = StepFactory(step_time=now - timedelta(days=1))
    for step in (old, new):
        MessageFactory(step=step, message_type="tool_call_message", tool="web_search")

    prune_steps(30, now=now)

    assert set(StepTool.objects.values_list("step_id", flat=True)) == {new.pk}
    assert index_rows() == derived_rows()


def test_the_migrations_backfill_rebuilds_the_index_from_the_messages():
    from importlib import import_module

    migration = import_module("steps.migrations.0019_step_tools")
    for i in range(3):
        step = StepFactory(step_time=BASE_TIME + timedelta(seconds=i))
        MessageFactory(step=step, message_type="tool_call_message", tool="web_search")
        MessageFactory(step=step, position=9, message_type="tool_call_message", tool="web_search")
        MessageFactory(step=step, position=10, message_type="tool_call_message", tool=f"tool_{i}")
    expected = index_rows()
    StepTool.objects.all().delete()

    with connection.cursor() as cursor:
        cursor.execute(migration.BACKFILL)

    assert index_rows() == expected == derived_rows() and len(expected) == 6


def _tool_steps_for_paging():
    """130 steps, pairs sharing a time (the id breaks the tie), two in three calling the tool."""
    steps = []
    for i in range(130):
        step = StepFactory(
            step_time=BASE_TIME + timedelta(seconds=i // 2),
            prompt_tokens=i % 7,
            completion_tokens=0,
            duration_ns=(i % 5) * 1000 or None,
        )
        tool = "web_search" if i % 3 else "run_code"
        MessageFactory(step=step, message_type="tool_call_message", tool=tool)
        MessageFactory(step=step, position=9, message_type="tool_call_message", tool=tool)
        steps.append(step)
    return steps


@pytest.mark.parametrize("sort", list(SORTS))
def test_the_filtered_list_pages_through_every_match_once_in_list_order(user_client, sort):
    _tool_steps_for_paging()
    expected = list(
        Step.objects.filter(pk__in=list(tool_steps("web_search"))).ordered(sort).values_list("id", flat=True)
    )
    assert len(expected) > 50  # more than one page

    assert listed(user_client, f"tool=web_search&sort={sort}") == expected


def test_a_later_page_of_the_filter_costs_a_fixed_number_of_queries(user_client, django_assert_num_queries):
    _tool_steps_for_paging()
    first = user_client.get(reverse("step_list") + "?tool=web_search", headers=HX)
    cursor = first.context["next_cursor"]
    # session, user, steps page, message previews, agent names, local votes, newest pushes,
    # model prices, the "Newer" seek, the sparkline: as many as without the filter; and the
    # list's count (a later page cannot count itself: SAVEPOINT, SET LOCAL, COUNT, RELEASE)
    with django_assert_num_queries(14):
        response = user_client.get(reverse("step_list") + f"?tool=web_search&cursor={cursor}", headers=HX)
    assert len(response.context["rows"]) == 36


def test_live_rows_under_the_filter_are_only_newer_matches(user_client):
    steps = _tool_steps_for_paging()
    newest = steps[100]
    url = reverse("step_list_live") + "?tool=web_search&live=1"
    url += f"&newest_time={newest.step_time.isoformat().replace('+00:00', 'Z')}&newest_id={newest.pk}"
    response = user_client.get(url, headers=HX)
    expected = [
        s.pk
        for s in sorted(steps, key=lambda s: (s.step_time, s.pk), reverse=True)
        if s.pk in tool_steps("web_search") and (s.step_time, s.pk) > (newest.step_time, newest.pk)
    ]
    assert [s.pk for s, _ in response.context["rows"]] == expected


def test_the_filtered_list_reads_the_tool_index_from_the_cursor_on():
    steps = _tool_steps_for_paging()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE steps_step")
        cursor.execute("ANALYZE steps_steptool")
        # what the indexes can serve at all: no full scan, no sort of every match
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    cursor_step = sorted(steps, key=lambda s: (s.step_time, s.pk))[80]
    for sort in ("-time", "time"):
        plan = list_queryset(
            f"/?tool=web_search&sort={sort}&cursor={encode_cursor(sort, cursor_step)}"
        ).explain()
        assert "steps_steptool_time on steps_steptool" in plan
        # the keyset is a seek in the index, and the index's order is the page's: no sort
        assert "ROW(step_time, step_id)" in plan.split("steps_steptool_time", 1)[1].split("\n")[1]
        assert "Sort" not in plan
