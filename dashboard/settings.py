"""One settings module, driven by the environment, that runs with no environment set.

With nothing configured it uses SQLite and an embedded Celery broker (kombu's filesystem
transport) under ./var, so `make run` needs no service. DATABASE_URL and CELERY_BROKER_URL
switch to PostgreSQL and Redis.
"""

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DASHBOARD_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _secret_key() -> str:
    # A key from the environment wins; otherwise one is made once and kept under var/
    # (never in git), so sessions survive restarts of the local install.
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served as our own static files
    "axes",
    "steps",
    "steps.access",  # roles: viewer, reviewer, manager (after auth: it replaces the user admin)
    "steps.review",  # review queues, rubrics, reviews
    "steps.alerts",  # saved views, rules on new steps, alerts over the rollups, notifications
    "steps.audit",  # the audit trail: who changed what (append-only)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages compressed (a 50-row list: ~150 KB of HTML, ~14 KB gzipped). Static files are not
    # seen here: WhiteNoise answers them above, from the .gz copies its storage writes at
    # collectstatic. BREACH (secrets in a compressed body next to text an attacker chooses) was
    # weighed: the CSRF token is masked afresh in every response, so no two bodies repeat it;
    # Django adds "Heal the BREACH" random padding (0-99 bytes) to every gzipped body; and the
    # session cookie is SameSite=Lax, so a third-party page cannot fetch pages as the user in
    # the background to measure them. Share-link URLs shown to their creator on the step page
    # are the one other secret in a page; they stay revocable and expire.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dashboard.middleware.RejectNulMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "dashboard.middleware.FormBodiesOnlyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # the client address every audit event of this request records (steps/audit/context.py)
    "steps.audit.context.AuditContextMiddleware",
    # Last, as axes asks: turns a lockout flagged during authentication into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "steps.access.context_processors.access",
            ],
        },
    },
]

# SQLite under concurrent writers (web, worker, beat), measured with 4 processes x 200
# read-then-write transactions: Django's default DEFERRED mode failed up to 745 of 800 with
# "database is locked" (a read upgraded to a write gets SQLITE_BUSY at once, without waiting),
# IMMEDIATE with a 20 s timeout none. WAL lets pages read while a sync writes.
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# PostgreSQL's JIT compiles any statement its planner costs above 100,000 (a rollup flush's
# aggregate over an hour's tool rows, a count): 3-4 ms of CPU a time, paid again per statement,
# for queries that run in a few ms. Measured in the capacity bench (pg_stat_statements): the only
# JIT-compiled statements were those, so it is off for our sessions; analysts' sessions keep it.
POSTGRES_SESSION_OPTIONS = "-c jit=off"


def _postgres_sessions(database: dict) -> dict:
    """A PostgreSQL database's sessions start with POSTGRES_SESSION_OPTIONS (unless its URL sets
    `options` itself)."""
    if database["ENGINE"] == "django.db.backends.postgresql":
        database.setdefault("OPTIONS", {}).setdefault("options", POSTGRES_SESSION_OPTIONS)
    return database


