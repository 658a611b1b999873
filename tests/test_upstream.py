"""The Letta client against the simulator: the API's sharp edges, retries and typed errors."""

import pytest

from steps.sync.upstream import (
    LettaClient,
    StepListUnavailable,
    UpstreamAuthError,
    UpstreamNotFound,
    UpstreamUnavailable,
    UpstreamValidationError,
)
from tests.conftest import quick_sleep

MISSING_STEP = "step-00000000-0000-4000-8000-000000000000"


def test_step_list_uses_the_trailing_slash_and_returns_bare_arrays(simulator, letta):
    page = letta.list_steps(limit=3, order="asc")
    assert [s["id"] for s in page] == simulator.world.step_ids()[:3]
    assert simulator.requests[-1].path == "/v1/steps/"


def test_missing_step_is_a_typed_404(letta):
    with pytest.raises(UpstreamNotFound) as error:
        letta.get_step(MISSING_STEP)
    assert error.value.status == 404 and "Step not found" in error.value.detail


def test_metrics_404_means_no_metrics(letta):
    assert letta.get_metrics(MISSING_STEP) is None


def test_trace_200_null_is_none(letta):
    assert letta.get_trace(MISSING_STEP) is None


def test_422_detail_is_kept_as_the_string_letta_sends(letta):
    with pytest.raises(UpstreamValidationError) as error:
        letta.get_step("step-not-a-uuid")
    assert isinstance(error.value.detail, str) and "step-" in error.value.detail


def test_unpatched_server_step_list_is_recognised(unpatched_simulator):
    with LettaClient(unpatched_simulator.base_url) as client, pytest.raises(StepListUnavailable):
        client.list_steps(limit=1)
    with LettaClient(unpatched_simulator.base_url) as client:
        assert client.list_runs(limit=2)  # runs still list on such a server


def test_messages_page_until_an_empty_page(simulator, letta):
    step_id = next(s for s in simulator.world.step_ids() if len(simulator.world.steps[s].messages) >= 2)
    items = list(letta.iter_messages(step_id, page_size=1))
    message_requests = [r for r in simulator.requests if r.path.endswith("/messages")]
    assert items
    assert len(message_requests) > 2  # one internal message per page, then the empty page
    assert {i["id"] for i in items} == {i["id"] for i in letta.iter_messages(step_id, page_size=100)}


def test_409_is_retried_after_the_seconds_letta_asks_for(simulator):
    waits = []
    simulator.faults.fail_next(2, status=409)
    with LettaClient(simulator.base_url, sleep=waits.append) as client:
        assert client.list_runs(limit=1)
    assert waits == [1.0, 1.0]  # Retry-After: 1


def test_5xx_is_retried_with_backoff_then_reported(simulator):
    waits = []
    simulator.faults.fail_next(10, status=503)
    with (
        LettaClient(simulator.base_url, max_retries=3, sleep=waits.append) as client,
        pytest.raises(UpstreamUnavailable) as error,
    ):
        client.list_runs(limit=1)
    assert len(waits) == 3 and waits[0] < waits[1] < waits[2]
    assert "503" in str(error.value)


def test_truncated_bodies_and_hangs_are_retried(simulator):
    simulator.faults.truncate_rate = 1.0
    with (
        LettaClient(simulator.base_url, max_retries=1, sleep=quick_sleep) as client,
        pytest.raises(UpstreamUnavailable),
    ):
        client.list_runs(limit=1)
    simulator.faults.truncate_rate = 0.0

    simulator.faults.hang_seconds, simulator.faults.timeout_rate = 2.0, 1.0
    with (
        LettaClient(simulator.base_url, timeout=0.3, max_retries=1, sleep=quick_sleep) as client,
        pytest.raises(UpstreamUnavailable) as error,
    ):
        client.list_runs(limit=1)
    assert "ReadTimeout" in str(error.value)
    assert sum(r.path == "/v1/runs/" for r in simulator.requests) == 4  # 2 truncated + 2 timed out


def test_wrong_key_says_which_setting_to_fix(secured_simulator):
    with (
        LettaClient(secured_simulator.base_url, api_key="wrong") as client,
        pytest.raises(UpstreamAuthError) as error,
    ):
        client.list_runs(limit=1)
    assert "LETTA_API_KEY" in str(error.value) and "wrong" not in str(error.value)
    with LettaClient(secured_simulator.base_url, api_key="the-server-password") as client:
        assert client.list_runs(limit=1)


def test_feedback_patch_sends_the_full_state(simulator, letta):
    step_id = simulator.world.step_ids()[0]
    letta.patch_feedback(step_id, feedback="positive", tags=["keep"])
    step = letta.patch_feedback(step_id, feedback=None, tags=None)
    assert step["feedback"] is None and step["tags"] == ["keep"]  # Letta cannot clear tags (§1.5)
