"""The processes `make run` and docker-compose start, run for real: Celery worker and beat on
Redis and PostgreSQL, and the embedded default (SQLite, filesystem broker, simulator)."""

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from steps.management.commands.serve import _worker as serve_worker
from steps.models import FeedbackPush, Step, SyncRun
from steps.simulator import start_simulator
from tests.conftest import make_world

ROOT = Path(__file__).resolve().parent.parent
LETTA_DEFAULT_PORT = 8283


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout=90.0, interval=0.3, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


# the workers as `make run` starts them: the default queue's and the sync's
WORKER_ARGV = serve_worker("worker", "celery", 2, {}).argv
SYNC_WORKER_ARGV = serve_worker("sync-worker", "sync", 1, {}).argv


def beat_argv(schedule):
    return [sys.executable, "-m", "celery", "-A", "dashboard", "beat", "-l", "info", "-s", str(schedule)]


def purge_queue(env):
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "dashboard", "purge", "-f", "-Q", "celery,sync"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def spawn(argv, env, log_path):
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, text=True
    )


def stop(process, sig=signal.SIGTERM, timeout=30):
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def service_env(simulator, tmp_path):
    db = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "LETTA_BASE_URL": simulator.base_url,
        "SYNC_INTERVAL_SECONDS": "1",
        "DASHBOARD_VAR_DIR": str(tmp_path / "var"),
        "PYTHONUNBUFFERED": "1",
    }


@pytest.mark.django_db(transaction=True)
def test_worker_and_beat_on_redis_keep_the_mirror_current(simulator, service_env, tmp_path):
    assert django_settings.CELERY_BROKER_URL.startswith("redis://"), "make test runs Celery on real Redis"
    purge_queue(service_env)
    worker = spawn(WORKER_ARGV, service_env, tmp_path / "worker.log")
    sync_worker = spawn(SYNC_WORKER_ARGV, service_env, tmp_path / "sync-worker.log")
    beat = spawn(
        beat_argv(tmp_path / "schedule"),
        service_env,
        tmp_path / "beat.log",
    )
    try:
        wait_for(
            lambda: Step.objects.count() == len(simulator.world.step_ids()), what="the first full mirror"
        )
        new_run = simulator.world.add_run(pending=False)
        wait_for(
            lambda: (
                Step.objects.filter(pk__in=new_run.step_ids, details_synced_at__isnull=False).count()
                == len(new_run.step_ids)
            ),
            what="a new run's steps to arrive with their details",
        )
        succeeded = SyncRun.objects.filter(trigger="schedule", status=SyncRun.Status.SUCCESS)
        wait_for(lambda: succeeded.count() >= 2, what="scheduled syncs to be recorded as successful")
    finally:
        stop(beat)
        stop(worker)
        stop(sync_worker)
    assert worker.returncode == 0, (tmp_path / "worker.log").read_text()[-3000:]
    assert sync_worker.returncode == 0, (tmp_path / "sync-worker.log").read_text()[-3000:]


def waiting_on(queue, broker_url) -> int:
    import redis

    with redis.Redis.from_url(broker_url) as broker:
        return broker.llen(queue)


@pytest.mark.django_db(transaction=True)
def test_the_feedback_sweep_runs_while_syncs_are_backed_up(simulator, service_env, tmp_path):
    """Sweeps do not wait behind syncs: with a slow sync holding the sync worker and a backlog
    of sync messages queued, the feedback sweep still delivers a vote whose message was lost;
    and the syncs, one at a time, never overlap."""
    from celery import current_app
    from django.contrib.auth.models import User

    from steps import feedback
    from steps.sync import run_sync
    from steps.sync.upstream import LettaClient

    env = service_env | {"FEEDBACK_SWEEP_SECONDS": "1", "LETTA_MAX_RETRIES": "0"}
    purge_queue(env)
    with LettaClient(simulator.base_url) as client:
        run_sync(client, reverify_batch=0)
    step = Step.objects.filter(status="success", feedback="").order_by("pk").first()
    feedback.cast_vote(step, user=User.objects.create_user("rita"), feedback="positive")
    purge_queue(env)  # its push message is lost: only the sweep can deliver it now
    for _ in range(20):  # what beat used to pile up under load
        current_app.tasks["steps.tasks.sync_steps"].delay()
    simulator.faults.latency_ms = 300  # a slow Letta: each sync takes many seconds
    processes = [
        spawn(WORKER_ARGV, env, tmp_path / "worker.log"),
        spawn(SYNC_WORKER_ARGV, env, tmp_path / "sync-worker.log"),
        spawn(beat_argv(tmp_path / "schedule"), env, tmp_path / "beat.log"),
    ]
    try:
        wait_for(
            lambda: simulator.world.step_payload(step.pk)["feedback"] == "positive",
            what="the sweep to deliver the vote",
        )
        assert waiting_on("sync", env["CELERY_BROKER_URL"]) > 0  # the syncs are still backed up
    finally:
        for process in processes:
            stop(process)
        purge_queue(env)

    runs = list(SyncRun.objects.filter(trigger="schedule").order_by("started_at"))
    for earlier, later in zip(runs, runs[1:], strict=False):
        assert earlier.finished_at and earlier.finished_at <= later.started_at, "two syncs overlapped"
    assert all(run.requests > 0 for run in runs if run.finished_at), "a tick was recorded without syncing"


