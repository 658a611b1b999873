"""The run diff page: steps aligned, each pair linked to its step diff, the first divergence highlighted."""

import pytest
from django.urls import reverse

from tests.factories import MessageFactory, RunFactory, StepFactory

pytestmark = pytest.mark.django_db
AGENT = "agent-105225c8-2bdf-402e-8afb-f8887facc319"


def make_run(*actions: str, agent: str = AGENT):
    """A run whose steps call the given tools; "answer" is a step without a tool call."""
    run = RunFactory(agent_id=agent)
    steps = []
    for action in actions:
        step = StepFactory(
            run_id=run.id, agent_id=agent, stop_reason="end_turn" if action == "answer" else ""
        )
        if action != "answer":
            MessageFactory(step=step, position=0, message_type="tool_call_message", tool=action)
        steps.append(step)
    return run, steps


def test_runs_are_aligned_and_the_first_divergence_is_named(user_client):
    run_a, steps_a = make_run("conversation_search", "answer")
    run_b, steps_b = make_run("conversation_search", "web_search", "answer")
    html = user_client.get(reverse("compare_runs", args=[run_a.id, run_b.id])).content.decode()
    assert "First divergence" in html
    assert "step 2: run B called <code>web_search</code> where A answered" in html
    assert html.count('class="pair-same"') == 1
    assert 'id="pair-1" class="pair-diff pair-first"' in html
    for a, b in zip(steps_a, steps_b, strict=False):
        assert reverse("compare_steps", args=[a.pk, b.pk]) in html
    assert "run B went on" in html  # B's third step has no partner
    sequence = html.split('id="tool-sequence"')[1].split("</section>")[0]
    assert 'class="seq-added"' in sequence and "web_search" in sequence  # B's extra call, as one row


def test_identical_runs_say_so(user_client):
    run_a, _ = make_run("web_search", "answer")
    run_b, _ = make_run("web_search", "answer")
    html = user_client.get(reverse("compare_runs", args=[run_a.id, run_b.id])).content.decode()
    assert "the runs took the same steps" in html and "First divergence" not in html


def test_hostile_tool_names_are_escaped(user_client):
    run_a, _ = make_run("<script>alert(1)</script>")
    run_b, _ = make_run("answer")
    html = user_client.get(reverse("compare_runs", args=[run_a.id, run_b.id])).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def test_unknown_runs_are_404(user_client):
    run_a, _ = make_run("answer")
    unknown = "run-00000000-0000-4000-8000-000000000000"
    assert user_client.get(reverse("compare_runs", args=[run_a.id, unknown])).status_code == 404
    assert user_client.get(f"/compare/runs/{run_a.id}/run-nope/").status_code == 404
    assert user_client.get(f"/compare/runs/{run_a.id}/a%3Cb/").status_code == 404


def test_login_is_required(client):
    run_a, _ = make_run("answer")
    anonymous = client.get(reverse("compare_runs", args=[run_a.id, run_a.id]))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")


def test_query_count_is_fixed(user_client, django_assert_num_queries):
    run_a, _ = make_run("web_search", "answer", "answer", "answer")
    run_b, _ = make_run("web_search", "web_search", "answer")
    # session, user, sync status; each run and its steps (2 x 2); every step's tool calls
    with django_assert_num_queries(8):
        assert user_client.get(reverse("compare_runs", args=[run_a.id, run_b.id])).status_code == 200


def test_run_page_offers_compare_and_the_picker_lists_runs_of_the_agent(user_client):
    run_a, _ = make_run("answer")
    run_b, _ = make_run("answer")
    other, _ = make_run("answer", agent="agent-other")
    page = user_client.get(reverse("run_detail", args=[run_a.id])).content.decode()
    assert reverse("compare_runs_start") in page and reverse("compare_recent_runs", args=[run_a.id]) in page
    picker = user_client.get(reverse("compare_recent_runs", args=[run_a.id])).content.decode()
    assert reverse("compare_runs", args=[run_a.id, run_b.id]) in picker
    assert other.id not in picker
    response = user_client.get(reverse("compare_runs_start"), {"a": run_a.id, "b": f"/runs/{run_b.id}/"})
    assert response["Location"] == reverse("compare_runs", args=[run_a.id, run_b.id])
    assert user_client.get(reverse("compare_runs_start"), {"a": run_a.id, "b": ""}).status_code == 400


def test_runs_with_the_same_tools_but_other_input_and_answers_are_not_called_the_same(user_client):
    def run(question: str, answer: str):
        run, (step,) = make_run("web_search")
        MessageFactory(step=step, position=1, message_type="user_message", content=question)
        MessageFactory(step=step, position=2, message_type="assistant_message", content=answer)
        return run

    tea, coffee = run("tea?", "Tea is good."), run("coffee?", "Coffee is good.")
    html = user_client.get(reverse("compare_runs", args=[tea.id, coffee.id])).content.decode()
    assert "the runs took the same steps" not in html
    assert "same tool sequence; 1 of 1 step differs in user input and answers" in html
    assert "same action; different user input and answers" in html
    again = run("tea?", "Tea is good.")
    html = user_client.get(reverse("compare_runs", args=[tea.id, again.id])).content.decode()
    assert "the runs took the same steps" in html
