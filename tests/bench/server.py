"""A real gunicorn for the bench, and a logged-in keep-alive HTTP client to time its pages."""

from __future__ import annotations

import gzip
import os
import signal
import socket
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
# what a browser sends: the size on the wire is whatever the server picks among these
ACCEPT_ENCODING = "gzip, deflate, br, zstd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Fetched:
    status: int
    ms: float
    wire_bytes: int  # as sent (compressed when the response is)
    body_bytes: int | None  # decompressed; None when this client cannot decode the encoding
    encoding: str
    body: bytes


def decode(raw: bytes, encoding: str) -> bytes | None:
    if not encoding or encoding == "identity":
        return raw
    try:
        if encoding == "gzip":
            return gzip.decompress(raw)
        if encoding == "deflate":
            return zlib.decompress(raw)
        if encoding == "br":
            import brotli

            return brotli.decompress(raw)
        if encoding == "zstd":
            from compression import zstd  # Python 3.14

            return zstd.decompress(raw)
    except ImportError:
        return None
    return None


class Gunicorn:
    """One gunicorn worker (gthread, so connections stay open between requests). The app is
    preloaded in the master, so a fresh worker for a cold measurement is a fork: no imports,
    no database connection, no Django cache, no compiled template."""

    # one gthread worker with one thread, kept alive between requests: a page's own cost
    WORKER_OPTIONS = ("--workers", "1", "--worker-class", "gthread", "--threads", "1", "--keep-alive", "120")
    WORKER_OPTIONS += ("--timeout", "600", "--preload")

    def __init__(self, env: dict[str, str], log_path: Path, options: tuple[str, ...] | None = None):
        self.env, self.log_path = env, log_path
        self.options = self.WORKER_OPTIONS if options is None else options
        self.process: subprocess.Popen | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.port = free_port()
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "dashboard.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            *self.options,
            "--logger-class",
            "dashboard.access_log.RedactingLogger",
        ]
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited ({self.process.returncode}); see {self.log_path}")
            try:
                httpx.get(f"{self.base_url}/login/", timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise SystemExit(f"gunicorn did not answer within 60 s; see {self.log_path}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        """A fresh worker: the master forks a new one when the old one exits."""
        old = self.worker_pid()
        if old is None:
            self.stop()
            self.start()
            return
        os.kill(old, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pid = self.worker_pid()
            if pid is not None and pid != old:
                return
            time.sleep(0.05)
        raise SystemExit(f"gunicorn did not start a new worker within 60 s; see {self.log_path}")

    def worker_pid(self) -> int | None:
        if not self.process:
            return None
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    def worker_memory_kb(self) -> tuple[int, int]:
        """(current RSS, peak RSS) of the worker in KB, from /proc; (0, 0) when unknown."""
        pid = self.worker_pid()
        values = {"VmRSS": 0, "VmHWM": 0}
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                key, _, rest = line.partition(":")
                if key in values:
                    values[key] = int(rest.split()[0])
        except (OSError, TypeError):
            pass
        return values["VmRSS"], values["VmHWM"]


class Browser:
    """A keep-alive client holding a session cookie."""

    def __init__(self, base_url: str, cookies: httpx.Cookies | None = None):
        self.client = httpx.Client(
            base_url=base_url,
            cookies=cookies,
            headers={"Accept-Encoding": ACCEPT_ENCODING},
            timeout=600,
            follow_redirects=False,
        )

    def close(self) -> None:
        self.client.close()

    def login(self, username: str, password: str) -> None:
        self.client.get("/login/")
        response = self.client.post(
            "/login/",
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", ""),
                "next": "/",
            },
        )
        if response.status_code != 302:
            raise SystemExit(f"bench login failed ({response.status_code}): is the user locked out (axes)?")

    def fetch(self, path: str, *, htmx: bool = False) -> Fetched:
        headers = {"HX-Request": "true"} if htmx else {}
        started = time.perf_counter()
        with self.client.stream("GET", path, headers=headers) as response:
            raw = b"".join(response.iter_raw())
        ms = (time.perf_counter() - started) * 1000
        encoding = response.headers.get("content-encoding", "")
        body = decode(raw, encoding)
        return Fetched(
            response.status_code, ms, len(raw), len(body) if body is not None else None, encoding, body or raw
        )

    def stream_lines(self, path: str) -> tuple[int, float, int, int]:
        """(status, ms, lines, bytes) of a streamed download, read as it arrives."""
        started = time.perf_counter()
        lines = size = 0
        with self.client.stream("GET", path) as response:
            for chunk in response.iter_bytes():
                size += len(chunk)
                lines += chunk.count(b"\n")
        return response.status_code, (time.perf_counter() - started) * 1000, lines, size


def server_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ, DATABASE_URL=database_url)
    env.pop("DEBUG", None)  # measured as deployed
    return env
