"""Share-link tokens are bearer secrets: no log line may carry one (gunicorn's access and error
logs, Django's request warnings), whatever the link's state."""

import logging
import socket
import subprocess
import sys
import time

import httpx

from dashboard.log_redaction import RedactShareTokens
from tests.test_deployment import ROOT, clean_env

TOKEN = "Vm0wd2QyUXlVWGxWV0d4V1YwZDRWMVl3WkRSV01WbDNXa1JTVjAxV2JETlhhMUpUVmpBeFYySkVUbGhoTVZwUVZtcEJlRll5U2tWVQ:1vQkZx:sig-part_-Zz"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_and_django_logs_never_carry_a_share_token(tmp_path):
    port = free_port()
    argv = [
        sys.executable, "-m", "gunicorn", "dashboard.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
        "--access-logfile", "-", "--logger-class", "dashboard.access_log.RedactingLogger",
    ]  # fmt: skip
    # the same logger class wherever gunicorn is started
    for started_in in ("steps/management/commands/serve.py", "Dockerfile", "docker-compose.yml"):
        assert "dashboard.access_log.RedactingLogger" in (ROOT / started_in).read_text(), started_in
    # as in production: collected static files, DEBUG off
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=clean_env(tmp_path),
        check=True,
        timeout=120,
    )
    log = tmp_path / "out.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            argv, cwd=ROOT, env=clean_env(tmp_path), stdout=out, stderr=subprocess.STDOUT
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(base + "/login/", timeout=5)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline and server.poll() is None, log.read_text()
                    time.sleep(0.3)
            shared = httpx.get(f"{base}/share/{TOKEN}/?utm=x", timeout=10)
            assert shared.status_code == 404  # no such link: Django warns "Not Found: <path>"
            # a POST without a CSRF cookie: django.security.csrf warns "Forbidden (...): <path>"
            assert httpx.post(f"{base}/share/{TOKEN}/", timeout=10).status_code == 403
            # an asset fetched by the shared page (older browsers ignore its no-referrer policy)
            httpx.get(f"{base}/static/css/app.css", headers={"Referer": f"{base}/share/{TOKEN}/"}, timeout=10)
        finally:
            server.terminate()
            server.wait(timeout=30)
    text = log.read_text()
    assert '"GET /share/…/?utm=x HTTP/1.1" 404' in text  # the access line, the token masked
    assert "Not Found: /share/…/" in text  # django.request
    assert "Forbidden (CSRF cookie not set.): /share/…/" in text  # django.security.csrf
    assert f'"{base}/share/…/"' in text  # the referer
    assert TOKEN not in text and TOKEN.split(":")[0] not in text


def test_the_filter_keeps_every_other_line_as_it_was():
    record = logging.LogRecord("x", logging.WARNING, "", 0, "%s: %s", ("Not Found", f"/share/{TOKEN}/"), None)
    RedactShareTokens().filter(record)
    assert record.getMessage() == "Not Found: /share/…/"
    record = logging.LogRecord("x", logging.INFO, "", 0, "GET %s %d", ("/steps/", 200), None)
    RedactShareTokens().filter(record)
    assert (record.msg, record.args) == ("GET %s %d", ("/steps/", 200))
