"""schemathesis against the live schema (/api/v1/schema/, fetched with a token through the WSGI app):
generated requests to every operation get no 5xx and no answer that breaks the schema, and input the
schema forbids is refused with a 4xx. (Not checked: that every schema-valid input is accepted. A
schema cannot say that a cursor must be one we issued, or that text holds no NUL byte; those are 400s.)

Path ids are pointed at a seeded step, run, agent, sync run and bulk batch, so the generated query
strings and bodies reach the views' real work rather than stopping at a 404.
"""

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from steps.models import ApiToken, FeedbackBatch
from tests.factories import (
    ProviderTraceFactory,
    RunFactory,
    StepFactory,
    StepMetricsFactory,
    SyncRunFactory,
    UserFactory,
    conversation,
)
from tests.review_helpers import make_queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings):
    settings.API_THROTTLE_RATE = ""  # hundreds of requests in a second: not what the throttle tests
    user = UserFactory(username="schemathesis")
    _, key = ApiToken.create_for(user, "schemathesis")
    run = RunFactory()
    steps = [StepFactory(run_id=run.id, agent_id=run.agent_id), StepFactory(failed=True, run_id=run.id)]
    for step in steps:
        conversation(step)
        StepMetricsFactory(step=step)
        ProviderTraceFactory(step=step)
    from steps.models import Agent

    agent = Agent(id=run.agent_id)
    agent.apply_payload({"id": run.agent_id, "name": "support bot"})
    agent.save()
    batch = FeedbackBatch.objects.create(created_by=user, action="positive", params={"query": ""})
    ids = {
        "step_id": steps[0].pk,
        "a_id": steps[0].pk,
        "b_id": steps[1].pk,
        "run_id": run.id,
        "agent_id": agent.id,
        "sync_run_id": SyncRunFactory().pk,
        "batch_id": batch.pk,
        # a queue of both steps, two reviews each: next, reviews and the rest reach their real work
        "queue_id": (queue := make_queue(steps, k=2, user=user)).pk,
        "rubric_id": queue.rubric_id,
    }
    # identity: responses are gzipped for clients that accept it (GZipMiddleware), and schemathesis's
    # WSGI transport advertises gzip without decompressing; the schema describes the JSON itself
    headers = {"Authorization": f"Bearer {key}", "Accept-Encoding": "identity"}
    return {"headers": headers, "ids": ids}


@pytest.fixture
def wsgi_app():
    """The project's WSGI app, minus the per-request connection closing a server does: the requests
    run inside the test's transaction on its connection (as Django's test client arranges)."""
    signals = (request_started, request_finished)
    for signal in signals:
        signal.disconnect(close_old_connections)
    yield get_wsgi_application()
    for signal in signals:
        signal.connect(close_old_connections)


@pytest.fixture
def api_schema(seeded, wsgi_app):
    return schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_app, headers=seeded["headers"])


# Per operation and generation mode (valid input, then invalid input that must be refused with a 4xx).
EXAMPLES = 12


def exercise(operation, mode: GenerationMode, seeded: dict) -> int:
    """EXAMPLES generated requests to one operation; the number sent. Raises what schemathesis found."""
    sent = 0

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,  # the same requests on every run
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failure
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        nonlocal sent
        if mode == GenerationMode.POSITIVE:
            for name in case.path_parameters or {}:
                case.path_parameters[name] = seeded["ids"].get(name, case.path_parameters[name])
        sent += 1
        case.call_and_validate(headers=seeded["headers"], excluded_checks=[positive_data_acceptance])

    check()
    return sent


def test_every_operation_conforms_to_its_schema(api_schema, seeded):
    operations, requests, failures = 0, 0, []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                requests += exercise(operation, mode, seeded)
            except (Exception, BaseExceptionGroup) as exc:  # try every operation; report all failures
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    print(f"schemathesis: {operations} operations, {requests} requests")
    assert operations >= 16
    assert not failures, "\n\n".join(failures)


def test_the_schema_is_valid_openapi_with_no_warning(tmp_path):
    # drf-spectacular warns about anything it had to guess (an untyped field, an unknown response)
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    text = (tmp_path / "schema.yaml").read_text()
    assert "tokenAuth" in text and "cookieAuth" in text