def log_in(browser, username, password):
    page = browser.get("/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = browser.post(
        "/login/", data={"csrfmiddlewaretoken": token, "username": username, "password": password}
    )
    assert answer.status_code == 302, answer.text[-2000:]


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_votes_say_saved_and_are_and_pages_and_the_api_answer(
    simulator, service_env, tmp_path
):
    """The broker and the API throttle's cache point at a port where nothing listens: every vote
    answers success and is committed with its outbox row, a bulk action is recorded, pages and the
    API answer. Once Redis is back, the sweep applies the bulk action and delivers every vote."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from steps.models import ApiToken, FeedbackBatch, StepVote
    from steps.sync import run_sync
    from steps.sync.upstream import LettaClient

    with LettaClient(simulator.base_url) as client:
        run_sync(client, reverify_batch=0)
    steps = list(Step.objects.filter(status="success", feedback="").order_by("pk")[:10])
    rita = User.objects.create_user("rita")
    # the web server runs in its own process with the production hashers, not the tests' MD5
    pbkdf2 = PBKDF2PasswordHasher()
    rita.password = pbkdf2.encode("rita's long password", pbkdf2.salt())
    rita.save(update_fields=["password"])
    _, key = ApiToken.create_for(rita, "script")
    web_env = service_env | {"CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/7"}  # nothing listens
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=web_env, check=True
    )
    port = free_port()
    web = spawn(
        [sys.executable, "-m", "gunicorn", "dashboard.wsgi", "--bind", f"127.0.0.1:{port}", "--threads", "4"],
        web_env,
        tmp_path / "web.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(f"{base}/login/"), what="the web server")
        with httpx.Client(base_url=base, timeout=60) as browser:
            log_in(browser, "rita", "rita's long password")  # sessions and login throttling: the database
            htmx = {"X-CSRFToken": browser.cookies["csrftoken"], "HX-Request": "true"}
            for step in steps[:6]:
                answer = browser.post(f"/steps/{step.pk}/vote/", data={"value": "positive"}, headers=htmx)
                assert answer.status_code == 200 and "Saving to Letta" in answer.text
            bulk = browser.post(
                "/bulk/", data={"action": "negative", "step_ids": [s.pk for s in steps[6:9]]}, headers=htmx
            )
            assert bulk.status_code == 200 and "queued, to be applied shortly" in bulk.text
            for page in ("/", f"/steps/{steps[0].pk}/", f"/runs/{steps[0].run_id}/", "/overview/"):
                assert browser.get(page).status_code == 200, page
        with httpx.Client(base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {key}"}) as api:
            vote = api.post(f"/steps/{steps[9].pk}/feedback", json={"value": "positive"}, timeout=60)
            assert vote.status_code == 200, vote.text
            for read in ("/steps/", f"/steps/{steps[0].pk}/", "/sync-runs/", "/agents/"):
                assert api.get(read, timeout=60).status_code == 200, read
    finally:
        stop(web)
    log = (tmp_path / "web.log").read_text()
    assert "Could not queue steps.tasks.push_feedback" in log and "API throttle cache unreachable" in log
    intended = {step.pk: "positive" for step in [*steps[:6], steps[9]]} | {
        s.pk: "negative" for s in steps[6:9]
    }
    for step in [*steps[:6], steps[9]]:
        assert StepVote.objects.get(step=step).feedback == "positive"
        assert FeedbackPush.objects.get(step=step).status == FeedbackPush.Status.PENDING
    batch = FeedbackBatch.objects.get()
    assert (batch.total, batch.applied, batch.finished_at) == (3, 0, None)

    # Redis is back. The batch has waited a minute, as if the outage had lasted that long.
    FeedbackBatch.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    env = service_env | {"FEEDBACK_SWEEP_SECONDS": "1", "SYNC_INTERVAL_SECONDS": "3600"}
    purge_queue(env)
    worker = spawn(WORKER_ARGV, env, tmp_path / "worker.log")
    beat = spawn(beat_argv(tmp_path / "schedule"), env, tmp_path / "beat.log")
    try:
        wait_for(
            lambda: all(simulator.world.step_payload(pk)["feedback"] == v for pk, v in intended.items()),
            what="the sweep to apply the bulk action and deliver every vote",
        )
    finally:
        stop(beat)
        stop(worker)
        purge_queue(env)
    assert FeedbackBatch.objects.get().finished_at is not None


def answers(url) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def serve_env(tmp_path, **extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in (
            "DATABASE_URL",
            "CELERY_BROKER_URL",
            "LETTA_BASE_URL",
            "DJANGO_SETTINGS_MODULE",
            "SIMULATOR_PORT",
        )
    }
    return env | {"DASHBOARD_VAR_DIR": str(tmp_path / "var"), "PYTHONUNBUFFERED": "1", **extra}


def imposter_on(port):
    """Something answering like Letta on `port` (a simulator that does not know serve's nonce),
    or None when the port is already taken by something else, which serves the test as well."""
    try:
        return start_simulator(make_world(initial_runs=2), port=port)
    except OSError:
        return None


def test_make_run_default_needs_no_service_and_stops_cleanly(tmp_path):
    """`manage.py serve` as `make run` starts it: SQLite, embedded broker, its own simulator,
    even with something already answering on Letta's default port."""
    web_port = free_port()
    env = serve_env(tmp_path, PORT=str(web_port), SYNC_INTERVAL_SECONDS="1")
    imposter = imposter_on(LETTA_DEFAULT_PORT)
    serve = spawn([sys.executable, "manage.py", "serve"], env, tmp_path / "serve.log")
    log = tmp_path / "serve.log"
    try:
        wait_for(lambda: "first start: log in as  admin" in log.read_text(), what="the first-login hint")
        banner = log.read_text()
        assert "changepassword admin" in banner
        own = re.search(r"its own Letta simulator on http://127\.0\.0\.1:(\d+) \(identity checked\)", banner)
        assert own and int(own.group(1)) != LETTA_DEFAULT_PORT, banner[-3000:]

        def synced_steps():
            with sqlite3.connect(tmp_path / "var" / "db.sqlite3") as db:
                return db.execute(
                    "select count(*) from steps_step where details_synced_at is not null"
                ).fetchone()[0]

        wait_for(lambda: synced_steps() > 10, what="steps synced into SQLite")
        login = httpx.get(f"http://127.0.0.1:{web_port}/login/", timeout=10)
        assert login.status_code == 200 and "csrfmiddlewaretoken" in login.text
        assert httpx.get(f"http://127.0.0.1:{web_port}/", timeout=10).status_code == 302  # login first
        assert login_throttled_on_sqlite(f"http://127.0.0.1:{web_port}")
    finally:
        stop(serve, signal.SIGINT, timeout=60)
        if imposter:
            imposter.stop()
    output = log.read_text()
    assert serve.returncode == 0, output[-3000:]
    for name in ("web", "beat", "worker", "sync-worker", "simulator"):
        assert f"{name} stopped" in output
    assert (tmp_path / "var" / "simulator-world.pickle").exists()  # the next start serves the same steps
    assert not processes_with_env("DASHBOARD_VAR_DIR", str(tmp_path / "var")), "processes outlived Ctrl-C"
    if imposter:
        assert imposter.requests == [], "the demo talked to a server it did not start"


def login_throttled_on_sqlite(base_url):
    """Five wrong passwords for `admin` lock it out, counted in the demo's SQLite database."""
    with httpx.Client(base_url=base_url, timeout=10) as browser:
        statuses = []
        for n in range(5):
            page = browser.get("/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            answer = browser.post(
                "/login/",
                data={"csrfmiddlewaretoken": token, "username": "admin", "password": f"guess {n}"},
                headers={"Referer": f"{base_url}/login/"},
            )
            statuses.append(answer.status_code)
    assert statuses == [200, 200, 200, 200, 429], statuses
    return "Too many failed attempts; try again in 15 minutes." in answer.text


def test_make_run_fails_loudly_when_the_chosen_simulator_port_is_taken(tmp_path):
    port = free_port()
    with start_simulator(make_world(initial_runs=2), port=port) as imposter:
        env = serve_env(tmp_path, PORT=str(free_port()), SIMULATOR_PORT=str(port))
        serve = spawn([sys.executable, "manage.py", "serve"], env, tmp_path / "serve.log")
        try:
            serve.wait(timeout=90)
        finally:
            stop(serve)
        assert imposter.requests == []
    output = (tmp_path / "serve.log").read_text()
    assert serve.returncode != 0
    assert f"did not start on port {port}" in output and "Address already in use" in output, output[-3000:]
    assert not processes_with_env("DASHBOARD_VAR_DIR", str(tmp_path / "var"))


def processes_with_env(key, value):
    marker = f"{key}={value}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in environ.read_bytes().split(b"\0"):
                found.append(environ.parent.name)
        except OSError:
            continue
    return found


@pytest.mark.django_db(transaction=True)
def test_every_vote_reaches_letta_through_an_outage_and_a_killed_worker(simulator, service_env, tmp_path):
    """Votes cast while Letta is down and while the worker is dead all end up in Letta."""
    from django.contrib.auth.models import User

    from steps import feedback
    from steps.sync import run_sync
    from steps.sync.upstream import LettaClient

    env = service_env | {
        "SYNC_INTERVAL_SECONDS": "3600",
        "FEEDBACK_SWEEP_SECONDS": "1",
        "LETTA_MAX_RETRIES": "0",
    }
    purge_queue(env)
    with LettaClient(simulator.base_url) as client:
        run_sync(client, reverify_batch=0)
    steps = list(Step.objects.filter(status="success", feedback="").order_by("pk")[:24])
    assert len(steps) == 24
    rita = User.objects.create_user("rita", password="x")
    intended = {}

    def vote(some_steps, value):
        for step in some_steps:
            feedback.cast_vote(step, user=rita, feedback=value)  # commits, then enqueues on Redis
            intended[step.pk] = value

    worker = spawn(WORKER_ARGV, env, tmp_path / "worker1.log")
    beat = spawn(
        beat_argv(tmp_path / "schedule"),
        env,
        tmp_path / "beat.log",
    )
    try:
        vote(steps[:8], "positive")  # normal operation

        simulator.faults.down = True  # Letta restarting: connections dropped
        vote(steps[8:16], "negative")
        wait_for(
            lambda: FeedbackPush.objects.filter(attempts__gt=0).exists(), what="a failed delivery attempt"
        )
        simulator.faults.down = False

        stop(worker, signal.SIGKILL)  # the worker dies; votes keep being cast
        vote(steps[16:], "positive")
        worker = spawn(WORKER_ARGV, env, tmp_path / "worker2.log")

        def delivered():
            return sum(
                simulator.world.step_payload(pk)["feedback"] == value for pk, value in intended.items()
            )

        try:
            wait_for(lambda: delivered() == len(intended), timeout=120, what="every vote to reach Letta")
        except AssertionError:
            print(list(FeedbackPush.objects.values_list("step_id", "feedback", "status", "last_error")))
            raise
    finally:
        stop(beat)
        stop(worker)
    print(f"votes delivered / cast: {delivered()} / {len(intended)}")
    assert not FeedbackPush.objects.filter(status__in=["pending", "in_flight", "failed"]).exists()


def test_make_run_fails_loudly_when_its_web_port_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "manage.py", "serve"],
            cwd=ROOT,
            env=serve_env(tmp_path, PORT=str(port)),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode != 0
    assert f"Cannot serve on 127.0.0.1:{port} (Address already in use)" in result.stderr
