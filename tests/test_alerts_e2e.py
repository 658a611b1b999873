"""Alerts and rules end to end: the simulator over real HTTP, the sync, the rollups, and a real
HTTP receiver (a local server in a thread) that apprise's json:// destination posts to."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from steps.alerts.models import Alert, AlertEvent, Notification, Rule, RuleFiring, SavedView
from steps.models import Step, StepVote
from steps.simulator import World, start_simulator
from steps.sync import run_sync
from steps.sync.upstream import LettaClient
from steps.tasks import evaluate_alerts
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


class Receiver:
    """A tiny webhook receiver: every JSON body posted to it, in order."""

    def __init__(self):
        self.bodies: list[dict] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                receiver.bodies.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def live_world(settings):
    """A simulator whose steps happen now (its clock is the real one), starting empty."""
    world = World(seed=11, initial_runs=0)
    with start_simulator(world) as server:
        settings.LETTA_BASE_URL = server.base_url
        settings.LETTA_MAX_RETRIES = 0
        settings.CELERY_TASK_ALWAYS_EAGER = True
        settings.DASHBOARD_URL = "http://review.example"
        yield server


def sync(server) -> None:
    with LettaClient(server.base_url, max_retries=0) as client:
        run = run_sync(client, reverify_batch=0)
    assert run.status == "success", run.error_message


def add_runs(server, n: int, outcome: str) -> list[str]:
    ids = []
    for _ in range(n):
        ids += server.world.add_run(steps=1, outcome=outcome, pending=False).step_ids
    return ids


@pytest.fixture
def manager_api():
    client = Client()
    client.force_login(UserFactory(username="mona", role="manager"))
    return client


def test_a_rising_error_rate_fires_once_with_the_figure_and_link_and_resolves_once(
    live_world, receiver, manager_api
):
    add_runs(live_world, 6, "success")
    sync(live_world)
    response = manager_api.post(
        "/api/v1/alerts/",
        {
            "name": "Errors up",
            "query": "hidden=1",
            "series": "error_rate",
            "condition": "above",
            "threshold": 0.3,
            "window_minutes": 60,
            "destination": f"json://127.0.0.1:{receiver.port}/hook",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    alert = response.json()
    assert alert["destination"] == f"json://127.0.0.1:{receiver.port}/…"
    evaluate = f"/api/v1/alerts/{alert['id']}/evaluate/"

    first = manager_api.post(evaluate).json()
    assert (first["state"], first["changed"], first["value"]) == ("ok", None, 0.0)

    add_runs(live_world, 6, "failed")  # 6 of 12 now failed: 50%
    sync(live_world)
    fired = manager_api.post(evaluate).json()
    assert (fired["state"], fired["changed"]) == ("firing", "firing")
    assert fired["value"] == pytest.approx(0.5)
    assert len(receiver.bodies) == 1
    message = receiver.bodies[0]
    assert message["title"] == "[FIRING] Errors up"
    assert "error rate 50.0% is above 30.0%" in message["message"] and "12 steps" in message["message"]
    link = next(
        line for line in message["message"].splitlines() if line.startswith("http://review.example/?")
    )
    params = parse_qs(urlsplit(link).query)
    assert params["hidden"] == ["1"] and params["since"] and params["until"]
    # the link opens exactly the steps the figure counted
    listed = Client()
    listed.force_login(UserFactory(username="rita"))
    page = listed.get("/?" + urlsplit(link).query).content.decode()
    assert "12 steps" in page

    # still firing: beat's ticks notify nothing more
    assert evaluate_alerts() == 0
    assert manager_api.post(evaluate).json()["changed"] is None
    assert len(receiver.bodies) == 1

    add_runs(live_world, 20, "success")  # 6 of 32: 19%
    sync(live_world)
    assert evaluate_alerts() == 1  # beat's own task resolves it
    assert len(receiver.bodies) == 2
    assert receiver.bodies[1]["title"] == "[RESOLVED] Errors up"
    assert "18.8%" in receiver.bodies[1]["message"]
    assert evaluate_alerts() == 0 and len(receiver.bodies) == 2

    kinds = list(AlertEvent.objects.order_by("at").values_list("kind", flat=True))
    assert kinds == ["firing", "resolved"]
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    detail = manager_api.get(f"/api/v1/alerts/{alert['id']}/").json()
    assert detail["state"] == "resolved" and [e["kind"] for e in detail["events"]] == ["resolved", "firing"]


def test_a_failed_to_tag_rule_tags_exactly_the_new_failed_steps_here_and_in_letta(live_world, receiver):
    old_failed = add_runs(live_world, 2, "failed")
    sync(live_world)  # before the rule: these are not new to it
    manager = UserFactory(username="mona", role="manager")
    view = SavedView.objects.create(owner=manager, name="Failed", query="status=failed", shared=True)
    rule = Rule.objects.create(
        name="triage", view=view, action="tag", tags=["needs-triage"], created_by=manager
    )

    new_failed = add_runs(live_world, 3, "failed")
    new_ok = add_runs(live_world, 4, "success")
    sync(live_world)

    tagged = set(StepVote.objects.filter(tags__contains=["needs-triage"]).values_list("step_id", flat=True))
    assert tagged == set(new_failed)
    for step_id in new_failed:  # written to Letta through the outbox
        assert "needs-triage" in live_world.world.steps[step_id].payload["tags"]
    for step_id in old_failed + new_ok:
        assert "needs-triage" not in (live_world.world.steps[step_id].payload["tags"] or [])
    rule.refresh_from_db()
    assert (rule.fired_steps, rule.fired_batches) == (3, 1) and rule.last_fired_at is not None

    # a re-sync of the same steps fires nothing again
    Step.objects.filter(pk__in=new_failed).update(details_synced_at=None)
    sync(live_world)
    assert RuleFiring.objects.filter(rule=rule).count() == 3
    rule.refresh_from_db()
    assert rule.fired_steps == 3


def test_a_notify_rule_sends_one_message_per_batch_and_a_failed_delivery_is_retried(live_world, receiver):
    manager = UserFactory(username="mona", role="manager")
    view = SavedView.objects.create(owner=manager, name="Failed", query="status=failed", shared=True)
    from steps.alerts.models import Destination

    destination = Destination.for_url(f"http://127.0.0.1:{receiver.port}/rules")
    Rule.objects.create(name="tell", view=view, action="notify", destination=destination, created_by=manager)
    receiver.status = 500  # the receiver is down at first
    add_runs(live_world, 3, "failed")
    sync(live_world)

    notification = Notification.objects.get()
    assert notification.status == "pending" and notification.attempts >= 1
    assert "500" in notification.last_error or notification.last_error
    receiver.status = 200
    Notification.objects.update(not_before=notification.created_at)
    from steps.tasks import deliver_due_notifications

    assert deliver_due_notifications() == 1
    notification.refresh_from_db()
    assert notification.status == "sent"
    assert receiver.bodies[-1]["title"] == "[RULE] tell: 3 new steps"


def test_an_alert_query_the_rollups_cannot_answer_is_refused_on_save(manager_api, receiver):
    response = manager_api.post(
        "/api/v1/alerts/",
        {
            "name": "search",
            "query": "q=timeout&tag=x",
            "series": "error_rate",
            "condition": "above",
            "threshold": 0.3,
            "window_minutes": 60,
            "destination": f"json://127.0.0.1:{receiver.port}/hook",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "rollups" in response.json()["errors"]["query"][0]
    assert not Alert.objects.exists()


def test_evaluate_now_notifies_in_the_request_without_a_worker_to_an_http_webhook(
    receiver, manager_api, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # the queued task goes to the broker, no worker takes it
    settings.DASHBOARD_URL = "https://review.example"
    created = manager_api.post(
        "/api/v1/alerts/",
        {
            "name": "Silence",
            "query": "",
            "series": "steps",
            "condition": "below",
            "threshold": 1,
            "window_minutes": 30,
            "destination": f"http://127.0.0.1:{receiver.port}/plain-webhook",
        },
        content_type="application/json",
    ).json()
    answer = manager_api.post(f"/api/v1/alerts/{created['id']}/evaluate/").json()
    assert (answer["state"], answer["changed"], answer["value_text"]) == ("firing", "firing", "0")
    assert [b["title"] for b in receiver.bodies] == ["[FIRING] Silence"]
    assert "step count 0 is below 1" in receiver.bodies[0]["message"]
    assert Notification.objects.get().status == "sent"