_postgres_sessions(DATABASES["default"])
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# Optional: a streaming replica of the primary for pages' reads (dashboard/replica.py says
# which reads go there; writes, transactions, tasks and sessions never do).
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
# After a user's write (a vote, a tag), their requests read the primary this long: replica lag.
REPLICA_STICKY_SECONDS = env_int("REPLICA_STICKY_SECONDS", 5)
DATABASE_ROUTERS: list[str] = []
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = _postgres_sessions(
        dj_database_url.parse(
            DATABASE_REPLICA_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # tests: the same database
    DATABASE_ROUTERS = ["dashboard.replica.ReplicaRouter"]
    # innermost: it marks the view's reads, not the session and sign-in checks around it
    MIDDLEWARE = [*MIDDLEWARE, "dashboard.replica.replica_reads"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "view_default"  # the user's default saved view, else the step list
LOGOUT_REDIRECT_URL = "login"

# --- Login throttling (django-axes, see dashboard/login_throttle.py) ---------------------
# Failures are counted per username and per client address, each on its own: one address
# guessing many users and many addresses guessing one user are both stopped. Counted in the
# database, so it works on SQLite and PostgreSQL and across gunicorn workers.
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username or address before any password is checked.
    # It needs the request, which Django's login views pass; the test client's login()
    # does not, so tests log in with force_login() or login(request=HttpRequest(), ...).
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, loading the user's role with the user (steps/access/backends.py);
    # it refuses every password when LOCAL_LOGIN is off
    "steps.access.backends.RoleBackend",
    # single sign-on (OpenID Connect): signs in nobody while OIDC_ISSUER is unset
    "steps.access.oidc.OIDCBackend",
]
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_MINUTES = float(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))
# Reverse proxies in front of the app (0: clients connect directly). Behind N proxies the
# client address for throttling comes from X-Forwarded-For and HTTPS from X-Forwarded-Proto.
PROXY_COUNT = env_int("PROXY_COUNT", 0)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A successful sign-in does not wipe the count: axes would delete every failure from that
# address too, so anyone with an account could reset the count on someone else's between guesses.
AXES_RESET_ON_SUCCESS = False
# Attempts during a lockout are refused without being recorded: the lockout ends a fixed
# time after the last counted failure (so the page can say when) and the attempt rows
# stop growing while an attacker keeps trying.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "dashboard.login_throttle.lockout_response"
AXES_CLIENT_IP_CALLABLE = "dashboard.login_throttle.client_ip"
AXES_VERBOSE = False  # no axes start-up banner in every process; failures are still logged

# --- Single sign-on: OpenID Connect (mozilla-django-oidc; steps/access/oidc.py) -----------
# Unset OIDC_ISSUER: no provider, nothing fetched, local sign-in as ever. Set: the login page gets
# "Sign in with <OIDC_PROVIDER_NAME>"; endpoints and keys come from the issuer's discovery
# document, fetched when first needed (steps/access/discovery.py). README, "Single sign-on".
OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").strip().rstrip("/")
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "")
OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME", "").strip() or "single sign-on"
OIDC_RP_SCOPES = os.environ.get("OIDC_SCOPES", "").strip() or "openid email profile"
OIDC_ROLE_CLAIM = os.environ.get("OIDC_ROLE_CLAIM", "").strip() or "groups"
OIDC_DEFAULT_ROLE = os.environ.get("OIDC_DEFAULT_ROLE", "").strip() or "viewer"
if OIDC_DEFAULT_ROLE not in ("viewer", "reviewer", "manager"):
    raise ImproperlyConfigured(
        f"OIDC_DEFAULT_ROLE must be viewer, reviewer or manager, not {OIDC_DEFAULT_ROLE!r}"
    )


def _role_map(text: str) -> dict[str, str]:
    # JSON, because group names may hold commas and equals signs (LDAP DNs, Azure AD ids)
    if not text.strip():
        return {}
    try:
        mapping = json.loads(text)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f'OIDC_ROLE_MAP is not JSON ({exc}); e.g. {{"qa-team": "reviewer"}}'
        ) from None
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and v in ("viewer", "reviewer", "manager") for k, v in mapping.items()
    ):
        raise ImproperlyConfigured(
            'OIDC_ROLE_MAP maps claim values to viewer, reviewer or manager: {"qa-team": "reviewer"}'
        )
    return mapping


OIDC_ROLE_MAP = _role_map(os.environ.get("OIDC_ROLE_MAP", ""))
# "RS256" unless the provider signs ID tokens otherwise (an HS* algorithm uses the client secret)
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_SIGN_ALGO", "").strip() or "RS256"
# A provider session is not re-checked while ours lasts: SSO sessions end after this many hours,
# so someone disabled at the provider (or moved to another group) is out within a working day.
OIDC_SESSION_HOURS = float(os.environ.get("OIDC_SESSION_HOURS", "").strip() or "12")
LOCAL_LOGIN = env_bool("LOCAL_LOGIN", True)
# mozilla-django-oidc: authorization code flow with PKCE (S256), state and nonce, each checked
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_STORE_ID_TOKEN = True  # the session keeps it as the end-session request's id_token_hint
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_callback"
OIDC_TIMEOUT = 10  # seconds for each request to the provider
OIDC_CREATE_USER = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

