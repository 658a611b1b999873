"""`make run`: bring up the whole product as plain processes and stop them all on Ctrl-C.

web (gunicorn), a Celery worker, Celery beat and, when LETTA_BASE_URL is not set, the
project's Letta simulator. Each child runs in its own session so that Ctrl-C reaches only
this supervisor, which then stops them in order (web and beat first, the worker warm, the
simulator last) instead of all at once. A child that dies is restarted.
"""

import contextlib
import ctypes
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

COLORS = {"web": 34, "worker": 32, "beat": 35, "simulator": 33}


PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Linux: if this supervisor is killed outright (kill -9, a closed terminal), the kernel
    # sends each child SIGTERM, so no orphan keeps the ports and the broker busy.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    restarts: int = 0
    started_at: float = field(default=0.0)


class Command(BaseCommand):
    help = "Run the dashboard: web, Celery worker and beat, and the Letta simulator when no LETTA_BASE_URL is set."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-simulator", action="store_true", help="Never start the simulator.")

    def handle(self, *args, host, port, no_simulator, **options):
        self.stopping = threading.Event()
        self.output_lock = threading.Lock()
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        python = sys.executable
        children = []
        if not settings.LETTA_BASE_URL and not no_simulator:
            children.append(
                Child(
                    "simulator",
                    [python, "manage.py", "letta_simulator", "--port", str(settings.SIMULATOR_PORT)],
                )
            )
        children += [
            Child(
                "worker",
                [python, "-m", "celery", "-A", "dashboard", "worker", "-l", "info", "--concurrency", "2"],
            ),
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
                    "--workers",
                    "2",
                    "--access-logfile",
                    "-",
                ],
            ),
        ]
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        for child in children:
            self.start(child)
        self.announce(host, port)
        try:
            while not self.stopping.wait(1.0):
                for child in children:
                    if child.process.poll() is not None and not self.stopping.is_set():
                        self.restart(child)
        finally:
            self.stop_all(children)

    def announce(self, host: str, port: int) -> None:
        upstream = (
            settings.LETTA_BASE_URL or f"the Letta simulator on http://127.0.0.1:{settings.SIMULATOR_PORT}"
        )
        database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
        lines = [
            "",
            f"  Letta steps dashboard: http://{host}:{port}/",
            f"  syncing from {upstream} every {settings.SYNC_INTERVAL_SECONDS:g} s",
            f"  database: {database}, Celery broker: {broker}",
        ]
        lines += self.first_login()
        lines += ["  Ctrl-C stops everything.", ""]
        with self.output_lock:
            self.stdout.write("\n".join(lines))
            self.stdout.flush()

    def first_login(self) -> list[str]:
        """On the very first start there is nobody to log in as: make an admin and say how."""
        User = get_user_model()
        if User.objects.exists():
            return ["  log in with your user (new users: python manage.py createsuperuser)"]
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", "", password)
        return [
            "  first start: log in as  admin  with password  " + password,
            "  (shown only now; change it at /admin/password_change/)",
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
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        child.started_at = time.monotonic()
        threading.Thread(target=self.relay, args=(child, child.process), daemon=True).start()

    def relay(self, child: Child, process: subprocess.Popen) -> None:
        color = COLORS.get(child.name, 0)
        prefix = f"\033[{color}m{child.name:>9} |\033[0m " if sys.stdout.isatty() else f"{child.name:>9} | "
        for line in process.stdout:
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

    def stop_all(self, children: list[Child]) -> None:
        self.stdout.write("Stopping…")
        self.stdout.flush()
        order = {"web": 0, "beat": 1, "worker": 2, "simulator": 3}
        for child in sorted(children, key=lambda c: order.get(c.name, 9)):
            process = child.process
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20 if child.name == "worker" else 10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            self.stdout.write(f"  {child.name} stopped")
            self.stdout.flush()
