"""The audit trail page and its CSV export: managers only, filters, paging by a time cursor over
both sources, escaping, and bad input answered with a 400."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from steps.audit import record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return UserFactory(username="max", role="manager")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def rows(html: str) -> list[str]:
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", "<tr" + row)).strip() for row in body.split("<tr")[1:]
    ]


@pytest.mark.parametrize("role", ["viewer", "reviewer"])
def test_only_managers_see_the_trail(client, role):
    client.force_login(UserFactory(username="someone", role=role))
    for url in ("/audit/", "/audit/export.csv"):
        response = client.get(url)
        assert response.status_code == 403 and "Only managers" in response.content.decode()
    assert 'href="/audit/"' not in client.get("/").content.decode()


def test_a_manager_gets_the_nav_link_and_the_newest_first(manager_client, manager):
    rita = UserFactory(username="rita")
    record(rita, "vote.cast", ("step", "step-1", "step-1"), {"feedback": ""}, {"feedback": "positive"})
    record(rita, "tags.change", ("step", "step-1", "step-1"), {"tags": []}, {"tags": ["slow", "wrong-tool"]})
    html = manager_client.get("/").content.decode()
    assert 'href="/audit/"' in html
    html = manager_client.get("/audit/").content.decode()
    shown = rows(html)
    assert "rita changed tags" in shown[0] and "tags: (none) → slow, wrong-tool" in shown[0]
    assert "rita voted" in shown[1] and "feedback: (empty) → positive" in shown[1]


def test_model_output_is_escaped(manager_client, manager):
    record(
        manager, "note.change", ("step", "step-1", "step-1"), {"notes": ""}, {"notes": "<script>x()</script>"}
    )
    html = manager_client.get("/audit/").content.decode()
    assert "<script>x()" not in html and "&lt;script&gt;x()" in html


def test_filters_by_person_action_and_time(manager_client, manager):
    rita, sam = UserFactory(username="rita"), UserFactory(username="sam")
    record(rita, "vote.cast", ("step", "s1", "s1"))
    record(sam, "vote.cast", ("step", "s2", "s2"))
    record(rita, "note.change", ("step", "s3", "s3"))
    by_rita = rows(manager_client.get("/audit/", {"person": "RITA"}).content.decode())
    assert len(by_rita) == 2 and all(r.split()[2] == "rita" for r in by_rita)
    votes = rows(manager_client.get("/audit/", {"action": "vote.cast"}).content.decode())
    assert {r.split()[2] for r in votes} == {"rita", "sam"}
    today = timezone.localdate()
    assert (
        len(
            rows(
                manager_client.get(
                    "/audit/", {"since": today, "until": today, "person": "sam"}
                ).content.decode()
            )
        )
        == 1
    )
    future = today + timedelta(days=1)
    empty = manager_client.get("/audit/", {"since": future}).content.decode()
    assert "Nothing matches these filters" in empty


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"person": "nobody-here"}, "No user is named “nobody-here”"),
        ({"since": "yesterday"}, "Enter a valid date"),
        ({"since": "2026-12-02", "until": "2026-12-01"}, "The end is before the start"),
        ({"action": "vote.delete"}, "Select a valid choice"),
        ({"cursor": "garbage"}, "This page link is damaged"),
        ({"cursor": "2026-13-01T00:00:00~1~5"}, "This page link is damaged"),
    ],
)
def test_bad_filters_are_a_400_that_says_why(manager_client, manager, params, message):
    record(manager, "vote.cast", ("step", "s1", "s1"))
    response = manager_client.get("/audit/", params)
    assert response.status_code == 400 and message in response.content.decode()
    assert any("vote.cast" in row for row in rows(response.content.decode()))  # the trail still shows
    assert manager_client.get("/audit/export.csv", params).status_code == 400


def test_pages_merge_the_admin_log_by_time_without_gaps_or_repeats(
    manager_client, manager, django_assert_max_num_queries
):
    start = timezone.now() - timedelta(hours=1)
    kind = ContentType.objects.get_for_model(manager)
    for i in range(70):
        record(manager, "vote.cast", ("step", f"step-{i}", f"step-{i}"))
    for i in range(12):
        LogEntry.objects.create(
            user=manager,
            content_type=kind,
            object_id=str(manager.pk),
            object_repr=f"entry {i}",
            action_flag=CHANGE,
            change_message="[]",
            action_time=start + timedelta(minutes=i),
        )
    seen, url, pages = [], "/audit/", 0
    while url:
        with django_assert_max_num_queries(8):  # the same few queries on every page
            html = manager_client.get(url).content.decode()
        seen += rows(html)
        found = re.search(r'href="\?([^"]*cursor[^"]*)" rel="next"', html)
        url = f"/audit/?{found.group(1).replace('&amp;', '&')}" if found else ""
        pages += 1
    assert pages == 2
    assert len(seen) == len(set(seen))  # nothing shown twice
    assert sum("vote.cast" in r for r in seen) == 70
    # the admin entries are older than every event: they come last, newest first
    assert [re.search(r"entry \d+", r).group() for r in seen[-12:]] == [
        f"entry {i}" for i in range(11, -1, -1)
    ]


def test_the_csv_export_holds_the_filtered_trail_whole_and_safe(manager_client, manager):
    rita = UserFactory(username="rita")
    record(rita, "note.change", ("step", "step-1", "step-1"), {"notes": ""}, {"notes": '=HYPERLINK("x")'})
    record(manager, "vote.cast", ("step", "step-2", "step-2"))
    response = manager_client.get("/audit/export.csv", {"person": "rita"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-trail_')
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert table[0][:3] == ["time (UTC)", "person", "action"]
    assert [r[1:3] for r in table[1:]] == [["rita", "note.change"]]
    assert table[1][7] == '{"notes": "=HYPERLINK(\\"x\\")"}'  # JSON starts with {, never a formula


def test_a_csv_cell_that_would_be_a_formula_is_quoted(manager_client):
    evil = UserFactory(username="=cmd")
    record(evil, "vote.cast", ("step", "step-1", "-2+3"))
    table = list(
        csv.reader(
            io.StringIO(
                b"".join(manager_client.get("/audit/export.csv").streaming_content).decode("utf-8-sig")
            )
        )
    )
    row = next(r for r in table if r[2] == "vote.cast")
    assert row[1] == "'=cmd" and row[5] == "'-2+3"
