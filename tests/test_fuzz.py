"""Hostile input on every route and every list parameter, signed in: never a 5xx.

Routes come from the URLconf (as in test_urls_require_login), so a new route is fuzzed without
anyone adding it here. Values are what a fuzzer tried on this app before: NUL bytes,
impossible dates, numbers beyond a bigint, negative numbers, unicode, very long strings,
repeated parameters, damaged base64 cursors and SQL-ish text; and (issue 18) dates at and past
the edges of datetime, forged DRF cursors, 5,000-digit numbers and JSON bodies nested 100,000
levels deep. The test client re-raises a view's exception, so a failure shows the traceback,
not just "500".
"""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from urllib.parse import quote, urlencode

import pytest
from django import forms
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steps.filters import LiveForm
from steps.models import Agent, ApiToken, FeedbackBatch, ShareLink, Step
from steps.pages import share
from steps.querysets import SORTS
from tests.factories import RunFactory, StepFactory, SyncRunFactory, UserFactory, conversation
from tests.review_helpers import make_queue
from tests.test_urls_require_login import routes

pytestmark = pytest.mark.django_db

GOOD_STEP = "step-00000000-0000-4000-8000-000000000001"
GOOD_RUN = "run-00000000-0000-4000-8000-000000000001"


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


HOSTILE = [
    "\x00",
    f"{GOOD_STEP}\x00",
    "2024-02-30T10:00:00",
    "2024-01-01T25:00",
    "0000-01-01T00:00",
    "2024-01-01T00:00+25:00",
    "9999-12-31T23:59:59-23:59",
    "9" * 40,
    "-1",
    "-9223372036854775809",
    "1e309",
    "NaN",
    "ünïcødé 日本語 🙂 \u202e",
    "x" * 5000,
    "' OR 1=1; DROP TABLE steps_step; --",
    "%",
    "..%2F..%2Fetc%2Fpasswd",
    '{"$gt": ""}',
    "",
    GOOD_STEP,
    # cursors: damaged base64, and base64 of impossible contents
    "!!!not-base64!!!",
    "=",
    b64(f"2024-02-30T10:00:00+00:00|{GOOD_STEP}"),
    b64(f"2024-01-01T00:00:00+25:00|{GOOD_STEP}"),
    b64("2024-01-01T00:00:00+00:00|\x00"),
    b64(f"{'9' * 30}|{GOOD_STEP}"),
    b64(f"-5|{GOOD_STEP}"),
    b64("no separator"),
    base64.urlsafe_b64encode(b"\xff\xfe|\x00").decode(),
]
# What a path argument is replaced with: a subset that reaches every kind of converter.
PATH_VALUES = ["\x00", "x" * 300, "ünïcødé' OR 1=1 --", "9" * 30, "9" * 5000, GOOD_STEP]
LIST_PARAMS = sorted(LiveForm.base_fields) + ["from", "e", "page", "ids[]"]
ADMIN_PARAMS = ["q", "o", "p", "e", "all", "_changelist_filters", "status__exact", "id__in", "_to_field"]
ADMIN_PARAMS += ["step_time__year", "step_time__month", "created_at__year", "updated_at__day"]
ARG = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>|\(\?P<\w+>[^)]*\)")
NO_POST = {"logout", "admin:logout"}  # would sign the fuzzing client out


