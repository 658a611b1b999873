"""Demo mode talks to its own simulator only: a server that does not answer with this start's
nonce (a real Letta on the port, another demo's simulator) gets no request from the sync or
the feedback write-back. The end-to-end check with `manage.py serve` is in test_processes.py."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from steps import feedback
from steps.models import FeedbackPush, SyncRun
from steps.simulator import start_simulator
from steps.sync import run_sync
from steps.sync.upstream import LettaClient, NotOurSimulator
from tests.conftest import make_world, quick_sleep
from tests.factories import StepFactory, UserFactory


@pytest.fixture
def own_simulator():
    with start_simulator(make_world(initial_runs=3), nonce="this-start") as server:
        yield server


def test_a_client_with_the_right_nonce_works(own_simulator):
    with LettaClient(own_simulator.base_url, simulator_nonce="this-start") as client:
        assert client.list_runs(limit=1)


def test_a_server_without_the_nonce_gets_no_request(simulator):
    """`simulator` answers no nonce, like a real Letta (404 on the identity route) would."""
    client = LettaClient(simulator.base_url, simulator_nonce="this-start", sleep=quick_sleep)
    with client, pytest.raises(NotOurSimulator, match="not the Letta simulator this demo started"):
        client.list_runs(limit=1)
    assert simulator.requests == []


def test_another_demos_simulator_is_refused(own_simulator):
    client = LettaClient(own_simulator.base_url, simulator_nonce="another-start")
    with client, pytest.raises(NotOurSimulator):
        client.get_step(own_simulator.world.step_ids()[0])
    assert own_simulator.requests == []


@pytest.mark.django_db
def test_the_sync_records_why_it_refused(simulator):
    with LettaClient(simulator.base_url, simulator_nonce="this-start") as client:
        sync_run = run_sync(client)
    assert sync_run.status == SyncRun.Status.FAILED
    assert "not the Letta simulator this demo started" in sync_run.error_message
    assert simulator.requests == []


@pytest.mark.django_db
def test_a_vote_waits_instead_of_going_to_the_wrong_server(simulator, settings):
    settings.LETTA_BASE_URL = simulator.base_url
    settings.LETTA_SIMULATOR_NONCE = "this-start"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    step = StepFactory(id=simulator.world.step_ids()[0], status="success")
    FeedbackPush.objects.create(step=step, feedback="positive", tags=[], created_by=UserFactory())
    with feedback.push_client() as client:
        assert feedback.deliver(client, step.pk) is not None  # retried later, not dropped
    push = FeedbackPush.objects.get(step=step)
    assert push.status == FeedbackPush.Status.PENDING and "not the Letta simulator" in push.last_error
    assert simulator.requests == []


def test_no_letta_url_is_a_loud_configuration_error(settings):
    """The old fallback was Letta's own default port, where a real server may listen."""
    settings.LETTA_BASE_URL = ""
    with pytest.raises(ImproperlyConfigured, match="LETTA_BASE_URL is not set"):
        LettaClient.from_settings()
