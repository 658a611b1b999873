"""The overview page's numbers, its breakdown chooser, bad parameters, and where its links lead."""

import re
from datetime import UTC, datetime, time, timedelta
from html import unescape
from urllib.parse import unquote

import pytest

from steps.models import Step, StepMetrics
from steps.overview.report import time_range
from steps.overview.rollup import flush, rebuild
from tests.factories import BASE_TIME, StepFactory

pytestmark = pytest.mark.django_db

AGENT_A = "agent-aaaaaaaa-0000-4000-8000-000000000001"
AGENT_B = "agent-bbbbbbbb-0000-4000-8000-000000000002"
RANGE = {
    "since": (BASE_TIME - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%MZ"),
    "until": (BASE_TIME + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%MZ"),
}


@pytest.fixture
def seeded():
    return ten_steps()


def ten_steps():
    """Ten steps over three hours: two agents, two models, three failures."""
    steps = []
    for i in range(10):
        steps.append(
            StepFactory(
                step_time=BASE_TIME + timedelta(minutes=20 * i),
                agent_id=AGENT_A if i % 2 else AGENT_B,
                model="gpt-4o-mini" if i < 6 else "gpt-4.1",
                prompt_tokens=1000,
                completion_tokens=100,
                **({"failed": True} if i in (1, 4, 8) else {}),
            )
        )
    for step in steps:
        StepMetrics.objects.create(step=step, step_ns=step.duration_ns, llm_request_ns=20_000_000)
    rebuild()  # factories write steps directly, not through the sync that marks their hours
    return steps


def page(client, **params):
    response = client.get("/overview/", {**RANGE, **params})
    assert response.status_code == 200
    return response.content.decode()


def kpi(html: str, label: str) -> str:
    match = re.search(rf'kpi-label">{label}</span><span class="kpi-value[^"]*">(.*?)</span>', html, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_totals_are_those_of_the_seeded_steps(user_client, seeded):
    html = page(user_client)

    assert kpi(html, "Steps") == "10"
    assert kpi(html, "Error rate") == "30%"
    assert kpi(html, "Tokens in / out") == "10,000 / 1,000"
    assert "Overview" in html and 'aria-current="page"' in html


def test_the_breakdown_chooser_names_the_series(user_client, seeded):
    by_model = page(user_client, breakdown="model")
    assert "gpt-4o-mini" in by_model and "gpt-4.1" in by_model

    by_status = page(user_client, breakdown="status")
    legend = re.search(r'<ul class="legend">(.*?)</ul>', by_status, re.S).group(1)
    assert "success" in legend and "failed" in legend and "gpt-4.1" not in legend

    by_agent = page(user_client, breakdown="agent")
    legend = re.search(r'<ul class="legend">(.*?)</ul>', by_agent, re.S).group(1)
    assert AGENT_A in legend and AGENT_B in legend


def test_a_served_filter_narrows_the_numbers(user_client, seeded):
    assert kpi(page(user_client, model="gpt-4.1"), "Steps") == "4"
    assert kpi(page(user_client, has_error="yes"), "Steps") == "3"
    assert kpi(page(user_client, agent=AGENT_A, has_error="no"), "Steps") == "4"


def test_a_filter_the_rollups_cannot_serve_is_said_not_applied(user_client, seeded):
    html = page(user_client, q="roadmap", tag="x")
    assert "Charts and numbers here ignore" in html
    assert kpi(html, "Steps") == "10"
    # ... but the links to the steps keep it
    assert "q=roadmap" in html


@pytest.mark.parametrize(
    "params, problem",
    [
        ({"breakdown": "colour"}, "not one of Model, Agent, Provider, Status"),
        ({"since": "last tuesday"}, "Enter a valid date/time"),
        ({"period": "99y"}, "not one of"),
        ({"since": "9999-12-31T23:59-23:59"}, "out of range"),
        # a week before year 1, and bucket ends after year 9999 (issue 18)
        ({"until": "0001-01-07T00:00:00"}, "out of range: use one from 1970 to 9998"),
        ({"until": "9999-12-31T23:59:59"}, "out of range: use one from 1970 to 9998"),
        ({"since": "0001-01-01T00:00:00"}, "out of range"),
        ({"agent": "x" * 300}, "at most 255"),
    ],
)
def test_bad_parameters_are_reported_never_a_500(user_client, seeded, params, problem):
    response = user_client.get("/overview/", params)
    assert response.status_code == 200
    assert problem in unescape(response.content.decode())


def test_an_empty_range_says_so(user_client):
    html = page(user_client)
    assert "No steps in this range" in html


def _links(html: str, css: str) -> list[str]:
    return [
        unescape(h)
        for h in re.findall(rf'<a href="([^"]+)" class="chart-link"><rect class="cbar {css}', html)
    ]


def _listed_ids(client, url: str) -> set[str]:
    html = client.get(url).content.decode()
    return set(re.findall(r'data-step="([^"]+)"', html))


def test_every_bar_and_point_opens_exactly_its_steps(user_client, seeded):
    html = page(user_client, breakdown="model")
    links = [unescape(h) for h in re.findall(r'<a href="([^"]+)" class="chart-link">', html)]
    assert len(links) >= 10
    for url in links:
        params = {k: unquote(v) for k, v in re.findall(r"[?&]([^=&]+)=([^&]*)", url)}
        qs = Step.objects.filter(step_time__gte=params["since"], step_time__lte=params["until"])
        if "model" in params:
            qs = qs.filter(model=params["model"])
        if "has_error" in params:
            qs = qs.exclude(error_type="")
        assert _listed_ids(user_client, url) == set(qs.values_list("id", flat=True)) != set(), url


def test_the_bar_counts_add_up_to_the_steps_behind_them(user_client, seeded):
    html = page(user_client, breakdown="agent")
    for match in re.finditer(
        r'<a href="([^"]+)" class="chart-link"><rect class="cbar [^"]*"[^>]*data-tip="[^"]*: (\d+) \(of', html
    ):
        url, count = unescape(match.group(1)), int(match.group(2))
        if "has_error" in url or "agent=" not in url:
            continue
        assert len(_listed_ids(user_client, url)) == count, url


def test_archived_steps_stay_out_unless_the_list_includes_them(user_client, seeded):
    from steps.models import StepReview

    StepReview.objects.create(step=seeded[0], hidden=True)
    flush()
    assert kpi(page(user_client), "Steps") == "9"
    assert kpi(page(user_client, hidden="1"), "Steps") == "10"


def test_the_page_costs_the_same_number_of_queries_whatever_the_data(
    user_client, seeded, django_assert_max_num_queries
):
    with django_assert_max_num_queries(14):
        page(user_client, breakdown="agent")


def test_the_step_list_shows_a_sparkline_linking_to_the_overview(user_client, seeded):
    html = user_client.get("/", RANGE).content.decode()
    spark = re.search(r'<a id="list-sparkline".*?</a>', html, re.S).group(0)
    assert re.search(r"<b>10</b> steps · <b[^>]*>3</b> errors", spark)
    assert "/overview/?" in spark and "since=" in spark
    # a bar per hour with steps, a red one inside it per hour with errors
    hours = {s.step_time.replace(minute=0, second=0, microsecond=0) for s in seeded}
    failed = {s.step_time.replace(minute=0, second=0, microsecond=0) for s in seeded if s.status == "failed"}
    assert (
        spark.count('<rect class="vol"') == len(hours) and spark.count('<rect class="err"') == len(failed) > 0
    )
    # an htmx filter change brings a fresh one out of band
    partial = user_client.get(
        "/", {**RANGE, "model": "gpt-4.1"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert 'hx-swap-oob="true"' in partial and re.search(r"<b>4</b> steps · <b[^>]*>1</b> error<", partial)


def test_a_long_range_has_daily_buckets_whose_links_hold_their_steps(user_client, seeded):
    since = (BASE_TIME - timedelta(days=6)).strftime("%Y-%m-%dT%H:%MZ")
    until = (BASE_TIME + timedelta(days=3)).strftime("%Y-%m-%dT%H:%MZ")
    response = user_client.get("/overview/", {"since": since, "until": until})
    html = response.content.decode()
    assert "daily buckets" in html
    assert kpi(html, "Steps") == "10"
    links = [
        unescape(h) for h in re.findall(r'<a href="([^"]+)" class="chart-link"><rect class="cbar s', html)
    ]
    assert links and all("T00:00:00Z" in unquote(u) and "T23:59:59.999999Z" in unquote(u) for u in links)
    assert (
        sum(len(_listed_ids(user_client, u)) for u in links if "has_error" not in u and "model=" in u) == 10
    )


def test_a_range_of_months_has_weekly_buckets_from_monday_whose_links_hold_their_steps(user_client, seeded):
    since = (BASE_TIME - timedelta(days=50)).strftime("%Y-%m-%dT%H:%MZ")
    until = (BASE_TIME + timedelta(days=40)).strftime("%Y-%m-%dT%H:%MZ")
    html = user_client.get("/overview/", {"since": since, "until": until}).content.decode()

    assert "weekly buckets" in html and "All numbers, per week" in html
    assert kpi(html, "Steps") == "10"
    links = [
        unquote(unescape(h))
        for h in re.findall(r'<a href="([^"]+)" class="chart-link"><rect class="cbar s', html)
    ]
    spans = {re.search(r"since=([^&]+)&until=([^&]+)", u).groups() for u in links}
    for start, end in spans:  # Monday 00:00 to Sunday 23:59:59.999999 (UTC in the tests)
        first, last = datetime.fromisoformat(start), datetime.fromisoformat(end)
        assert (
            first.weekday() == 0
            and first.time() == time(0)
            and last - first == timedelta(days=7, microseconds=-1)
        )
    assert (
        sum(len(_listed_ids(user_client, u)) for u in links if "has_error" not in u and "model=" in u) == 10
    )


def test_a_hostile_model_name_is_escaped_in_every_chart(user_client):
    """Model names come from upstream data: in hover text and links they are text, never markup."""
    hostile = 'gpt"><script>alert(1)</script>&'
    StepFactory(step_time=BASE_TIME, model=hostile, prompt_tokens=10)
    rebuild()

    html = page(user_client)

    assert "<script>alert(1)" not in html and 'gpt">' not in html
    tips = [unescape(t) for t in re.findall(r'<rect class="cbar [^"]*"[^>]*data-tip="([^"]*)"', html)]
    assert any(hostile in tip for tip in tips)
    links = [unquote(unescape(h)) for h in re.findall(r'<a href="([^"]+)" class="chart-link">', html)]
    assert any(f"model={hostile}".replace(" ", "+") in link for link in links)


@pytest.mark.parametrize(
    ("params", "grain"),
    [
        ({"until": "9998-12-31T23:59:59Z"}, "daily buckets"),  # the default week, to a bucket in 9999
        ({"since": "9998-09-01T00:00Z", "until": "9998-12-31T23:59:59Z"}, "weekly buckets"),
        ({"since": "1970-01-01T00:00Z", "until": "1970-01-01T05:00Z"}, "hourly buckets"),
        ({"until": "1970-01-02T00:00Z"}, "hourly buckets"),  # a week back is 1969: the day from 1970
    ],
)
def test_ranges_at_the_first_and_last_dates_a_filter_takes_are_drawn(user_client, params, grain):
    response = user_client.get("/overview/", params)
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert grain in html and "was ignored" not in html


def test_a_range_past_year_9999_is_clamped_not_an_overflow():
    # a caller other than the form (which refuses these dates) still gets buckets datetime can hold
    span = time_range({"until": datetime.max.replace(tzinfo=UTC)})
    assert span.buckets and span.until.year == 9999
    span = time_range({"until": datetime.min.replace(tzinfo=UTC)})
    assert span.buckets and span.since.year == 1970
