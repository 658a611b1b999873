import base64
import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from steps.models import Step
from tests.factories import BASE_TIME, MessageFactory, StepFactory, SyncRunFactory, conversation

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def test_list_page_renders_rows(user_client):
    step = StepFactory(feedback="positive")
    conversation(step, user_text="hello from the user", answer="the final answer")
    SyncRunFactory()
    html = user_client.get(reverse("step_list")).content.decode()
    assert "<html" in html
    assert step.pk in html
    assert "hello from the user" in html
    assert "the final answer" in html
    assert "conversation_search" in html
    assert "vote-up is-active" in html  # the vote Letta holds, shown until someone votes here
    assert re.search(r"synced <time [^>]*>1\d s ago</time>", html)
    # heartbeats are not what the user typed
    assert "automated system message" not in html


def test_list_partial_for_htmx(user_client):
    StepFactory()
    response = user_client.get(reverse("step_list"), headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="step-table"')


def test_history_restore_gets_full_page(user_client):
    html = user_client.get(reverse("step_list"), headers={**HX, "HX-History-Restore-Request": "true"}).content
    assert b"<html" in html


def test_empty_state(user_client):
    assert b"No steps yet" in user_client.get(reverse("step_list")).content
    html = user_client.get(reverse("step_list") + "?agent=nobody").content
    assert b"No steps match these filters" in html


def test_failed_sync_shows_error_in_chrome(user_client):
    SyncRunFactory(status="failed", error_message="Letta answered 401: bad API key")
    assert b"bad API key" in user_client.get(reverse("step_list")).content


def _make_steps(n):
    steps = []
    for i in range(n):
        step = StepFactory(step_time=BASE_TIME + timedelta(seconds=i))
        conversation(step)
        steps.append(step)
    return steps


@pytest.mark.parametrize(("n", "queries"), [(3, 14), (60, 18)])
def test_constant_number_of_queries(user_client, django_assert_num_queries, n, queries):
    _make_steps(n)
    # session, user, sync status, steps page, local votes, newest pushes, message previews,
    # agent names, model prices (the cost column), facet counts (read from their table: no cache
    # to warm), per-reviewer counts, the sparkline (the rollup epoch, then, drawn the first time, the
    # hourly rollups), the saved views (none here:
    # one query; with views, one more counts all their new steps); and when there is more than
    # one page, the list's count (at most LIST_EXACT_COUNT_UP_TO + 1 rows) in a savepoint that
    # sets its statement timeout (SAVEPOINT, SET LOCAL, the count, RELEASE)
    with django_assert_num_queries(queries):
        response = user_client.get(reverse("step_list") + "?status=success&tool=conversation_search")
    assert response.status_code == 200


def test_list_query_does_not_load_payload(user_client, django_assert_num_queries):
    StepFactory()
    with django_assert_num_queries(14) as ctx:
        user_client.get(reverse("step_list"))
    step_sql = next(q["sql"] for q in ctx.captured_queries if 'FROM "steps_step"' in q["sql"])
    assert '"payload"' not in step_sql


def test_keyset_pagination_walks_all_rows_once(user_client):
    # pairs of steps share a time: the id breaks the tie
    steps = [StepFactory(step_time=BASE_TIME + timedelta(seconds=i // 2)) for i in range(120)]
    seen, url = [], reverse("step_list")
    for _ in range(5):
        response = user_client.get(url, headers=HX)
        rows = response.context["rows"]
        seen += [s.pk for s, _ in rows]
        if not response.context["next_cursor"]:
            break
        url = reverse("step_list") + "?cursor=" + response.context["next_cursor"]
    expected = [s.pk for s in sorted(steps, key=lambda s: (s.step_time, s.pk), reverse=True)]
    assert seen == expected


@pytest.mark.parametrize("sort", ["-time", "tokens"])
def test_newer_walks_back_through_the_same_pages(user_client, sort):
    for i in range(130):
        StepFactory(step_time=BASE_TIME + timedelta(seconds=i // 2), prompt_tokens=i % 7)
    pages, url = [], reverse("step_list") + f"?sort={sort}"
    while url:
        response = user_client.get(url, headers=HX)
        pages.append(([s.pk for s, _ in response.context["rows"]], response.context["newer_cursor"]))
        cursor = response.context["next_cursor"]
        url = reverse("step_list") + f"?sort={sort}&cursor={cursor}" if cursor else ""
    assert len(pages) == 3 and pages[0][1] is None  # the first page has no newer one
    for index in (2, 1):
        newer = pages[index][1]
        response = user_client.get(reverse("step_list") + f"?sort={sort}&cursor={newer}", headers=HX)
        assert [s.pk for s, _ in response.context["rows"]] == pages[index - 1][0]
    assert pages[1][1] == ""  # back to the first page: no cursor at all


def test_keyset_is_a_row_comparison(user_client, django_assert_num_queries):
    StepFactory()
    first = user_client.get(reverse("step_list"))
    raw = "2026-11-25T09:30:00+00:00|step-00000000-0000-4000-8000-000000000000"
    cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    # the cursor is past every row: no vote or preview query for an empty page; one seek backwards
    # for the "Newer" link; the facet counts (one query); the sparkline (drawn by the first request: only the rollup
    # epoch is read, steps/overview/memo.py); the reviewers panel (counted by the first request, kept
    # per process: no query); the list's count (a later page cannot count itself: four statements, see above)
    with django_assert_num_queries(12) as ctx:
        user_client.get(reverse("step_list") + "?cursor=" + cursor)
    step_sql = next(q["sql"] for q in ctx.captured_queries if 'FROM "steps_step"' in q["sql"])
    assert '("steps_step"."step_time", "steps_step"."id") <' in step_sql
    assert first.status_code == 200


def test_bad_cursor_is_first_page(user_client):
    StepFactory()
    response = user_client.get(reverse("step_list") + "?cursor=%%%garbage")
    assert response.status_code == 200
    assert len(response.context["rows"]) == 1


@pytest.mark.parametrize("sort", ["-tokens", "tokens", "-duration", "duration", "time"])
def test_sorts(user_client, sort):
    a = StepFactory(prompt_tokens=10, completion_tokens=0, duration_ns=5, step_time=BASE_TIME)
    b = StepFactory(
        prompt_tokens=99, completion_tokens=0, duration_ns=50, step_time=BASE_TIME + timedelta(seconds=1)
    )
    rows = [s.pk for s, _ in user_client.get(reverse("step_list") + f"?sort={sort}").context["rows"]]
    assert rows == ([b.pk, a.pk] if sort.startswith("-") else [a.pk, b.pk])


def test_live_returns_only_newer_rows(user_client):
    old = StepFactory(step_time=BASE_TIME)
    new = StepFactory(step_time=BASE_TIME + timedelta(minutes=1))
    url = reverse("step_list_live") + f"?live=1&newest_time={old.step_time.isoformat()}&newest_id={old.pk}"
    response = user_client.get(url.replace("+", "%2B"), headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert new.pk in html and old.pk not in html
    assert 'hx-swap-oob="true"' in html
    assert "<html" not in html


def test_live_nothing_new_is_204(user_client):
    step = StepFactory()
    url = reverse("step_list_live") + f"?live=1&newest_time={step.step_time.isoformat()}&newest_id={step.pk}"
    assert user_client.get(url.replace("+", "%2B"), headers=HX).status_code == 204


def test_live_off_stops_polling(user_client):
    assert user_client.get(reverse("step_list_live"), headers=HX).status_code == 286


def test_live_poller_on_first_page_only(user_client):
    StepFactory()
    assert b'id="live-poller"' in user_client.get(reverse("step_list") + "?live=1").content
    assert b'id="live-poller"' not in user_client.get(reverse("step_list") + "?live=1&sort=-tokens").content


def test_preview_uses_last_assistant_text(user_client):
    step = StepFactory()
    MessageFactory(step=step, position=0, message_type="assistant_message", content="first answer")
    MessageFactory(step=step, position=1, message_type="assistant_message", content="last answer")
    assert b"last answer" in user_client.get(reverse("step_list")).content
    assert Step.objects.count() == 1


def test_sync_times_in_the_chrome_carry_their_iso_time(user_client):
    good = SyncRunFactory()
    failed = SyncRunFactory(status="failed", error_message="Letta answered 503")
    html = user_client.get(reverse("step_list")).content.decode()
    chrome = html[html.index('id="sync-status"') :]
    chrome = chrome[: chrome.index("</div>")]
    for run in (good, failed):
        iso = timezone.localtime(run.finished_at).isoformat()
        assert f'<time datetime="{iso}" title="{iso}">' in chrome


@pytest.mark.parametrize("until", ["9999-12-31T23:59:59", "0001-01-01T00:00:00"])
def test_a_date_out_of_range_is_the_forms_error_and_the_list_still_shows(user_client, until):
    step = StepFactory()
    response = user_client.get("/", {"until": until})
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "out of range: use one from 1970 to 9998" in html
    assert step.pk in html


def test_the_first_and_last_dates_a_filter_takes_list_their_steps(user_client):
    step = StepFactory()
    response = user_client.get("/", {"since": "1970-01-01T00:00Z", "until": "9998-12-31T23:59:59Z"})
    html = unescape(response.content.decode())
    assert step.pk in html and "out of range" not in html
    assert 'id="list-sparkline"' in html  # its hours run to the first hour of 9999
