"""Agents mirrored from GET /v1/agents/: names instead of ids in lists, filters and pages."""

import httpx
import pytest
from django.urls import reverse

from steps.models import Agent, Step
from steps.sync import run_sync
from tests.factories import StepFactory

pytestmark = pytest.mark.django_db


def test_sync_mirrors_every_agent_with_its_name_model_and_tags(simulator, letta):
    run_sync(letta)

    upstream = httpx.get(f"{simulator.base_url}/v1/agents/", params={"limit": 100}).json()
    assert {a.id: a.name for a in Agent.objects.all()} == {a["id"]: a["name"] for a in upstream}
    support = Agent.objects.get(name="demo-support-bot")
    assert support.model == "openai/gpt-4o-mini" and "letta-demo" in support.tags
    assert support.agent_type == "letta_v1_agent" and support.payload["llm_config"]["model"] == "gpt-4o-mini"
    assert set(Step.objects.values_list("agent_id", flat=True)) <= set(
        Agent.objects.values_list("id", flat=True)
    )


def test_a_new_agent_id_is_fetched_once_and_a_rename_shows_after_the_refresh(simulator, letta, settings):
    run_sync(letta)
    agent = simulator.world.agents[0]
    simulator.world.rename_agent(agent.id, "billing-helper")
    simulator.clear_requests()

    run_sync(letta)  # the listing is fresh: no request for agents, the old name stays
    assert not [r for r in simulator.requests if r.path.startswith("/v1/agents")]
    assert Agent.objects.get(pk=agent.id).name != "billing-helper"

    settings.SYNC_AGENTS_REFRESH_SECONDS = 0
    run_sync(letta)
    assert Agent.objects.get(pk=agent.id).name == "billing-helper"


def test_an_agent_letta_no_longer_has_is_asked_for_once(simulator, letta):
    run_sync(letta)
    gone = "agent-00000000-0000-4000-8000-00000000dead"
    added = simulator.world.add_run(pending=False, steps=1, outcome="success")
    simulator.world.steps[added.step_ids[0]].payload["agent_id"] = gone
    simulator.clear_requests()

    run_sync(letta)
    run_sync(letta)

    asked = [r for r in simulator.requests if r.path == f"/v1/agents/{gone}"]
    assert len(asked) == 1 and asked[0].status == 404
    assert Agent.objects.get(pk=gone).missing_upstream


def test_list_and_pages_show_names_with_the_id_on_hover(simulator, letta, user_client):
    run_sync(letta)
    step = Step.objects.filter(agent_id=simulator.world.agents[1].id).first()
    name = simulator.world.agents[1].name

    listing = user_client.get(reverse("step_list") + f"?run={step.run_id}").content.decode()
    assert f'title="{step.agent_id} · ' in listing and f">{name}</span>" in listing
    detail = user_client.get(reverse("step_detail", args=[step.pk])).content.decode()
    assert f"agent <b>{name}</b>" in detail
    run_page = user_client.get(reverse("run_detail", args=[step.run_id])).content.decode()
    assert f"agent <b>{name}</b>" in run_page


def test_agent_filter_takes_a_name_or_an_id_and_the_facet_lists_names(simulator, letta, user_client):
    run_sync(letta)
    agent = simulator.world.agents[2]
    expected = set(Step.objects.filter(agent_id=agent.id).values_list("id", flat=True))

    for value in (agent.name, agent.id):
        response = user_client.get(reverse("step_list"), {"agent": value})
        assert {s.pk for s, _ in response.context["rows"]} == expected
    response = user_client.get(reverse("step_list"), {"agent": agent.name})
    html = response.content.decode()
    assert f'<input type="search" name="agent" value="{agent.name}" list="agent-options"' in html
    assert f'<option value="{agent.name}" label="{len(expected)} step' in html  # offered by name
    nobody = user_client.get(reverse("step_list"), {"agent": "no-such-agent"})
    assert nobody.status_code == 200 and not nobody.context["rows"]


def test_a_step_whose_agent_is_unknown_shows_the_short_id(user_client):
    StepFactory(agent_id="agent-105225c8-2bdf-402e-8afb-f8887facc319")
    listing = user_client.get(reverse("step_list")).content.decode()
    assert ">105225c8</span>" in listing


def test_a_server_without_the_agent_routes_still_syncs_its_steps(simulator):
    from steps.sync.upstream import LettaClient, UpstreamNotFound

    class NoAgents(LettaClient):
        def list_agents(self, **kwargs):
            raise UpstreamNotFound("Letta has no /v1/agents/ (404: Not Found)", status=404)

    with NoAgents(simulator.base_url) as client:
        sync_run = run_sync(client)

    assert sync_run.status == "success"
    assert "Agent names not synced: Letta has no /v1/agents/" in sync_run.notes
    assert Step.objects.count() == len(simulator.world.step_ids())