CSRF_FAILURE_VIEW = "dashboard.errors.csrf_failure"

# --- HTTPS and browser hardening ---------------------------------------------------------
# HTTPS_ONLY=1 is the production switch (README, "Production"): redirect to HTTPS, secure
# cookies, a year of HSTS. Each part can still be set on its own. Off by default, because
# `make run` serves plain HTTP on localhost.
HTTPS_ONLY = env_bool("HTTPS_ONLY")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS_ONLY)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS_ONLY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS_ONLY)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS_ONLY)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", HTTPS_ONLY)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", HTTPS_ONLY)
if PROXY_COUNT:
    # The proxy terminates TLS; without this every request looks like HTTP and the SSL
    # redirect loops.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Django's own CSP middleware (6.0+) rather than django-csp: the same policy as a dict, and
# one dependency less. Everything comes from our origin: no inline <script>, no on*= handler,
# no style="" (JS files under static/js, widths as SVG attributes, htmx's indicator CSS in
# app.css), nothing from a CDN, no eval (htmx's allowEval is off too).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if OIDC_ISSUER:
    # Signing out posts the form to /logout/, which redirects to the provider's end-session
    # endpoint; browsers hold a form's redirects to form-action too.
    from urllib.parse import urlsplit

    _issuer = urlsplit(OIDC_ISSUER)
    SECURE_CSP["form-action"].append(f"{_issuer.scheme}://{_issuer.netloc}")

# --- REST API (steps/api/) -----------------------------------------------------------------
REST_FRAMEWORK = {
    # Reads for every signed-in role; writes (any other method) need the reviewer role, for a
    # session and a token alike (a token acts with its owner's role).
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "steps.api.permissions.ReviewerWrites",
    ],
    # Bearer first: an anonymous request then gets a 401 with its challenge. Session auth (the
    # browser, the docs page) enforces CSRF on writes; a bearer token needs none (no cookie).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "steps.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["steps.api.throttling.PerTokenThrottle"],
    # JSON only: no browsable API (its HTML needs inline scripts; errors must be JSON)
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's three, with a JSON parser that answers a body nested too deep with a 400
    "DEFAULT_PARSER_CLASSES": [
        "steps.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # `format` is the export's own parameter (csv, jsonl, finetune), as on the list page's Export;
    # DRF would read it as a renderer override and answer ?format=csv with a 404.
    "URL_FORMAT_OVERRIDE": None,
    "EXCEPTION_HANDLER": "steps.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# Requests per token (or per signed-in user); empty turns throttling off.
API_THROTTLE_RATE = os.environ.get("API_THROTTLE_RATE", "1200/min")
SPECTACULAR_SETTINGS = {
    "TITLE": "Letta review dashboard API",
    "DESCRIPTION": (
        "Steps, runs, agents and sync runs mirrored from Letta, their review state, and votes, tags "
        "and notes written back to Letta through the dashboard's outbox. Authenticate with a personal "
        "token (`Authorization: Bearer <token>`, from /account/tokens/) or, in a browser, the session. "
        "A token has its owner's role: every role reads; votes, tags, notes and bulk votes need the "
        "reviewer role (a viewer gets a 403 saying so). Review queues: managers create them; reviewers "
        "reserve their next step, submit rubric scores, and the queue's verdict goes to Letta."
    ),
    "VERSION": "1",
    # the order Swagger UI shows them in
    "TAGS": [
        {"name": "index", "description": "Every endpoint, and where the docs are."},
        {"name": "steps", "description": "Steps: the list page's filters, one step, votes, tags, notes."},
        {"name": "bulk", "description": "Progress of a bulk vote."},
        {"name": "compare", "description": "The trace diff of two steps."},
        {"name": "runs", "description": "Runs, with their steps in the run's order."},
        {"name": "agents", "description": "Agents mirrored from Letta."},
        {"name": "sync-runs", "description": "The sync's own history."},
        {"name": "views", "description": "Saved views: names for list queries, with their new steps."},
        {"name": "rules", "description": "Rules acting on newly synced steps that match a view."},
        {"name": "alerts", "description": "Alerts on the overview's series, their state and history."},
        {
            "name": "queues",
            "description": "Team review: queues with rubrics, reservations, reviews, verdicts, agreement.",
        },
    ],
    # names for choice sets that share a field name ("kind", "mode") with others
    "ENUM_NAME_OVERRIDES": {
        "RubricItemKindEnum": ["thumbs", "categorical", "scale", "boolean", "text"],
        "QueueKindEnum": ["single", "pairwise"],
        "QueueModeEnum": ["snapshot", "live"],
    },
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],  # like everything else
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # path ids as the URL converters accept them (steps/ids.py)
    "PATH_CONVERTER_OVERRIDES": {
        kind: {
            "type": "string",
            "pattern": rf"^{kind[:-3]}-[0-9a-f]{{8}}(-[0-9a-f]{{4}}){{3}}-[0-9a-f]{{12}}$",
        }
        for kind in ("step_id", "run_id", "agent_id")
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "steps.api.schema.add_error_responses",
    ],
}

