"""Facet counts and known tags: precomputed, right after a sync, a vote or a tag edit, and repaired."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from steps import facets
from steps.facets.values import LIST_DIMENSIONS
from steps.models import FacetCount, Step
from steps.sync import run_sync
from steps.sync.mirror import upsert_steps
from tests.factories import MessageFactory, StepFactory, UserFactory, step_payload

pytestmark = pytest.mark.django_db


def counts() -> dict[tuple[str, str], int]:
    return {(f.dimension, f.value): f.steps for f in FacetCount.objects.filter(steps__gt=0)}


def assert_matches_a_recount():
    """What the incremental counts say is what counting the tables says."""
    kept, tags = counts(), facets.known_tags()
    facets.rebuild()
    assert kept == counts()
    assert tags == facets.known_tags()


def test_counts_are_right_after_a_sync(simulator, letta):
    run_sync(letta)

    assert_matches_a_recount()
    shown = facets.facets()
    by_agent = {agent_id: n for agent_id, n, _ in shown["agents"]}
    for agent_id, n in by_agent.items():
        assert Step.objects.filter(agent_id=agent_id).count() == n
    assert shown["tools"], "the simulator's steps call tools"
    for tool, n in shown["tools"]:
        assert Step.objects.filter(messages__tool_name=tool).distinct().count() == n
    # agents carry their names; every list is most common first
    assert all(name for _, _, name in shown["agents"])
    for choices in shown.values():
        assert [c[1] for c in choices] == sorted((c[1] for c in choices), reverse=True)


def test_a_second_sync_changes_nothing(simulator, letta):
    run_sync(letta)
    before = counts()
    run_sync(letta)
    assert counts() == before


def test_an_upstream_change_moves_the_counts(simulator, letta):
    step = StepFactory(model="model-a", tags=["old-tag"])
    assert counts()[("model", "model-a")] == 1
    changed = step_payload(
        type("P", (), {**step.payload, "id": step.pk, "run_id": step.run_id, "model": "model-b"})
    )
    changed |= {"model": "model-b", "tags": ["new-tag"], "agent_id": step.agent_id}
    upsert_steps([changed])

    now = counts()
    assert ("model", "model-a") not in now and now[("model", "model-b")] == 1
    assert facets.known_tags() == ["new-tag"]
    assert_matches_a_recount()


def test_votes_and_tags_set_here_show_up_at_once(user_client):
    step = StepFactory(tags=["from-letta"])
    user = UserFactory()
    from steps import feedback

    feedback.cast_vote(step, user=user, tags=["needs-work", "from-letta"], enqueue=False)
    assert facets.known_tags() == ["from-letta", "needs-work"]
    page = user_client.get(reverse("step_detail", args=[step.pk])).content.decode()
    assert '<option value="needs-work">' in page

    feedback.cast_vote(step, user=user, tags=["from-letta"], enqueue=False)
    assert facets.known_tags() == ["from-letta"]
    assert_matches_a_recount()


def test_bulk_tagging_counts_each_step_once():
    steps = [StepFactory() for _ in range(3)]
    from steps import feedback

    batch = feedback.start_bulk(
        user=UserFactory(), action="tag", add_tags=["bulk"], step_ids=[s.pk for s in steps]
    )
    feedback.apply_bulk(batch)
    assert counts()[("vote_tag", "bulk")] == 3
    assert_matches_a_recount()


def test_tools_count_steps_not_calls():
    step = StepFactory()
    MessageFactory(step=step, message_type="tool_call_message", tool="web_search")
    MessageFactory(step=step, message_type="tool_call_message", tool="web_search")
    MessageFactory(step=StepFactory(), message_type="tool_call_message", tool="web_search")
    assert dict(facets.facets()["tools"]) == {"web_search": 2}
    assert_matches_a_recount()


def test_the_list_reads_the_counts_in_one_query(django_assert_num_queries):
    for i in range(30):
        StepFactory(model=f"model-{i % 4}")
    with django_assert_num_queries(1):
        shown = facets.facets()
    assert dict(shown["models"]) == {f"model-{i}": n for i, n in enumerate([8, 8, 7, 7])}
    assert set(shown) == {"agents", "models", "providers", "stop_reasons", "error_types", "tools"}
    assert len(LIST_DIMENSIONS) == len(shown)


def test_rebuild_repairs_drift_and_says_what_it_does(capsys):
    StepFactory(model="real-model", tags=["t1"])
    FacetCount.objects.filter(dimension="model").update(steps=41)
    FacetCount.objects.create(dimension="model", value="ghost", steps=3)
    FacetCount.objects.filter(dimension="tag").delete()

    call_command("rebuild_facets")

    assert dict(facets.facets()["models"]) == {"real-model": 1}
    assert facets.known_tags() == ["t1"]
    out = capsys.readouterr().out
    assert "model: 1 values, counts summing to 1" in out and "tag: 1 values" in out and "Done" in out


def test_the_page_shows_the_counts_with_names(user_client):
    StepFactory(model="model-from-data")
    StepFactory(model="model-from-data")
    html = user_client.get(reverse("step_list")).content.decode()
    assert '<option value="model-from-data" label="2 steps">' in html
