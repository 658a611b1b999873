"""Production hardening: `check --deploy` is clean with the README's production settings, and
every page carries a Content-Security-Policy that its own markup does not break."""

import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse

from steps.pages import share
from tests.factories import ProviderTraceFactory, RunFactory, StepFactory, StepMetricsFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent
# README.md, "Production"
PRODUCTION_ENV = {
    "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-enough-for-django-0123456789",
    "ALLOWED_HOSTS": "review.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://review.example.com",
    "HTTPS_ONLY": "1",
    "PROXY_COUNT": "1",
}


def clean_env(tmp_path, **env):
    """A production process's environment: nothing of the test run's (DEBUG, async-unsafe...)."""
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    return base | {"DASHBOARD_VAR_DIR": str(tmp_path / "var")} | env


def check_deploy(tmp_path, **env):
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    result = check_deploy(tmp_path, **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_names_what_is_missing_without_them(tmp_path):
    result = check_deploy(tmp_path, **(PRODUCTION_ENV | {"HTTPS_ONLY": "0"}))
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


def test_production_settings_turn_on_https_and_the_login_limits(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER, s.AXES_COOLOFF_TIME, s.AXES_FAILURE_LIMIT)"
    )
    env = clean_env(tmp_path, **PRODUCTION_ENV, LOGIN_LOCKOUT_MINUTES="30", LOGIN_FAILURE_LIMIT="8")
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert out.strip().splitlines()[-1].split() == [
        "True",
        "31536000",
        "True",
        "True",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "0:30:00",
        "8",
    ]


class InlineCode(HTMLParser):
    """Collects what a `script-src 'self'; style-src 'self'` policy would block in a page."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style> block")
        self.found += [f"{name}= on <{tag}>" for name in names if name.startswith("on") or name == "style"]
        for name, value in attrs:
            external = value and value.startswith(("http://", "https://", "//"))
            if name in ("src", "href") and external and tag in ("script", "link", "img"):
                self.found.append(f"{tag} from another origin: {value}")


@pytest.fixture
def pages(db):
    staff = UserFactory(username="boss", is_staff=True, is_superuser=True)
    run = RunFactory()
    step = StepFactory(run_id=run.id)
    StepMetricsFactory(step=step, llm_request_ns=20_000_000, tool_execution_ns=6_000_000, step_ns=30_000_000)
    ProviderTraceFactory(step=step)
    link = share.create_link(step, staff, "1d", include_traces=True)
    other = StepFactory(run_id=run.id)
    ProviderTraceFactory(step=other)
    compare = reverse("compare_steps", args=[step.pk, other.pk])
    return staff, {
        "compare": compare,
        "compare side": compare + "?view=side",
        "compare json": compare + "?view=json",
        "compare runs": reverse("compare_runs", args=[run.id, RunFactory().id]),
        "list": reverse("step_list"),
        "step": reverse("step_detail", args=[step.pk]),
        "run": reverse("run_detail", args=[run.id]),
        "share": reverse("shared_step", args=[share.signed_token(link)]),
        "admin": reverse("admin:index"),
        "admin step": reverse("admin:steps_step_change", args=[step.pk]),
        "admin steps": reverse("admin:steps_step_changelist"),
        "login": reverse("login"),
    }


def test_every_page_has_the_policy_and_nothing_it_would_block(client, pages):
    staff, urls = pages
    for name, url in urls.items():
        if name == "login":
            client.logout()
        elif name != "share":
            client.force_login(staff)
        response = client.get(url)
        assert response.status_code == 200, name
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy, name
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        parser = InlineCode()
        parser.feed(response.content.decode())
        if name.startswith("admin"):
            # Django's admin keeps a few style="" attributes; browsers drop those under the
            # policy without breaking the page (the Chromium test checks what is reported).
            parser.found = [f for f in parser.found if not f.startswith("style=")]
        assert parser.found == [], f"{name}: {parser.found}"


def make_dry_run(target):
    # -W: as if pyproject.toml had changed, so the install step shows; -n: print, run nothing.
    return subprocess.run(
        ["make", "-n", "-W", "pyproject.toml", target], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def test_make_run_installs_the_product_without_the_test_tools():
    run = make_dry_run("run")
    assert "pip install --quiet -e .\n" in run and ".[test]" not in run
    assert "pip install --quiet -e '.[test]'" in make_dry_run("test")


def test_the_bulk_progress_bar_is_drawn_without_inline_styles(client, db):
    from steps import feedback
    from steps.models import FeedbackPush

    user = UserFactory()
    client.force_login(user)
    steps = [StepFactory() for _ in range(4)]
    batch = feedback.start_bulk(
        user=user, action="positive", feedback="positive", step_ids=[s.pk for s in steps]
    )
    feedback.apply_bulk(batch)
    FeedbackPush.objects.filter(step__in=steps[:3]).update(status="done")
    FeedbackPush.objects.filter(step=steps[3]).update(status="failed")
    html = client.get(
        reverse("bulk_progress", args=[batch.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert '<rect class="bp-done" x="0.00%" width="75.00%"' in html
    assert '<rect class="bp-failed" x="75.00%" width="25.00%"' in html
    parser = InlineCode()
    parser.feed(html)
    assert parser.found == []


def fresh_web_process(code: str, tmp_path) -> subprocess.CompletedProcess:
    """Run `code` in a new Python process with the production settings, as a web worker starts."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean_env(tmp_path, **PRODUCTION_ENV, DJANGO_SETTINGS_MODULE="dashboard.settings"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_a_web_process_compiles_every_template_before_its_first_request(tmp_path):
    """gunicorn imports dashboard.wsgi before serving: every template is parsed then, so no
    visitor's first request pays for it (and a template that does not parse stops the start)."""
    code = (
        "import dashboard.wsgi; from django.template import engines; from pathlib import Path; "
        "loader = engines['django'].engine.template_loaders[0]; "
        "print(len(loader.get_template_cache), len(list(Path('templates').rglob('*.html'))))"
    )
    result = fresh_web_process(code, tmp_path)
    cached, templates = map(int, result.stdout.split())
    assert templates > 30 and cached >= templates