# The API throttle's counters must be shared by every web worker: Redis when the broker is
# Redis, else a file cache under var/ (the processes of `make run` share one machine).
_broker = os.environ.get("CELERY_BROKER_URL", "")
CACHES = {
    # this process's memory: what each web process keeps a few seconds (the list's reviewers
    # panel, feedback/state.py) and the mark of a task it queued (taskqueue.send_once_within)
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api-throttle": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("API_THROTTLE_CACHE_URL") or _broker,
        "KEY_PREFIX": "api",
        # Redis gone silent (a failover, a dropped connection) must not hold an API request: the
        # throttle gives up after this and lets the request through (steps/api/throttling.py).
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
    if (os.environ.get("API_THROTTLE_CACHE_URL") or _broker).startswith("redis")
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache" / "api-throttle"),
    },
}

# --- Letta upstream ---------------------------------------------------------------------
# Empty LETTA_BASE_URL: `make run` (manage.py serve) starts the project's own simulator and
# hands its processes LETTA_BASE_URL and LETTA_SIMULATOR_NONCE; the client then talks to that
# URL only after it answered with the nonce (see steps/sync/upstream.py), never to a real Letta.
LETTA_BASE_URL = os.environ.get("LETTA_BASE_URL", "").rstrip("/")
LETTA_SIMULATOR_NONCE = os.environ.get("LETTA_SIMULATOR_NONCE", "")
LETTA_API_KEY = os.environ.get("LETTA_API_KEY", "")
LETTA_PROJECT = os.environ.get("LETTA_PROJECT", "")
LETTA_TIMEOUT_SECONDS = float(os.environ.get("LETTA_TIMEOUT_SECONDS", "30"))
LETTA_MAX_RETRIES = env_int("LETTA_MAX_RETRIES", 4)
SIMULATOR_PORT = env_int("SIMULATOR_PORT", 0)  # the demo simulator's port; 0 picks a free one