# a hostile value, any short text, or the parameter repeated (an array)
VALUES = st.one_of(
    st.sampled_from(HOSTILE), st.text(max_size=40), st.lists(st.sampled_from(HOSTILE), max_size=3)
)
# deterministic, so CI and a laptop try the same inputs; about 100 requests per test
FUZZ_SETTINGS = settings(
    max_examples=100,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def world():
    user = UserFactory(username="fuzzer", is_staff=True, is_superuser=True)
    run = RunFactory(id=GOOD_RUN)
    step = StepFactory(id=GOOD_STEP, run_id=run.id, agent_id=run.agent_id)
    conversation(step, user_text="hello", answer="hi")
    StepFactory(run_id=run.id, agent_id=run.agent_id)
    link = ShareLink.objects.create(step=step, created_by=user, token="t" * 20, expires_at=step.step_time)
    batch = FeedbackBatch.objects.create(created_by=user, action="positive", params={"step_ids": [step.pk]})
    queue = make_queue([step], k=2, user=user)  # its routes take the step as an item
    return {"user": user, "step": step, "link": link, "batch": batch, "queue": queue}


@pytest.fixture
def fuzz_client(world):
    """Signed in, with CSRF checks on as in production: POSTs carry the token like the pages do."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["user"])
    client.get("/")
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client


def url_for(route: str, value: str) -> str:
    """The route with every path argument replaced by `value` (percent-encoded)."""
    route = ARG.sub(lambda m: quote(value, safe=""), route)
    route = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("^", "")
    return "/" + route


def check(response, what: str) -> None:
    assert response.status_code < 500, f"{what} answered {response.status_code}"


ROUTES = routes()
ROUTES_WITH_ARGS = [(r, n) for r, n in ROUTES if ARG.search(r)]


def test_hostile_path_arguments(fuzz_client):
    for route, name in ROUTES_WITH_ARGS:
        for value in PATH_VALUES:
            url = url_for(route, value)
            check(fuzz_client.get(url), f"GET {url!r}")
            if name not in NO_POST and not name.startswith("admin:"):
                check(fuzz_client.post(url, {"value": "positive"}), f"POST {url!r}")


def test_hostile_ids_never_reach_a_query(fuzz_client):
    # a path id that is not a Letta id is a 404 (a NUL anywhere a 400) before any step query
    for url in ("/steps/%00/", "/steps/x/vote/", "/runs/' OR 1=1 --/", f"/steps/{'a' * 300}/tags/"):
        with CaptureQueriesContext(connection) as queries:
            response = fuzz_client.get(url)
        assert response.status_code in (400, 404), url
        assert not [q for q in queries if "steps_" in q["sql"]], url


@FUZZ_SETTINGS
@given(
    route=st.sampled_from(ROUTES),
    params=st.dictionaries(
        st.sampled_from(LIST_PARAMS + ADMIN_PARAMS),
        st.one_of(
            st.sampled_from(HOSTILE), st.text(max_size=40), st.lists(st.sampled_from(HOSTILE), max_size=3)
        ),
        max_size=4,
    ),
    htmx=st.booleans(),
)
def test_any_route_with_hostile_query(fuzz_client, world, route, params, htmx):
    path, name = route
    url = url_for(path, world["step"].pk if "step" in path else "1") + "?" + urlencode(params, doseq=True)
    headers = {"HX-Request": "true"} if htmx else {}
    check(fuzz_client.get(url, headers=headers), f"GET {url[:300]!r}")


def test_admin_changelists_with_hostile_parameters(fuzz_client):
    """Every changelist with its search, ordering, paging and date-hierarchy parameters at once."""
    changelists = [r for r, n in ROUTES if n.startswith("admin:") and n.endswith("_changelist")]
    for route in changelists:
        for value in PATH_VALUES + ["2024-02-30", "-1"]:
            url = url_for(route, "") + "?" + urlencode(dict.fromkeys(ADMIN_PARAMS, value))
            check(fuzz_client.get(url), f"GET {url[:300]!r}")


def list_urls(query: str) -> list[str]:
    """The three endpoints that read a list query: the list, its live poll, the bulk count."""
    return [f"/?{query}", f"/steps/live/?{query}&live=1", "/bulk/count/?" + urlencode({"query": query})]


COMPARE_PARAMS = ["view", "hide_unchanged", "trace_a", "trace_b", "part", "entry", "a", "b", "order"]


def test_every_compare_parameter(fuzz_client, world):
    """The compare pages, their in-place expansion and their forms, with each hostile value in
    every parameter at once and in each alone (two real steps and runs, so the views run through)."""
    other = Step.objects.exclude(pk=GOOD_STEP).get()
    step_pair = f"/compare/{GOOD_STEP}/{other.pk}/"
    urls = [
        step_pair,
        step_pair + "expand/",
        "/compare/",
        "/compare/runs/",
        f"/compare/runs/{GOOD_RUN}/{GOOD_RUN}/",
    ]
    for value in HOSTILE:
        for params in [dict.fromkeys(COMPARE_PARAMS, value), *({k: value} for k in COMPARE_PARAMS)]:
            for base in urls:
                url = base + "?" + urlencode(params)
                check(fuzz_client.get(url, headers={"HX-Request": "true"}), f"GET {url[:300]!r}")


def test_every_list_parameter(fuzz_client):
    """Every list parameter at once with each hostile value, then each cursor under each sort."""
    for value in HOSTILE:
        query = urlencode(dict.fromkeys(LIST_PARAMS, value))
        for url in list_urls(query):
            check(fuzz_client.get(url, headers={"HX-Request": "true"}), f"GET {url[:300]!r}")
    for sort in SORTS:
        for value in HOSTILE:
            url = "/?" + urlencode({"sort": sort, "cursor": value})
            check(fuzz_client.get(url, headers={"HX-Request": "true"}), f"GET {url[:300]!r}")


@FUZZ_SETTINGS
@given(
    params=st.dictionaries(st.sampled_from(LIST_PARAMS), VALUES, min_size=1, max_size=5),
    endpoint=st.integers(0, 2),
)
def test_list_parameters_in_combination(fuzz_client, params, endpoint):
    url = list_urls(urlencode(params, doseq=True))[endpoint]
    check(fuzz_client.get(url, headers={"HX-Request": "true"}), f"GET {url[:300]!r}")


REFERERS = [
    "",
    "http://testserver/\x00",
    "http://testserver/" + "x" * 5000,
    "javascript:alert(1)",
    "//evil.example/",
]
REFERERS += ["http://testserver/?a=\r\nSet-Cookie: x=1", "http://testserver/ünï"]
POST_FIELDS = {
    "step_vote": ["value", "set", "compact"],
    "step_vote_resolve": ["keep"],
    "step_tags": ["add", "remove"],
    "step_note": ["notes"],
    "share_create": ["expiry"],
    "bulk_start": ["action", "tag", "scope", "query", "step_ids"],
}


@FUZZ_SETTINGS
@given(data=st.data())
def test_post_endpoints_with_hostile_fields(fuzz_client, world, data):
    name = data.draw(st.sampled_from(sorted(POST_FIELDS)))
    fields = POST_FIELDS[name]
    body = data.draw(
        st.dictionaries(
            st.sampled_from(fields),
            st.one_of(
                st.sampled_from(HOSTILE), st.text(max_size=30), st.lists(st.sampled_from(HOSTILE), max_size=3)
            ),
            min_size=1,
        )
    )
    if name == "bulk_start":
        # a real action, so the request gets past the first check and into the others
        body.setdefault("action", data.draw(st.sampled_from(["positive", "add_tag", "remove_tag", "clear"])))
        url = reverse(name)
    else:
        url = reverse(name, args=[world["step"].pk])
    # without htmx a POST redirects back to the Referer, so that is input too
    headers = (
        {"HX-Request": "true"}
        if data.draw(st.booleans())
        else {"Referer": data.draw(st.sampled_from(REFERERS))}
    )
    check(fuzz_client.post(url, body, headers=headers), f"POST {url} {body!r:.300} {headers!r:.100}")


# --- issue 18's shapes on every route but the admin's ---------------------------------------------
# Each route from the URLconf, with real ids in its path so its view runs through, gets every shape
# below; a new route is walked without anyone adding it here.

BIG = "9" * 5000  # past the 4,300 digits Python's int() reads
FIRST, LAST = "1970-01-01T00:00:00+00:00", "9998-12-31T23:59:59+00:00"  # the first and last a filter takes
# refused by the form (HOSTILE above has more impossible ones)
EDGE_DATES = [
    "9999-12-31T23:59:59",
    "0001-01-01T00:00:00",
    "0001-01-07T00:00:00",
    "0001-01-01T00:00:00+14:00",
]
DATE_PARAMS = [name for name, f in LiveForm.base_fields.items() if isinstance(f, forms.DateTimeField)]
DATE_SHAPES = [dict.fromkeys(DATE_PARAMS, date) for date in EDGE_DATES] + [
    # valid dates at the edges, whose ranges are widened to whole hours, days and weeks
    {"until": FIRST},
    {"until": LAST, "newest_time": LAST},
    {"since": FIRST, "until": LAST},
    {"since": "9998-12-10T00:00:00+00:00", "until": LAST},
]


def drf_cursor(raw: str) -> str:
    """A cursor as DRF writes them (runs, agents, sync runs): plain base64 of a query string."""
    return base64.b64encode(raw.encode()).decode()


FORGED_CURSORS = [
    drf_cursor("p=\x00"),
    drf_cursor("p=2024-02-30"),
    drf_cursor("p=9999-12-31 23:59:59-23:59"),
    drf_cursor("p=0001-01-01 00:00:00+00:00"),
    drf_cursor(f"o={BIG}"),
    drf_cursor("p=" + "x" * 5000),
    b64(f"9999-12-31T23:59:59-23:59|{GOOD_STEP}"),
    base64.b64encode(b"\xff\xfe\x00p=").decode(),
]
CURSOR_SHAPES = [{"cursor": c} for c in FORGED_CURSORS]
# under an integer sort, a step cursor holds a number
CURSOR_SHAPES += [{"cursor": b64(f"{BIG}|{GOOD_STEP}"), "sort": "-tokens"}]


def integer_parameters() -> set[str]:
    """Every integer query parameter: the list's filters, each the API schema declares, and the
    compare page's own (its trace numbers are the API's)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    declared = {
        p["name"]
        for path in schema["paths"].values()
        for operation in path.values()
        for p in operation.get("parameters", [])
        if p["in"] == "query" and p["schema"].get("type") == "integer"
    }
    filters = {name for name, f in LiveForm.base_fields.items() if isinstance(f, forms.IntegerField)}
    return declared | filters | {"entry"}