def test_a_web_process_builds_every_url_table_before_its_first_request(tmp_path):
    """Pages name URLs of every namespace (the list links review and API pages): reversing them
    in a fresh worker builds no table, the start did (a fresh worker's first list page paid
    about 11 ms of CPU for them)."""
    code = (
        "import dashboard.wsgi; from django.urls import resolvers, reverse; built = []; "
        "populate = resolvers.URLResolver._populate; "
        "resolvers.URLResolver._populate = lambda self: built.append(self) or populate(self); "
        "paths = [reverse(name) for name in ('step_list', 'review:queue_list', 'api:docs', 'admin:index')]; "
        "print(len(built), len(paths))"
    )
    result = fresh_web_process(code, tmp_path)
    assert result.stdout.split() == ["0", "4"]


def test_a_web_process_imports_every_sign_in_backend_before_its_first_request(tmp_path):
    """The first permission check imports every authentication backend, the sign-on one with
    PyJWT and cryptography: a fresh worker's first page paid 265 ms for it here. Django alone
    does not import it; the WSGI module gunicorn loads does."""
    code = (
        "import sys, django; django.setup(); before = 'jwt' in sys.modules; "
        "import dashboard.wsgi; from django.conf import settings; "
        "print(before, all(p.rsplit('.', 1)[0] in sys.modules for p in settings.AUTHENTICATION_BACKENDS))"
    )
    result = fresh_web_process(code, tmp_path)
    assert result.stdout.split() == ["False", "True"]


@pytest.mark.django_db
def test_database_sessions_run_without_postgres_jit_which_cost_more_than_the_queries():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