# Sync knobs (see steps/sync/run.py for what each protects against).
SYNC_INTERVAL_SECONDS = float(os.environ.get("SYNC_INTERVAL_SECONDS", "5"))
# Scheduled syncs running at once. A beat tick that finds this many live syncs (heartbeat fresh)
# records nothing and returns: a sync slower than the interval runs back to back instead of
# piling up. Raise it with more sync worker processes (`celery worker -Q sync`) to share a
# large backlog between them; claims and the discovery lease keep overlapping syncs safe.
SYNC_MAX_CONCURRENT = env_int("SYNC_MAX_CONCURRENT", 1)
SYNC_PAGE_SIZE = env_int("SYNC_PAGE_SIZE", 100)
SYNC_OVERLAP_STEPS = env_int("SYNC_OVERLAP_STEPS", 200)
SYNC_REFRESH_BATCH = env_int("SYNC_REFRESH_BATCH", 200)
# Steps re-read by id per run to notice votes and tags changed in Letta: at the 5 s default
# interval, 40 is about 8 requests a second on Letta; half go to steps that carry a vote,
# so a million steps are all re-read within about three days.
SYNC_REVERIFY_BATCH = env_int("SYNC_REVERIFY_BATCH", 40)
# Team review: a snapshot queue holds at most this many steps (a bigger filter is refused with the
# reason; a live queue has no cap, its steps join as they sync).
REVIEW_SNAPSHOT_MAX = env_int("REVIEW_SNAPSHOT_MAX", 10_000)
FEEDBACK_SWEEP_SECONDS = float(os.environ.get("FEEDBACK_SWEEP_SECONDS", "15"))
# Hours left marked dirty (an archived step, a killed worker) are recomputed this often.
ROLLUP_SWEEP_SECONDS = float(os.environ.get("ROLLUP_SWEEP_SECONDS", "60"))
# A running sync recomputes the hours it touched at most this often (and when it ends): the
# charts follow a long first sync within seconds, and an hour written by 30 batches is
# recomputed a few times, not 30 (that was a quarter of a first sync's time).
ROLLUP_SYNC_FLUSH_SECONDS = float(os.environ.get("ROLLUP_SYNC_FLUSH_SECONDS", "10"))
# The overview and the list's sparkline, drawn from rollups, are reused by each web process
# until a flush changes them; while flushes follow each other (votes), for up to this long.
ROLLUP_DRAWING_MAX_AGE = float(os.environ.get("ROLLUP_DRAWING_MAX_AGE", "15"))
# HTTP requests in flight per sync worker (a thread pool over keep-alive connections). A step
# costs about four requests; against a real Letta's ~50 ms each, 8 in flight is ~40 steps/s,
# a load an async Letta server carries without notice. Database writes stay on one thread.
SYNC_FETCH_CONCURRENCY = env_int("SYNC_FETCH_CONCURRENCY", 8)
# A terminal step is read once more this long after its details (tokens and stop_reason settle).
SYNC_SETTLE_SECONDS = float(os.environ.get("SYNC_SETTLE_SECONDS", "30"))
# A running sync refreshes its heartbeat this often; its claims are free after three missed beats.
SYNC_HEARTBEAT_SECONDS = float(os.environ.get("SYNC_HEARTBEAT_SECONDS", "2"))
# Sync history kept: the newest runs, plus failed and abandoned ones for a while longer.
SYNC_HISTORY_KEEP = env_int("SYNC_HISTORY_KEEP", 1000)
SYNC_HISTORY_FAILURES_KEEP = env_int("SYNC_HISTORY_FAILURES_KEEP", 1000)
SYNC_HISTORY_FAILURE_DAYS = env_int("SYNC_HISTORY_FAILURE_DAYS", 14)
# Agents' names and models are re-listed this often (new agent ids are fetched at once).
SYNC_AGENTS_REFRESH_SECONDS = env_int("SYNC_AGENTS_REFRESH_SECONDS", 300)

