"""The overview and the list's sparkline are drawn from the rollups once, then reused by the
process until a flush changes the rollups (steps/overview/memo.py): twenty reviewers opening the
overview draw it once, and what they see is never older than the last flush by more than
ROLLUP_DRAWING_MAX_AGE seconds."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from steps.models import ModelPrice, RollupEpoch, mark_dirty
from steps.overview.rollup import flush
from tests.factories import BASE_TIME, StepFactory
from tests.test_overview_views import AGENT_A, RANGE, kpi, page, ten_steps

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    return ten_steps()


ROLLUP_TABLES = ("steps_hourlyrollup", "steps_dailyrollup", "steps_weeklyrollup", "steps_toolrollup")


def rollup_reads(client, path="/overview/", **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, {**RANGE, **params}).status_code == 200
    return sum(any(table in q["sql"] for table in ROLLUP_TABLES) for q in queries.captured_queries)


def one_more_step() -> None:
    step = StepFactory(step_time=BASE_TIME + timedelta(minutes=5), model="gpt-4o-mini", prompt_tokens=1000)
    mark_dirty([step.step_time])  # as the sync does when it writes a step
    flush()


def figures(html: str) -> str:
    return html[html.index('<section class="kpis"') : html.index("saved-views-card")]


def test_the_second_overview_is_the_first_drawing_reused(user_client, seeded):
    first = page(user_client)
    assert rollup_reads(user_client) == 0
    assert figures(page(user_client)) == figures(first)
    assert kpi(first, "Steps") == "10"


def test_another_filter_is_drawn_for_itself(user_client, seeded):
    assert kpi(page(user_client), "Steps") == "10"
    assert kpi(page(user_client, agent=AGENT_A), "Steps") == "5"
    assert kpi(page(user_client, status="failed"), "Steps") == "3"


def test_a_flush_is_shown_once_the_drawing_is_older_than_the_max_age(user_client, seeded, settings):
    settings.ROLLUP_DRAWING_MAX_AGE = 0
    assert kpi(page(user_client), "Steps") == "10"
    epoch = RollupEpoch.current()

    one_more_step()

    assert RollupEpoch.current() > epoch
    assert kpi(page(user_client), "Steps") == "11"
    assert "11 steps" in user_client.get("/", RANGE).content.decode()  # the list's sparkline too


def test_while_flushes_follow_each_other_a_fresh_drawing_is_reused(user_client, seeded, settings):
    settings.ROLLUP_DRAWING_MAX_AGE = 3600  # as if each flush came within the max age
    assert kpi(page(user_client), "Steps") == "10"

    one_more_step()

    assert kpi(page(user_client), "Steps") == "10"  # reused: the rollups changed a moment ago
    settings.ROLLUP_DRAWING_MAX_AGE = 0
    assert kpi(page(user_client), "Steps") == "11"  # older than the max age: drawn again


def test_a_price_change_shows_at_once_whatever_the_max_age(user_client, seeded, settings):
    settings.ROLLUP_DRAWING_MAX_AGE = 3600
    ModelPrice.objects.filter(model__in=["gpt-4o-mini", "gpt-4.1"]).delete()
    assert kpi(page(user_client), "Cost") == "no price"
    price = ModelPrice.objects.create(
        model="gpt-4o-mini", input_per_mtok=Decimal(1), output_per_mtok=Decimal(2)
    )
    # 6 gpt-4o-mini steps of 1,000 prompt and 100 completion tokens: 6 x ($0.001 + $0.0002)
    assert kpi(page(user_client), "Cost") == "$0.0072"
    price.input_per_mtok = Decimal(2)
    price.save()
    assert kpi(page(user_client), "Cost") == "$0.0132"
    price.delete()
    assert kpi(page(user_client), "Cost") == "no price"


def test_a_rebuild_bumps_the_epoch(seeded):
    from steps.overview.rollup import rebuild

    epoch = RollupEpoch.current()
    rebuild()
    assert RollupEpoch.current() > epoch
