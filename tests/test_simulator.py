"""The Letta simulator answers like the recorded Letta 0.16.8 server, over real HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from steps.simulator import Faults, World, start_simulator
from tests.simulator_helpers import (
    MESSAGE_NULLABLE,
    METRICS_NULLABLE,
    MISSING_STEP_ID,
    RUN_NULLABLE,
    STEP_NULLABLE,
    TRACE_NULLABLE,
    assert_same_shape,
    failed_step,
    find_step,
    load_sample,
    openai_step_with_messages,
    plain_answer_step,
    sample_names,
)

BASE_TIME = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def make_world(**options) -> World:
    return World(seed=7, clock=lambda: BASE_TIME, **options)


@pytest.fixture
def sim():
    with start_simulator(make_world()) as simulator:
        yield simulator


@pytest.fixture
def client(sim):
    with httpx.Client(base_url=sim.base_url, timeout=5) as http:
        yield http


# -- every recorded sample has a simulated twin ------------------------------------------------------------


def _messages_like(sample: str, agent_type: str | None = None):
    def request(sim, client):
        types = [item["message_type"] for item in load_sample(sample)["body"]]
        step_id = openai_step_with_messages(sim.world, types, agent_type)
        return client.get(f"/v1/steps/{step_id}/messages")

    return request


def _unpatched(request):
    def wrapped(sim, client):
        sim.world.list_mode = "unpatched"
        return request(sim, client)

    return wrapped


def _run_steps(sim, client):
    run_id = sim.world.steps[plain_answer_step(sim.world)].payload["run_id"]
    return client.get(f"/v1/runs/{run_id}/steps", params={"order": "asc"})


def _page2_desc(sim, client):
    third = client.get("/v1/steps/", params={"limit": 3, "order": "desc"}).json()[2]["id"]
    return client.get("/v1/steps/", params={"limit": 3, "order": "desc", "after": third})


def _feedback(body):
    return lambda sim, client: client.patch(f"/v1/steps/{plain_answer_step(sim.world)}/feedback", json=body)


# sample name -> (the equivalent simulator request, fields the doc allows to be null)
SAMPLE_REQUESTS = {
    "error_400_list_steps_unpatched_server": (
        _unpatched(lambda sim, client: client.get("/v1/steps/", params={"limit": 2, "order": "asc"})),
        frozenset(),
    ),
    "error_404_feedback": (
        lambda sim, client: client.patch(
            f"/v1/steps/{MISSING_STEP_ID}/feedback", json={"feedback": "positive"}
        ),
        frozenset(),
    ),
    "error_404_step": (lambda sim, client: client.get(f"/v1/steps/{MISSING_STEP_ID}"), frozenset()),
    "error_404_step_metrics": (
        lambda sim, client: client.get(f"/v1/steps/{MISSING_STEP_ID}/metrics"),
        frozenset(),
    ),
    "error_422_feedback_invalid_value": (_feedback({"feedback": "meh"}), frozenset()),
    "error_422_list_bad_limit": (lambda sim, client: client.get("/v1/steps/?limit=notanumber"), frozenset()),
    "error_bad_step_id": (lambda sim, client: client.get("/v1/steps/not-a-step-id"), frozenset()),
    "feedback_patch_clear": (_feedback({"feedback": None}), STEP_NULLABLE),
    "feedback_patch_positive": (
        _feedback({"feedback": "positive", "tags": ["sample", "helpful"]}),
        STEP_NULLABLE,
    ),
    "list_runs_asc": (
        lambda sim, client: client.get("/v1/runs/", params={"limit": 3, "order": "asc"}),
        RUN_NULLABLE,
    ),
    "list_steps_asc_after": (
        lambda sim, client: client.get(
            "/v1/steps/", params={"order": "asc", "limit": 2, "after": sim.world.step_ids()[5]}
        ),
        STEP_NULLABLE,
    ),
    "list_steps_has_feedback": (
        lambda sim, client: client.get("/v1/steps/", params={"has_feedback": "true", "limit": 2}),
        STEP_NULLABLE,
    ),
    "list_steps_page1_limit3_desc": (
        lambda sim, client: client.get("/v1/steps/", params={"limit": 3, "order": "desc"}),
        STEP_NULLABLE,
    ),
    "list_steps_page2_limit3_desc_after": (_page2_desc, STEP_NULLABLE),
    "messages_missing_step": (
        lambda sim, client: client.get(f"/v1/steps/{MISSING_STEP_ID}/messages"),
        frozenset(),
    ),
    "run_steps": (_run_steps, STEP_NULLABLE),
    "run_steps_unpatched_server": (_unpatched(_run_steps), STEP_NULLABLE),
    "step": (lambda sim, client: client.get(f"/v1/steps/{plain_answer_step(sim.world)}"), STEP_NULLABLE),
    "step_failed": (lambda sim, client: client.get(f"/v1/steps/{failed_step(sim.world)}"), STEP_NULLABLE),
    "step_failed_messages": (
        lambda sim, client: client.get(f"/v1/steps/{failed_step(sim.world)}/messages"),
        frozenset(),
    ),
    "step_failed_metrics": (
        lambda sim, client: client.get(f"/v1/steps/{failed_step(sim.world)}/metrics"),
        METRICS_NULLABLE,
    ),
    "step_failed_trace": (
        lambda sim, client: client.get(f"/v1/steps/{failed_step(sim.world)}/trace"),
        TRACE_NULLABLE,
    ),
    "step_messages": (_messages_like("step_messages"), MESSAGE_NULLABLE),
    "step_messages_letta_v1_agent": (
        _messages_like("step_messages_letta_v1_agent", "letta_v1_agent"),
        MESSAGE_NULLABLE,
    ),
    "step_messages_memgpt_v2_agent": (
        _messages_like("step_messages_memgpt_v2_agent", "memgpt_v2_agent"),
        MESSAGE_NULLABLE,
    ),
    "step_messages_tool_call": (
        _messages_like("step_messages_tool_call", "letta_v1_agent"),
        MESSAGE_NULLABLE,
    ),
    "step_metrics": (
        lambda sim, client: client.get(f"/v1/steps/{plain_answer_step(sim.world)}/metrics"),
        METRICS_NULLABLE,
    ),
    "step_trace": (
        lambda sim, client: client.get(f"/v1/steps/{plain_answer_step(sim.world)}/trace"),
        TRACE_NULLABLE,
    ),
    "trace_missing_step": (lambda sim, client: client.get(f"/v1/steps/{MISSING_STEP_ID}/trace"), frozenset()),
}


@pytest.mark.parametrize("sample_name", sample_names())
def test_every_recorded_sample_has_a_simulated_response_of_the_same_shape(sample_name, sim, client):
    assert sample_name in SAMPLE_REQUESTS, (
        f"no simulator request is mapped to letta_samples/{sample_name}.json"
    )
    request, nullable = SAMPLE_REQUESTS[sample_name]
    sample = load_sample(sample_name)
    if sample_name == "step_failed_trace":
        # Agents carry their history across runs, so a failed call's request can hold tool calls and
        # returns too: any message shape the recorded successful request shows is a valid one.
        recorded = load_sample("step_trace")["body"]["request_json"]["messages"]
        sample["body"]["request_json"]["messages"] += recorded

    response = request(sim, client)

    assert response.status_code == sample["status"]
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    if isinstance(sample["body"], list) and sample["body"]:
        assert body, "the sample holds items, so the simulated answer must hold some too"
    assert_same_shape(body, sample["body"], nullable)


def test_unpatched_list_error_is_byte_for_byte_the_recorded_one(sim, client):
    sim.world.list_mode = "unpatched"

    asc = client.get("/v1/steps/", params={"limit": 2, "order": "asc"})
    desc = client.get("/v1/steps/")

    assert asc.json() == load_sample("error_400_list_steps_unpatched_server")["body"]
    assert desc.status_code == 400
    assert "is False of type" in desc.json()["detail"]


def test_not_found_texts_are_the_recorded_ones(client):
    for path, sample in (
        (f"/v1/steps/{MISSING_STEP_ID}", "error_404_step"),
        (f"/v1/steps/{MISSING_STEP_ID}/metrics", "error_404_step_metrics"),
    ):
        detail = client.get(path).json()["detail"]
        recorded = load_sample(sample)["body"]["detail"]
        assert detail.split(" for actor=")[0] == recorded.split(" for actor=")[0]


# -- listing and paging ------------------------------------------------------------------------------------


def test_list_without_trailing_slash_redirects_to_the_slash_form_keeping_the_query(sim, client):
    response = client.get("/v1/steps", params={"limit": 3, "order": "asc"})

    assert response.status_code == 307
    assert response.headers["location"] == f"{sim.base_url}/v1/steps/?limit=3&order=asc"
    followed = client.get("/v1/steps", params={"limit": 3}, follow_redirects=True)
    assert len(followed.json()) == 3
    assert [record.path for record in sim.requests][-2:] == ["/v1/steps", "/v1/steps/"]


def test_after_cursor_paging_in_asc_returns_every_step_exactly_once(sim, client):
    seen, after = [], None
    while True:
        params = {"order": "asc", "limit": 7} | ({"after": after} if after else {})
        page = client.get("/v1/steps/", params=params).json()
        seen += [step["id"] for step in page]
        if len(page) < 7:
            break
        after = page[-1]["id"]

    assert seen == sim.world.step_ids()


def test_desc_after_cursor_walks_backwards_in_time(sim, client):
    ids = sim.world.step_ids()

    page = client.get("/v1/steps/", params={"order": "desc", "limit": 3, "after": ids[10]}).json()

    assert [step["id"] for step in page] == [ids[9], ids[8], ids[7]]


def test_list_parameters_behave_like_letta(sim, client):
    world = sim.world
    assert client.get("/v1/steps/", params={"limit": 0}).json() == []
    assert len(client.get("/v1/steps/").json()) == 50
    assert client.get("/v1/steps/", params={"limit": -1}).json() == {"detail": "An unknown error occurred"}
    assert client.get("/v1/steps/", params={"order": "sideways"}).status_code == 422
    assert client.get("/v1/steps/", params={"feedback": "meh"}).status_code == 422
    assert client.get("/v1/steps/", params={"start_date": "yesterday"}).status_code == 400
    bad_agent = client.get("/v1/steps/", params={"agent_id": "agent-123"})
    assert bad_agent.status_code == 400
    assert bad_agent.json()["detail"].startswith("INVALID_ARGUMENT: Invalid agent ID format")
    unknown = "step-11111111-1111-4111-8111-111111111111"
    assert client.get("/v1/steps/", params={"after": unknown}).json() == {
        "detail": f"No Step found with id {unknown}"
    }

    voted = client.get("/v1/steps/", params={"has_feedback": "true", "limit": 1000}).json()
    assert voted and all(step["feedback"] for step in voted)
    tagged = client.get("/v1/steps/", params={"tags": "no-such-tag", "limit": 1000}).json()
    assert len(tagged) == len(world.steps)  # tags are accepted and ignored, as upstream

    middle = world.steps[world.step_ids()[20]]
    later = client.get(
        "/v1/steps/", params={"start_date": middle.created_at.isoformat(), "limit": 1000}
    ).json()
    assert middle.id not in {step["id"] for step in later}  # strict >
    assert len(later) == len(world.steps) - 21


def test_unpatched_server_refuses_every_step_list_but_lists_runs_and_run_steps(sim, client):
    sim.world.list_mode = "unpatched"

    assert client.get("/v1/steps/", params={"limit": 0}).status_code == 400
    runs = client.get("/v1/runs/", params={"order": "asc", "limit": 5}).json()
    run_steps = client.get(f"/v1/runs/{runs[0]['id']}/steps", params={"order": "asc"}).json()
    assert [step["run_id"] for step in run_steps] == [runs[0]["id"]] * len(run_steps)
    assert client.get(f"/v1/steps/{run_steps[0]['id']}").status_code == 200
    assert client.get(f"/v1/runs/{runs[0]['id']}").json() == runs[0]
    assert client.get("/v1/runs/run-missing/steps").status_code == 404


# -- messages ---------------------------------------------------------------------------------------------


def test_message_limit_counts_internal_rows_and_items_of_a_row_come_reversed(sim, client):
    types = ["user_message", "tool_call_message", "reasoning_message", "tool_return_message", "user_message"]
    step_id = openai_step_with_messages(sim.world, types)

    first = client.get(f"/v1/steps/{step_id}/messages", params={"limit": 2}).json()
    rest = client.get(f"/v1/steps/{step_id}/messages", params={"after": first[-1]["id"]}).json()

    assert [item["message_type"] for item in first] == types[:3]  # 2 rows, 3 items
    tool_call, reasoning = first[1], first[2]
    assert tool_call["id"] == reasoning["id"]
    assert (tool_call["otid"][-2:], reasoning["otid"][-2:]) in {("01", "00"), ("81", "80")}
    assert [item["message_type"] for item in rest] == types[3:]
    assert rest[-1]["otid"] is None  # a system-written heartbeat
    unknown = client.get(f"/v1/steps/{step_id}/messages", params={"after": "message-missing"})
    assert unknown.status_code == 404


def test_send_message_return_is_dropped_only_when_its_call_is_on_the_same_page(sim, client):
    types = ["user_message", "assistant_message", "reasoning_message"]
    step_id = openai_step_with_messages(sim.world, types, "memgpt_v2_agent")

    page = client.get(f"/v1/steps/{step_id}/messages", params={"limit": 2}).json()
    orphan = client.get(f"/v1/steps/{step_id}/messages", params={"after": page[-1]["id"]}).json()

    assert [item["message_type"] for item in orphan] == ["tool_return_message"]
    assert orphan[0]["name"] == "send_message"


def test_approval_response_is_appended_later_to_the_same_step(sim, client):
    world = sim.world
    added = world.add_run(agent=0, steps=1, outcome="requires_approval", pending=False)
    step_id = added.step_ids[0]
    before_step = client.get(f"/v1/steps/{step_id}").json()
    before = client.get(f"/v1/steps/{step_id}/messages").json()

    world.resolve_approvals()

    after = client.get(f"/v1/steps/{step_id}/messages").json()
    assert before_step["stop_reason"] == "requires_approval"
    assert "approval_request_message" in {item["message_type"] for item in before}
    assert [item["message_type"] for item in after[len(before) :]] == [
        "approval_response_message",
        "tool_return_message",
    ]
    assert client.get(f"/v1/steps/{step_id}").json() == before_step


# -- feedback ---------------------------------------------------------------------------------------------


def test_feedback_is_always_overwritten_and_empty_tags_never_clear(sim, client):
    step_id = plain_answer_step(sim.world)
    url = f"/v1/steps/{step_id}/feedback"

    voted = client.patch(url, json={"feedback": "positive", "tags": ["helpful", "tone"]}).json()
    tags_only = client.patch(url, json={"tags": []}).json()
    extra = client.patch(url, json={"feedback": "negative", "tags": None, "ignored": 1}).json()

    assert (voted["feedback"], voted["tags"]) == ("positive", ["helpful", "tone"])
    assert (tags_only["feedback"], tags_only["tags"]) == (None, ["helpful", "tone"])
    assert (extra["feedback"], extra["tags"]) == ("negative", ["helpful", "tone"])
    assert client.patch("/v1/steps/bad/feedback", json={}).status_code == 422
    assert client.patch(f"/v1/steps/{MISSING_STEP_ID}/feedback", json={}).status_code == 404


def test_feedback_changed_upstream_by_someone_else_is_served(sim, client):
    step_id = plain_answer_step(sim.world)

    sim.world.set_feedback(step_id, "negative", ["wrong-tool"])

    step = client.get(f"/v1/steps/{step_id}").json()
    assert (step["feedback"], step["tags"]) == ("negative", ["wrong-tool"])


# -- traces -----------------------------------------------------------------------------------------------


def test_two_trace_rows_give_null_on_postgres_and_the_latest_row_on_clickhouse(sim, client):
    world = sim.world
    step_id = find_step(world, lambda step: len(step.traces) == 2)
    latest = max(world.steps[step_id].traces, key=lambda row: row.created_at).row

    on_postgres = client.get(f"/v1/steps/{step_id}/trace")
    world.trace_backend = "clickhouse"
    on_clickhouse = client.get(f"/v1/steps/{step_id}/trace").json()

    assert (on_postgres.status_code, on_postgres.json()) == (200, None)
    assert on_clickhouse["id"] == latest["id"]
    filled = {key for key, value in on_clickhouse.items() if value is not None}
    assert filled == {"id", "step_id", "request_json", "response_json", "created_at"}


def test_a_late_trace_appears_some_ticks_after_the_step_succeeded(client, sim):
    world = sim.world
    world.late_trace_rate, world.late_trace_ticks = 1.0, 2
    step_ids = [world.add_run(agent=0, steps=1, outcome="success").step_ids[0] for _ in range(6)]
    world.tick()  # the pending steps finish now, their traces are written two ticks later
    step_id = next(sid for sid in step_ids if len(world.steps[sid].traces) == 1)

    assert client.get(f"/v1/steps/{step_id}").json()["status"] == "success"
    assert client.get(f"/v1/steps/{step_id}/trace").json() is None
    world.tick()
    world.tick()
    assert client.get(f"/v1/steps/{step_id}/trace").json()["step_id"] == step_id


# -- world lifecycle --------------------------------------------------------------------------------------


def test_a_pending_step_finishes_on_a_later_tick(sim, client):
    added = sim.world.add_run(agent=0, steps=1, outcome="success", pending=True)
    step_id = added.step_ids[0]

    pending = client.get(f"/v1/steps/{step_id}").json()
    pending_metrics = client.get(f"/v1/steps/{step_id}/metrics").json()
    sim.world.tick()
    done = client.get(f"/v1/steps/{step_id}").json()

    assert (pending["status"], pending["total_tokens"], pending["stop_reason"]) == ("pending", 0, None)
    assert pending_metrics["step_ns"] is None
    assert client.get(f"/v1/steps/{step_id}/messages").json() != []
    assert (done["status"], done["stop_reason"]) == ("success", "end_turn")
    assert done["total_tokens"] > 0
    assert client.get(f"/v1/steps/{step_id}/metrics").json()["step_ns"] > 0
    assert client.get(f"/v1/runs/{added.run_id}").json()["status"] == "completed"


def test_finish_pending_plays_every_open_run_to_its_end():
    world = make_world(initial_runs=0)
    added = world.add_run(steps=3, outcome="success")

    world.finish_pending()

    statuses = [world.step_payload(step_id)["status"] for step_id in added.step_ids]
    assert statuses == ["success"] * 3
    assert [world.step_payload(step_id)["stop_reason"] for step_id in added.step_ids] == [
        None,
        None,
        "end_turn",
    ]


def test_the_same_seed_builds_the_same_world():
    first, second = make_world(), make_world()
    for world in (first, second):
        world.tick()
        world.add_run(steps=2)

    def dump(world: World) -> str:
        return json.dumps(world.snapshot(), default=str, sort_keys=True)

    assert dump(first) == dump(second)
    assert dump(first) != dump(World(seed=8, clock=lambda: BASE_TIME))


def test_indexed_lists_serve_the_same_ascending_pages_as_a_scan_even_as_the_world_grows():
    scanned, indexed = World(clock=lambda: BASE_TIME), World(clock=lambda: BASE_TIME, indexed_lists=True)

    def pages(world: World, list_rows) -> list[list[str]]:
        walked, after = [], None
        while page := list_rows(world, after):
            walked.append([row["id"] for row in page])
            after = page[-1]["id"]
        return walked

    def steps(world, after):
        return world.list_steps(order="asc", limit=7, after=after)

    def runs(world, after):
        return world.list_runs(order="asc", limit=5, after=after)

    for world in (scanned, indexed):
        pages(world, steps)  # the index is built, then the world moves on
        world.tick()
        world.add_run(steps=3, pending=False)
    assert pages(indexed, steps) == pages(scanned, steps)
    assert sum(map(len, pages(indexed, steps))) == len(indexed.steps)
    assert pages(indexed, runs) == pages(scanned, runs)


# -- faults, auth, request log, control surface -----------------------------------------------------------


def test_fail_next_answers_the_given_status_then_recovers(sim, client):
    sim.faults.fail_next(2, status=503)

    statuses = [client.get("/v1/runs/").status_code for _ in range(3)]

    assert statuses == [503, 503, 200]


def test_conflict_answers_409_with_retry_after(sim, client):
    sim.faults.conflict_rate = 1.0

    response = client.get("/v1/steps/")

    assert response.status_code == 409
    assert response.headers["retry-after"] == "1"
    assert "Please retry" in response.json()["detail"]


def test_error_rate_answers_server_errors(sim, client):
    sim.faults.error_rate = 1.0

    assert {client.get("/v1/runs/").status_code for _ in range(6)} <= {500, 502, 503}


def test_a_truncated_body_raises_in_the_client(sim, client):
    sim.faults.truncate_rate = 1.0

    with pytest.raises(httpx.TransportError):
        client.get("/v1/steps/")


def test_faults_can_be_limited_to_one_method(sim, client):
    sim.faults.update({"truncate_rate": 1.0, "methods": "PATCH"})
    step_id = sim.world.step_ids()[0]

    assert client.get(f"/v1/steps/{step_id}").status_code == 200  # reads go through
    with pytest.raises(httpx.TransportError):
        client.patch(f"/v1/steps/{step_id}/feedback", json={"feedback": "negative"})
    assert sim.world.step_payload(step_id)["feedback"] == "negative"  # applied, answer lost
    sim.faults.clear()
    assert sim.faults.methods == ""


def test_a_hanging_server_times_the_client_out(sim):
    sim.faults.timeout_rate, sim.faults.hang_seconds = 1.0, 30
    with httpx.Client(base_url=sim.base_url, timeout=0.2) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.get("/v1/steps/")


def test_latency_delays_every_answer(sim):
    sim.faults.latency_ms = 30_000
    with httpx.Client(base_url=sim.base_url, timeout=0.2) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.get("/v1/runs/")


def test_a_down_server_drops_api_connections_but_keeps_the_control_surface(sim, client):
    sim.faults.down = True

    with pytest.raises(httpx.TransportError):
        client.get("/v1/steps/")
    assert client.post("/_simulator/faults", json={"down": False}).json()["down"] is False
    assert client.get("/v1/steps/").status_code == 200


def test_api_key_is_required_when_configured():
    with (
        start_simulator(make_world(initial_runs=2), api_key="s3cret") as sim,
        httpx.Client(base_url=sim.base_url) as c,
    ):
        assert c.get("/v1/steps/").json() == {"detail": "Unauthorized"}
        assert c.get("/v1/steps/", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/v1/steps/", headers={"X-BARE-PASSWORD": "password s3cret"}).status_code == 200


def test_the_request_log_records_api_calls_but_not_control_calls(sim, client):
    client.get("/v1/steps/", params={"order": "asc", "trace_ids": ["a", "b"]})
    client.get("/_simulator/state")

    assert sim.request_count == 1
    record = sim.requests[-1]
    assert (record.method, record.path, record.status) == ("GET", "/v1/steps/", 200)
    assert record.params["trace_ids"] == ["a", "b"]


def test_the_tally_says_how_often_each_step_and_page_was_asked_for(sim, client):
    first, second = client.get("/v1/steps/", params={"order": "asc", "limit": 2}).json()
    client.get(f"/v1/steps/{first['id']}/trace")
    client.get(f"/v1/steps/{first['id']}/trace")
    client.get(f"/v1/steps/{second['id']}/trace")
    client.get("/v1/steps/", params={"order": "asc", "limit": 2, "after": second["id"]})

    tally = client.get("/_simulator/tally").json()

    assert tally["step_trace"] == {"requests": 3, "distinct": 2, "repeated": 1}
    assert tally["list_steps"] == {"requests": 2, "distinct": 2, "repeated": 0}
    trace = client.get("/_simulator/tally", params={"repeated": "step_trace"}).json()["step_trace"]
    assert trace["repeated_subjects"] == [f"{first['id']}?after=&order=&has_feedback="]
    assert client.delete("/_simulator/tally").json() == {}
    assert client.get("/_simulator/tally").json() == {}


def test_control_endpoints_tick_report_and_set_faults(sim, client):
    state = client.post("/_simulator/tick", json={"count": 2}).json()
    faults = client.post("/_simulator/faults", json={"conflict_rate": 1.0}).json()

    assert state["ticks"] == 2
    assert state["runs"] == 62
    assert faults["conflict_rate"] == 1.0
    assert client.get("/v1/steps/").status_code == 409
    assert client.post("/_simulator/faults", json={"clear": True}).json()["conflict_rate"] == 0.0
    assert client.post("/_simulator/faults", json={"bogus": 1}).status_code == 400


def test_faults_object_can_be_shared_at_start():
    faults = Faults(conflict_rate=1.0)
    with start_simulator(make_world(initial_runs=1), faults) as sim, httpx.Client(base_url=sim.base_url) as c:
        assert c.get("/v1/runs/").status_code == 409


def _agent_requests(world: World) -> dict[str, list[dict]]:
    requests: dict[str, list[dict]] = {}
    for step_id in world.step_ids():
        step = world.steps[step_id]
        rows = [t.row for t in step.traces if t.row["call_type"] == "agent_step"]
        if rows:
            requests.setdefault(step.payload["agent_id"], []).append(rows[-1]["request_json"])
    return requests


def test_consecutive_requests_of_an_agent_show_memory_edits_tool_changes_and_summaries():
    world = make_world()
    systems, tools, summaries = set(), set(), 0
    for requests in _agent_requests(world).values():
        for before, after in zip(requests, requests[1:], strict=False):
            system = lambda r: r.get("system") or r["messages"][0]["content"]  # noqa: E731
            names = lambda r: [t.get("name") or t["function"]["name"] for t in r["tools"]]  # noqa: E731
            if system(before) != system(after):
                systems.add(system(after))
            if names(before) != names(after):
                tools.add(tuple(names(after)))
        summaries += sum("have been hidden from view" in json.dumps(r["messages"]) for r in requests)
    assert any("Likes tea" in s or "Favourite editor" in s for s in systems), "a memory tool edited a block"
    assert tools, "an agent gained or lost a tool between two steps"
    assert summaries, "a summary replaced old history"


def test_make_runs_random_seed_gives_each_start_a_world_of_its_own():
    import argparse

    from steps.management.commands.letta_simulator import seed_arg

    # `make run` keeps its mirror across restarts: a second seed-7 world re-served the same ids
    first, second = (
        World(seed=seed_arg("random"), initial_runs=3),
        World(seed=seed_arg("random"), initial_runs=3),
    )
    assert not set(first.step_ids()) & set(second.step_ids())
    # with an agent seed, new worlds keep their agents (no second "demo-ops-agent" in the filter)
    kept = (
        World(seed=seed_arg("random"), initial_runs=3, agent_seed=7),
        World(seed=1, initial_runs=3, agent_seed=7),
    )
    assert (
        [a.id for a in kept[0].agents]
        == [a.id for a in kept[1].agents]
        == [a.id for a in World(seed=7).agents]
    )
    assert not set(kept[0].step_ids()) & set(kept[1].step_ids())
    # an explicit seed still reproduces its world
    assert World(seed=seed_arg("7"), initial_runs=3).step_ids() == World(seed=7, initial_runs=3).step_ids()
    with pytest.raises(argparse.ArgumentTypeError):
        seed_arg("seven")