def integer_shapes() -> list[dict]:
    # one at a time where a view checks one before the others (the API's page size after its
    # filters, the expand's entry before the trace numbers); the rest at once
    alone = {"page_size", "entry"}
    together = dict.fromkeys(integer_parameters() - alone, BIG)
    return [together, *({name: BIG} for name in sorted(alone))]


# Values that take a view past its first check: the live poll stops without live=1, the expand
# needs a part and an entry.
PRIMING = {"live": "1", "part": "request", "entry": "0", "newest_id": GOOD_STEP}
# JSON no parser should choke on: 100,000 levels, 5,000 (json parses those), a 5,000-digit number
DEEP_BODIES = ["[" * 100_000 + "]" * 100_000, '{"value": ' + "[" * 5000 + "]" * 5000 + "}"]
DEEP_BODIES += ['{"value": "positive", "expected_count": ' + BIG + "}"]
APP_ROUTES = [(r, n) for r, n in ROUTES if n and not n.startswith("admin:") and n not in NO_POST]


def alerts_objects(user) -> dict[str, int]:
    """A saved view, a rule, an alert and a notification (steps/alerts/), for their routes."""
    from steps.alerts.models import Alert, Destination, Notification, Rule, SavedView

    view = SavedView.objects.create(owner=user, name="fuzzed", query="status=failed", shared=True)
    destination = Destination.for_url("json://127.0.0.1:9/fuzz")
    rule = Rule.objects.create(name="fuzzed", view=view, action="tag", tags=["x"])
    alert = Alert.objects.create(
        name="fuzzed", series="error_rate", condition="above", threshold=0.5, destination=destination
    )
    notification = Notification.objects.create(
        destination=destination, alert=alert, title="t", body="b", status="failed"
    )
    return {"view_id": view.pk, "rule_id": rule.pk, "alert_id": alert.pk, "notification_id": notification.pk}