# Facet counts are kept by the sync per batch; a full recount repairs any drift (steps.facets).
FACETS_REBUILD_SECONDS = env_int("FACETS_REBUILD_SECONDS", 3600)
# Text search (steps/search.py): matching ids taken from the trigram indexes up to this many
# rows per index; beyond it a word is common and the newest-first walk finds a page sooner.
SEARCH_CANDIDATES = env_int("SEARCH_CANDIDATES", 10000)
# An estimate above that, up to this share of the messages (or traces), may be one ANALYZE
# histogram bound that holds a rare word: the index is asked anyway, for at most this long.
SEARCH_PROBE_SHARE = float(os.environ.get("SEARCH_PROBE_SHARE", "0.02"))
SEARCH_PROBE_MS = env_int("SEARCH_PROBE_MS", 100)
# Terms under 3 characters have no trigram: they are matched in this many newest steps only.
SEARCH_SHORT_TERM_WINDOW = env_int("SEARCH_SHORT_TERM_WINDOW", 20000)
# The count beside the list's title is exact up to this many steps, then an estimate
# (steps/list_count.py): counting further would read every matching row.
LIST_EXACT_COUNT_UP_TO = env_int("LIST_EXACT_COUNT_UP_TO", 1000)
# ... and gives up counting after this long (sparse matches no index finds): an estimate then.
LIST_COUNT_TIMEOUT_MS = env_int("LIST_COUNT_TIMEOUT_MS", 250)
# A common search word is not counted but sampled: matches among this many newest steps. Each
# is checked against its messages and traces: 1,000 cost 20-28 ms of PostgreSQL per search page
# at 1 M steps, the capacity bench's most expensive statement (pg_stat_statements). With 400 the
# "≈" count's standard error, for a word in one step of ten, is 15 % (10 % with 1,000).
LIST_COUNT_SEARCH_SAMPLE = env_int("LIST_COUNT_SEARCH_SAMPLE", 400)
# Retention: steps older than this many days (by step time) are pruned daily with their
# messages, traces, metrics and votes. Unset or 0: everything is kept.
RETENTION_DAYS = env_int("RETENTION_DAYS", 0)
RETENTION_BATCH_SIZE = env_int("RETENTION_BATCH_SIZE", 500)

# --- Saved views, rules and alerts (steps/alerts/) -------------------------------------
# Beat evaluates every enabled alert this often, from the rollups.
ALERT_EVALUATE_SECONDS = float(os.environ.get("ALERT_EVALUATE_SECONDS", "60"))
# Notifications a lost message or a killed worker left undelivered are sent by a sweep this often.
NOTIFY_SWEEP_SECONDS = float(os.environ.get("NOTIFY_SWEEP_SECONDS", "30"))
# The dashboard's address as its users reach it: the links in notifications start with it.
DASHBOARD_URL = os.environ.get("DASHBOARD_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER")
# Two queues, so that a long sync never holds up a sweep: the sync's ticks go to "sync", consumed
# by a worker of its own (`manage.py serve` and docker-compose start one); everything else (votes'
# pushes, the feedback and rollup sweeps, facets, bulk actions, an admin's re-sync of chosen
# steps, retention) goes to the default queue "celery" and its worker.
SYNC_QUEUE = "sync"
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {"steps.tasks.sync_steps": {"queue": SYNC_QUEUE}}
# A vote is committed before its push is queued, and a sweep delivers whatever was not queued:
# with the broker down, a request gives up queueing quickly (steps/taskqueue.py logs it) instead
# of hanging. One retry covers a pooled connection the broker closed meanwhile.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    BROKER_DIR = VAR_DIR / "broker"
    for sub in ("queue", "control", "processed"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    # Redelivery of a task whose worker was killed waits for the visibility timeout; the
    # database outbox and sweeper tasks are what make work durable, this only shortens it.
    # Timeouts: a broker that stops answering without closing the connection would otherwise hold
    # a publish (and the request that sent it) forever. BRPOP answers within 1 s, under both.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 600,
        "socket_connect_timeout": 2,
        "socket_timeout": 2,
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"redact_share_tokens": {"()": "dashboard.log_redaction.RedactShareTokens"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_share_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # "Not Found: /share/<token>/" and runserver's request lines: a share token is a secret
        # (on the loggers too: Django's own DEBUG console handler prints them before ours)
        "django.request": {"filters": ["redact_share_tokens"]},
        "django.security.csrf": {"filters": ["redact_share_tokens"]},
        "django.server": {
            "handlers": ["console"],
            "level": "INFO",
            "propagate": False,
            "filters": ["redact_share_tokens"],
        },
        # httpx logs every request URL at INFO; URLs carry no secret, but the noise buries sync logs.
        "httpx": {"level": "WARNING"},
        "django.db.backends": {"level": "INFO"},
        # apprise may name a destination's URL (a secret) in its lines: they are captured into the
        # notification's error, scrubbed (steps/alerts/notify.py), and go nowhere else
        "apprise": {"level": "WARNING", "handlers": [], "propagate": False},
    },
}
