"""`make run`: bring up the whole product as plain processes and stop them all on Ctrl-C.

web (gunicorn), two Celery workers (the default queue's and the sync's), Celery beat and, when
LETTA_BASE_URL is not set, the project's Letta simulator. Each child runs in its own session so
that Ctrl-C reaches only this supervisor, which then stops them in order (web and beat first,
the workers warm, the simulator last) instead of all at once. A child that dies is restarted.

The demo talks to its own simulator only: the simulator listens on a free port (or on
SIMULATOR_PORT, failing loudly when that is taken) and answers a nonce made for this start;
the supervisor checks the nonce before starting anything else, and hands URL and nonce to
the workers, beat and web, whose Letta client checks it again before its first request.
"""

import collections
import contextlib
import ctypes
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from dashboard import demo_login
from steps.sync.upstream import LettaClient, UpstreamError

COLORS = {"web": 34, "worker": 32, "sync-worker": 36, "beat": 35, "simulator": 33}
LISTENING = re.compile(r"Letta simulator listening on (http://\S+)")
WORKER_READY = re.compile(r"\S+@\S+ ready\.")
STARTUP_SECONDS = 60
# gunicorn's processes and threads; the capacity bench (tests/bench/bench_capacity.py) serves with
# these too. gthread: a sync worker is killed after --timeout (30 s) in the middle of a long
# streamed export; a threaded one keeps beating while it streams.
WEB_OPTIONS = ("--workers", "2", "--threads", "4", "--access-logfile", "-")


PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Linux: if this supervisor is killed outright (kill -9, a closed terminal), the kernel
    # sends each child SIGTERM, so no orphan keeps the ports and the broker busy.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _check_free(host: str, port: int) -> None:
    # gunicorn on a taken port would die and be restarted forever, and the start-up check
    # would mistake whatever holds the port for our web server.
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CommandError(
                f"Cannot serve on {host}:{port} ({exc.strerror}): set PORT to a free port."
            ) from exc


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    restarts: int = 0
    started_at: float = field(default=0.0)
    ready_line: re.Pattern | None = None  # the line it prints once it is up
    ready: threading.Event = field(default_factory=threading.Event)
    url: str = ""  # the simulator's, from its ready line
    tail: collections.deque = field(default_factory=lambda: collections.deque(maxlen=20))


def _worker(name: str, queue: str, concurrency: int, env: dict[str, str]) -> Child:
    argv = [sys.executable, "-m", "celery", "-A", "dashboard", "worker", "-l", "info"]
    # a node name each: two workers called celery@host would trip over each other's replies
    argv += ["-Q", queue, "-n", f"{name}@%h", "--concurrency", str(max(1, concurrency))]
    return Child(name, argv, env, ready_line=WORKER_READY)