@pytest.fixture
def app_urls(world):
    """Each app route with real objects in its path."""
    other = Step.objects.exclude(pk=GOOD_STEP).get()
    Agent.objects.create(id=world["step"].agent_id, name="fuzzed")
    token, _ = ApiToken.create_for(world["user"], "fuzz")
    link = ShareLink.objects.create(
        step=world["step"],
        created_by=world["user"],
        token="s" * 20,
        expires_at=timezone.now() + timedelta(days=1),
    )
    ints = {
        "batch_id": world["batch"].pk,
        "link_id": link.pk,
        "token_id": token.pk,
        "queue_id": world["queue"].pk,
        "item_id": world["queue"].items.first().pk,
    }
    ints["sync_run_id"] = SyncRunFactory().pk
    ints.update(alerts_objects(world["user"]))
    ints["rubric_id"] = world["queue"].rubric_id
    values = {"run_id": GOOD_RUN, "agent_id": world["step"].agent_id, "str": share.signed_token(link)}
    urls = []
    for route, name in APP_ROUTES:
        step_ids = iter([GOOD_STEP, other.pk])
        kwargs = {}
        for arg in ARG.finditer(route):
            conv, arg_name = arg["conv"], arg["name"]
            if conv == "step_id":
                kwargs[arg_name] = next(step_ids)
            else:
                kwargs[arg_name] = ints.get(arg_name, 1) if conv == "int" else values[conv]
        urls.append(reverse(name, kwargs=kwargs))
    return urls


