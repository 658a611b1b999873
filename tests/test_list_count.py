"""The count beside the list's title is the filter's: exact while cheap, then marked as
"N+" or an estimate; the sparkline beside it says which window its own numbers count."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from steps.models import FacetCount
from steps.overview.rollup import rebuild
from steps.pages.list_count import _round
from tests.factories import BASE_TIME, StepFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def count_of(html: str) -> tuple[str, str]:
    """(text, title) of the count beside the title."""
    found = re.search(r'<span id="list-count" class="[^"]*" title="([^"]*)"[^>]*>([^<]*)</span>', html)
    return found[2], found[1]


def get(client, query: str = "", **kwargs) -> str:
    return client.get(reverse("step_list") + "?" + query, **kwargs).content.decode()


def make(n: int, **kwargs) -> None:
    for i in range(n):
        StepFactory(step_time=BASE_TIME + timedelta(seconds=i), **kwargs)


def test_the_count_is_the_filters_not_the_sparklines(user_client):
    now = timezone.now()
    for i in range(14):  # 11 failures in the last 24 h, 3 before: the list shows all 14
        StepFactory(failed=True, step_time=now - timedelta(hours=1 if i < 11 else 30, seconds=i))
    StepFactory(step_time=now - timedelta(hours=2))
    rebuild()
    html = get(user_client, "status=failed")
    assert count_of(html) == ("14 steps", "Steps matching this filter")
    spark = re.search(r'<a id="list-sparkline".*?</a>', html, re.S)[0]
    assert re.search(r"last 24 h</span> <span><b>11</b> steps · <b[^>]*>11</b> errors", spark)
    html = get(user_client, "status=success")
    assert count_of(html)[0] == "1 step"
    assert re.search(r"last 24 h</span> <span><b>1</b> step · <b[^>]*>0</b> errors", html)


def test_the_sparkline_names_the_window_of_the_filter(user_client):
    StepFactory(failed=True, step_time=timezone.now() - timedelta(hours=3))
    rebuild()
    html = get(user_client, "period=7d")
    assert re.search(r"last 7 days</span> <span><b>1</b> step · <b[^>]*>1</b> error<", html)


def test_more_than_a_page_is_counted_exactly_in_one_query(user_client, django_assert_num_queries):
    make(55, status="failed")
    make(7)
    with django_assert_num_queries(18):  # the count: SAVEPOINT, SET LOCAL, COUNT, RELEASE
        html = get(user_client, "status=failed")
    assert count_of(html)[0] == "55 steps"
    # a later page counts the whole filter, not itself
    cursor = re.search(r'data-key-older href="\?[^"]*cursor=([\w-]+)"', html)[1]
    assert count_of(get(user_client, f"status=failed&cursor={cursor}"))[0] == "55 steps"


def test_past_the_cap_a_marked_estimate_from_the_statistics(user_client, settings, django_assert_num_queries):
    settings.LIST_EXACT_COUNT_UP_TO = 20
    make(60)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE steps_step, steps_stepreview")
    with django_assert_num_queries(19):  # the page's 18, and one EXPLAIN
        html = get(user_client)
    assert count_of(html) == (
        "≈ 60 steps",
        "About this many steps match this filter (estimated from the database&#x27;s statistics)",
    )


def test_past_the_cap_a_single_facet_filter_is_estimated_from_its_facet(user_client, settings):
    settings.LIST_EXACT_COUNT_UP_TO = 20
    make(60, model="gpt-4.1")  # more than a page: the page cannot count itself
    make(5, model="gpt-4o-mini")
    text, title = count_of(get(user_client, "model=gpt-4.1"))
    assert (text, "facet count" in title) == ("≈ 60 steps", True)
    # an estimate below what was counted says so instead of contradicting it
    FacetCount.objects.filter(dimension="model", value="gpt-4.1").update(steps=3)
    assert count_of(get(user_client, "model=gpt-4.1")) == (
        "20+ steps",
        "More than 20 steps match this filter; counted no further",
    )


def test_an_htmx_filter_change_brings_its_count_out_of_band(user_client):
    make(3, status="failed")
    make(2)
    partial = get(user_client, "status=failed", headers=HX)
    assert (
        '<span id="list-count" class="list-count" title="Steps matching this filter" hx-swap-oob="true">3 steps</span>'
        in partial
    )


@pytest.mark.parametrize(
    ("n", "shown"), [(7, 7), (99, 99), (123, 120), (24_321, 24_000), (1_250_000, 1_200_000)]
)
def test_estimates_have_two_significant_figures(n, shown):
    assert _round(n) == shown


def clone_older_steps(n: int, **columns) -> None:
    """n copies of the oldest step, older still, in one INSERT ... SELECT (factories would take
    minutes): what a table of a hundred thousand steps looks like to a count."""
    from steps.models import Step

    names = [f.column for f in Step._meta.concrete_fields]
    values = {name: connection.ops.quote_name(name) for name in names}
    values |= {
        "id": "'step-' || gen_random_uuid()",
        "step_time": "step_time - make_interval(secs => g)",
        "payload": "'{}'::jsonb",
        **{name: "%s" for name in columns},
    }
    sql = (
        f"INSERT INTO steps_step ({', '.join(map(connection.ops.quote_name, names))}) "
        f"SELECT {', '.join(values[n] for n in names)} "
        "FROM (SELECT * FROM steps_step ORDER BY step_time LIMIT 1) s, generate_series(1, %s) g"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*columns.values(), n])
        cursor.execute("ANALYZE steps_step, steps_stepreview")


def test_a_count_that_would_read_far_gives_up_for_an_estimate(user_client, settings):
    make(60, prompt_tokens=9000)  # the newest 60 match: a first page full at once
    clone_older_steps(100_000, prompt_tokens=10)  # then none in 100,000 rows no index serves
    settings.LIST_COUNT_TIMEOUT_MS = 1
    response = user_client.get(reverse("step_list") + "?prompt_min=5000")
    assert len(response.context["rows"]) == 50
    text, title = count_of(response.content.decode())
    assert text.startswith("≈ ") and "statistics" in title
    # the request goes on after the cancelled count: the rest of the page rendered
    assert response.context["count"].kind == "estimate" and "table-foot" in response.content.decode()


def test_a_common_search_word_is_sampled_not_counted(user_client, settings, django_assert_num_queries):
    from tests.factories import MessageFactory

    settings.SEARCH_CANDIDATES = 5  # "weather" is common here: the search walks row by row
    settings.LIST_COUNT_SEARCH_SAMPLE = 20
    for i in range(120):
        step = StepFactory(step_time=BASE_TIME + timedelta(seconds=i))
        MessageFactory(step=step, content="the weather today" if i % 2 else "nothing to see")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE steps_step, steps_stepreview")
    # the page with its search (the plan's estimates, then the probe of the index or, for an
    # estimate over the cap, the tables' sizes; the rows' matches), and for the count the
    # sample's size and its matches, and the estimate of the steps the other filters keep
    with django_assert_num_queries(21):
        html = get(user_client, "q=weather")
    # 10 of the newest 20 match, of 120 steps: about 60
    assert count_of(html) == (
        "≈ 60 steps",
        "About this many steps match this filter (estimated from a sample of the newest 20 steps)",
    )
    settings.LIST_COUNT_SEARCH_SAMPLE = 200  # a sample of every step: exact
    assert count_of(get(user_client, "q=weather&status=success"))[0] == "60 steps"