class Command(BaseCommand):
    help = "Run the dashboard: web, Celery workers and beat, and the Letta simulator when no LETTA_BASE_URL is set."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-simulator", action="store_true", help="Never start the simulator.")

    def handle(self, *args, host, port, no_simulator, **options):
        self.stopping = threading.Event()
        self.output_lock = threading.Lock()
        if not settings.LETTA_BASE_URL and no_simulator:
            raise CommandError("Nothing to sync from: set LETTA_BASE_URL, or drop --no-simulator.")
        _check_free(host, port)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        python = sys.executable
        children: list[Child] = []
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        try:
            upstream_env: dict[str, str] = {}
            if not settings.LETTA_BASE_URL:
                simulator, upstream_env = self.start_simulator(python)
                children.append(simulator)
            children += [
                # A worker per queue (dashboard/settings.py): a sync that runs for minutes (a
                # first sync, a slow Letta) holds only the sync worker, while votes' pushes, the
                # sweeps and bulk actions keep the default worker's two slots. One worker on both
                # queues would have them share slots, and a sync backlog could take them all;
                # a process of its own also keeps a sync's memory and crashes off the feedback
                # path, and is what a deployment adds more of to share a backlog
                # (SYNC_MAX_CONCURRENT, which is also this worker's concurrency).
                _worker("worker", settings.CELERY_TASK_DEFAULT_QUEUE, 2, upstream_env),
                _worker("sync-worker", settings.SYNC_QUEUE, settings.SYNC_MAX_CONCURRENT, upstream_env),
                Child(
                    "beat",
                    [
                        python,
                        "-m",
                        "celery",
                        "-A",
                        "dashboard",
                        "beat",
                        "-l",
                        "info",
                        "-s",
                        str(settings.VAR_DIR / "celerybeat-schedule"),
                    ],
                    upstream_env,
                ),
                Child(
                    "web",
                    [
                        python,
                        "-m",
                        "gunicorn",
                        "dashboard.wsgi",
                        "--bind",
                        f"{host}:{port}",
                        *WEB_OPTIONS,
                        "--logger-class",  # share-link tokens never reach the log
                        "dashboard.access_log.RedactingLogger",
                    ],
                    upstream_env,
                ),
            ]
            for child in children:
                if child.process is None:
                    self.start(child)
            login = self.first_login()
            self.wait_until_up(host, port, [c for c in children if c.name.endswith("worker")])
            self.announce(host, port, upstream_env.get("LETTA_BASE_URL", ""), login)
            while not self.stopping.wait(1.0):
                for child in children:
                    if child.process.poll() is not None and not self.stopping.is_set():
                        self.restart(child)
        finally:
            self.stop_all(children)

    def start_simulator(self, python: str) -> tuple[Child, dict[str, str]]:
        """Start the demo's simulator and make sure it is the one answering; (child, env for the others)."""
        nonce = secrets.token_urlsafe(16)
        child = Child(
            "simulator",
            # one world across restarts, kept under var/, so the steps already mirrored are still
            # Letta's after a restart; the first start makes it from a random seed (a seed-7 world
            # would reuse the ids of an older demo's mirror), with the same four agents. The port
            # stays last (a restart rewrites it).
            [
                python,
                "manage.py",
                "letta_simulator",
                "--seed",
                "random",
                "--agent-seed",
                "7",
                "--state-file",
                str(settings.VAR_DIR / "simulator-world.pickle"),
                "--port",
                str(settings.SIMULATOR_PORT),
            ],
            {"LETTA_SIMULATOR_NONCE": nonce},  # by environment: argv shows in `ps`
            ready_line=LISTENING,
        )
        self.start(child)
        try:
            self.check_simulator(child, nonce)
        except BaseException:
            self.stop_all([child], quiet=True)
            raise
        # A restarted simulator must come back where the worker and web look for it.
        child.argv[-1] = child.url.rsplit(":", 1)[1]
        return child, {"LETTA_BASE_URL": child.url, "LETTA_SIMULATOR_NONCE": nonce}

    def check_simulator(self, child: Child, nonce: str) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not child.ready.wait(0.2):
            if self.stopping.is_set():
                raise CommandError("Stopped while the simulator was starting.")
            if child.process.poll() is not None or time.monotonic() > deadline:
                time.sleep(0.3)  # let the relay thread take its last lines
                raise CommandError(
                    f"The demo's Letta simulator did not start on port {settings.SIMULATOR_PORT or 'auto'}:\n  "
                    + "\n  ".join(line.rstrip() for line in child.tail)
                    + "\nLeave SIMULATOR_PORT unset to use a free port, or set it to a free one."
                )
        try:
            with LettaClient(child.url, max_retries=0, timeout=5) as client:
                answered = client.simulator_identity()
        except UpstreamError as exc:
            raise CommandError(f"The demo's Letta simulator at {child.url} does not answer: {exc}") from exc
        if not secrets.compare_digest(answered, nonce):
            raise CommandError(
                f"{child.url} answered, but not as the simulator this command started; "
                "refusing to sync from it. Set SIMULATOR_PORT to a free port or leave it unset."
            )

    def wait_until_up(self, host: str, port: int, workers: list[Child]) -> None:
        """Wait (bounded) for gunicorn to accept connections and the worker to be ready, so the
        banner with the first password comes after the start-up noise instead of scrolling away."""
        address = ("127.0.0.1" if host in ("0.0.0.0", "") else host, port)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline and not self.stopping.is_set():
            with contextlib.suppress(OSError), socket.create_connection(address, timeout=1):
                break
            self.stopping.wait(0.3)
        for worker in workers:
            while not worker.ready.wait(0.3) and not self.stopping.is_set() and time.monotonic() < deadline:
                pass
        self.stopping.wait(0.5)  # the last lines of the worker's banner

    def announce(self, host: str, port: int, simulator_url: str, login: list[str]) -> None:
        if simulator_url:
            upstream = f"its own Letta simulator on {simulator_url} (identity checked)"
        else:
            upstream = settings.LETTA_BASE_URL
        database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
        lines = [
            f"Letta steps dashboard: http://{host}:{port}/",
            f"syncing from {upstream} every {settings.SYNC_INTERVAL_SECONDS:g} s",
            f"database: {database}, Celery broker: {broker}",
            *login,
            "Ctrl-C stops everything.",
        ]
        width = max(len(line) for line in lines)
        box = [
            f"  ┌{'─' * (width + 2)}┐",
            *(f"  │ {line:<{width}} │" for line in lines),
            f"  └{'─' * (width + 2)}┘",
        ]
        with self.output_lock:
            self.stdout.write("\n" + "\n".join(box) + "\n")
            self.stdout.flush()

    def first_login(self) -> list[str]:
        """On the very first start there is nobody to log in as: make an admin and say how."""
        User = get_user_model()
        if User.objects.exists():
            return ["log in with your user (new users: python manage.py createsuperuser)"]
        password = secrets.token_urlsafe(12)
        admin = User.objects.create_superuser(demo_login.USERNAME, "", password)
        demo_login.remember_generated_admin(admin)  # the sign-in page says where the password is
        return [
            f"first start: log in as  admin  with password  {password}",
            "shown only now; to set a new one: python manage.py changepassword admin",
        ]

    def start(self, child: Child) -> None:
        child.process = subprocess.Popen(
            child.argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,  # Ctrl-C goes to us only; we stop children in order
            preexec_fn=_die_with_parent,
            env={**os.environ, **child.env, "PYTHONUNBUFFERED": "1"},
        )
        child.started_at = time.monotonic()
        threading.Thread(target=self.relay, args=(child, child.process), daemon=True).start()

    def relay(self, child: Child, process: subprocess.Popen) -> None:
        color = COLORS.get(child.name, 0)
        prefix = f"\033[{color}m{child.name:>9} |\033[0m " if sys.stdout.isatty() else f"{child.name:>9} | "
        for line in process.stdout:
            child.tail.append(line)
            if child.ready_line and not child.ready.is_set() and (match := child.ready_line.search(line)):
                child.url = match.group(1) if match.groups() else ""
                child.ready.set()
            with self.output_lock:
                sys.stdout.write(prefix + line)
                sys.stdout.flush()

    def restart(self, child: Child) -> None:
        # Back off when a child keeps dying at start, so a broken config does not spin.
        quick_death = time.monotonic() - child.started_at < 10
        child.restarts += 1
        delay = min(30, 2**child.restarts) if quick_death else 1
        self.stderr.write(f"{child.name} exited with {child.process.returncode}; restarting in {delay} s")
        if not self.stopping.wait(delay):
            self.start(child)

    def stop_all(self, children: list[Child], quiet: bool = False) -> None:
        if not quiet:
            self.stdout.write("Stopping…")
            self.stdout.flush()
        order = {"web": 0, "beat": 1, "worker": 2, "sync-worker": 2, "simulator": 3}
        for child in sorted(children, key=lambda c: order.get(c.name, 9)):
            process = child.process
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20 if child.name.endswith("worker") else 10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if not quiet:
                self.stdout.write(f"  {child.name} stopped")
                self.stdout.flush()