def test_every_route_with_edge_dates_forged_cursors_and_huge_numbers(fuzz_client, app_urls):
    """Issue 18: dates whose range leaves year 9999, DRF cursors holding a NUL or Feb 30, and
    5,000-digit numbers, in the query of every route; and in the list query a route takes as a
    parameter (the bulk count's `query`, next unreviewed's `from`)."""
    for shape in DATE_SHAPES + CURSOR_SHAPES + integer_shapes():
        query = urlencode({**PRIMING, **shape, "query": urlencode(shape), "from": urlencode(shape)})
        for url in app_urls:
            response = fuzz_client.get(f"{url}?{query}", headers={"HX-Request": "true"})
            check(response, f"GET {url}?{query[:200]!r}")


def test_every_route_with_deep_json_bodies(fuzz_client, app_urls):
    """Issue 18: a body nested 100,000 levels deep (or holding a 5,000-digit number) to every route
    and method that takes one (the API's answer 400, pages refuse any body that is no form)."""
    for url in app_urls:
        for method in ("post", "put", "patch"):
            for body in DEEP_BODIES:
                response = getattr(fuzz_client, method)(url, body, content_type="application/json")
                check(response, f"{method.upper()} {url} {body[:40]!r}")
                if response.status_code == 405:
                    break


@given(
    params=st.dictionaries(
        st.sampled_from(["code", "state", "error", "next", "session_state", "iss"]), VALUES
    ),
    fresh_state=st.booleans(),
)
@FUZZ_SETTINGS
def test_single_sign_on_routes_with_hostile_parameters(fuzz_client, sso, params, fresh_state):
    """With a real provider configured: a hostile start or callback is a 4xx or a redirect, never a
    5xx, and signs in nobody new (a callback whose state is genuine reaches the provider's token
    endpoint with the hostile code)."""
    from urllib.parse import parse_qs, urlsplit

    anonymous = Client()
    start = anonymous.get("/oidc/login/", {"next": params.get("next", "")})
    check(start, "/oidc/login/")
    if fresh_state and start.status_code == 302:
        params = {**params, "state": parse_qs(urlsplit(start["Location"]).query)["state"][0]}
    response = anonymous.get("/oidc/callback/", params)
    check(response, f"/oidc/callback/?{urlencode(params, doseq=True)[:200]}")
    assert "_auth_user_id" not in anonymous.session
