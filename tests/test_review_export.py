"""A queue's exports: each reviewer's scores with the verdict (CSV, JSONL), streamed in chunks,
and the fine-tuning export limited to the steps whose verdict passes a condition."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from steps.review import export as review_export
from steps.review.models import QueueItem
from tests.factories import ProviderTraceFactory, StepFactory, UserFactory
from tests.finetune_shape import check_chat_example
from tests.review_data import make_queue

pytestmark = pytest.mark.django_db
HOSTILE = '=HYPERLINK("http://evil.example","x")\n"quoted", ünïcødé'


@pytest.fixture
def team():
    return UserFactory(username="ann"), UserFactory(username="bob")


def download(client, url: str):
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def resolve(item: QueueItem, verdict: dict, state=QueueItem.State.DONE, by=None):
    from django.utils import timezone

    QueueItem.objects.filter(pk=item.pk).update(
        verdict=verdict, state=state, resolved_at=timezone.now(), adjudicated_by=by
    )


@pytest.fixture
def queue(team):
    ann, bob = team
    queue = make_queue(
        [
            {
                ann: {"verdict": "positive", "accuracy": 5, "topic": "bug", "_note": HOSTILE},
                bob: {"verdict": "positive", "accuracy": 4, "topic": "bug"},
            },
            {
                ann: {"verdict": "negative", "accuracy": 2, "topic": "billing"},
                bob: {"verdict": "positive", "accuracy": 3, "topic": "other", "comment": "close call"},
            },
            {},  # not reviewed yet
        ],
        steps=[ProviderTraceFactory().step, ProviderTraceFactory().step, StepFactory()],
    )
    first, second, _ = queue.items.order_by("position")
    resolve(first, {"verdict": "positive", "accuracy": 4, "topic": "bug"})
    resolve(second, {"verdict": "negative", "accuracy": 3, "topic": "other"}, by=ann)
    return queue


def test_csv_has_a_row_per_review_with_the_verdict(client, queue, team):
    client.force_login(UserFactory(role="viewer"))  # reading, so every role
    response, body = download(client, reverse("review:queue_export", args=[queue.pk]) + "?format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.streaming and "letta-reviews_triage-" in response["Content-Disposition"]
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert len(rows) == 4  # two reviews of two steps; the unreviewed step has no row
    first = rows[0]
    assert (
        first["reviewer"] == "ann" and first["score:verdict"] == "positive" and first["score:accuracy"] == "5"
    )
    assert first["verdict:accuracy"] == "4" and first["verdict_by"] == "policy"
    assert first["note"] == "'" + HOSTILE  # a formula stays text in a spreadsheet, newlines kept
    assert first["seconds"] == "10.0" and first["submitted_at_utc"]
    adjudicated = [r for r in rows if r["verdict_by"] == "ann"]
    assert len(adjudicated) == 2 and adjudicated[1]["score:comment"] == "close call"
    assert {r["step_id"] for r in rows} == {i.step_id for i in queue.items.filter(reviews_count__gt=0)}


def test_jsonl_has_a_line_per_item_with_its_reviews(client, queue):
    client.force_login(UserFactory())
    response, body = download(client, reverse("review:queue_export", args=[queue.pk]) + "?format=jsonl")
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert len(lines) == 3
    by_state = {line["state"]: line for line in lines}
    assert by_state["waiting"]["reviews"] == [] and by_state["waiting"]["verdict"] is None
    done = sorted((line for line in lines if line["state"] == "done"), key=lambda line: line["position"])
    assert done[0]["verdict"] == {"verdict": "positive", "accuracy": 4, "topic": "bug"}
    assert [r["reviewer"] for r in done[0]["reviews"]] == ["ann", "bob"]
    assert done[0]["reviews"][0]["note"] == HOSTILE and done[0]["reviews"][0]["scores"]["accuracy"] == 5
    assert done[1]["verdict_by"] == "ann"


def test_the_walk_costs_the_same_per_chunk(client, team, monkeypatch):
    ann, bob = team
    queue = make_queue([{ann: {"verdict": "positive"}, bob: {"verdict": "negative"}}] * 23)
    client.force_login(UserFactory())
    url = reverse("review:queue_export", args=[queue.pk]) + "?format=csv"

    def queries(chunk: int) -> tuple[int, int]:
        monkeypatch.setattr(review_export, "CHUNK", chunk)
        with CaptureQueriesContext(connection) as captured:
            _, body = download(client, url)
        return len(captured), body.count(b"\r\n") - 1

    one_chunk, rows = queries(50)
    five_chunks, same_rows = queries(5)
    assert rows == same_rows == 46  # every review once, whatever the chunking
    # 23 items in 5 a chunk: 5 chunks, two queries each (items, their reviews)
    assert five_chunks - one_chunk == 4 * 2


@pytest.mark.parametrize(
    "condition", ["", "verdict = positive, accuracy >= 4", "accuracy >= 3", "topic != bug"]
)
def test_finetune_only_the_steps_whose_verdict_passes(client, queue, condition):
    client.force_login(UserFactory())
    url = reverse("review:queue_export", args=[queue.pk])
    response, body = download(client, f"{url}?format=finetune&condition={condition}")
    assert response.status_code == 200
    examples = [json.loads(line) for line in body.decode().splitlines()]
    for example in examples:
        check_chat_example(example)
    first, second, _ = queue.items.order_by("position")
    expected = {
        "": {first.step_id, second.step_id},
        "verdict = positive, accuracy >= 4": {first.step_id},
        "accuracy >= 3": {first.step_id, second.step_id},
        "topic != bug": {second.step_id},
    }[condition]
    assert response.export_stats.steps == len(expected)
    assert len(examples) == len(expected)
    clauses = review_export.parse_condition(queue, condition)
    assert set(review_export.passing_items(queue, clauses).values_list("step_id", flat=True)) == expected


def test_a_waiting_or_adjudicate_item_never_passes(queue):
    first = queue.items.order_by("position").first()
    resolve(first, {"verdict": "positive", "accuracy": 5}, state=QueueItem.State.ADJUDICATE)
    clauses = review_export.parse_condition(queue, "verdict = positive")
    assert not review_export.passing_items(queue, clauses).exists()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("format=finetune&condition=speed >= 4", "no item “speed”"),
        ("format=finetune&condition=accuracy >= high", "whole number"),
        ("format=xml", "Unknown format “xml”"),
    ],
)
def test_bad_requests_are_a_400_page_that_says_why(client, queue, query, message):
    client.force_login(UserFactory())
    response = client.get(reverse("review:queue_export", args=[queue.pk]) + "?" + query)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and "Export fine-tuning JSONL" in page


def test_the_export_page_offers_every_download(client, queue):
    client.force_login(UserFactory())
    page = client.get(reverse("review:queue_export", args=[queue.pk])).content.decode()
    base = reverse("review:queue_export", args=[queue.pk])
    assert f"{base}?format=csv" in page and f"{base}?format=jsonl" in page
    assert 'placeholder="verdict = positive, accuracy &gt;= 4"' in page
    assert (
        reverse("review:queue_export", args=[queue.pk])
        in client.get(reverse("review:queue_agreement", args=[queue.pk])).content.decode()
    )


def test_a_pairwise_queue_has_no_finetune_export(client, team):
    ann, bob = team
    queue = make_queue([{ann: {"verdict": "a"}, bob: {"verdict": "b"}}], kind="pairwise")
    client.force_login(UserFactory())
    response = client.get(reverse("review:queue_export", args=[queue.pk]) + "?format=finetune")
    assert response.status_code == 400 and "takes single-step queues" in response.content.decode()
    _, body = download(client, reverse("review:queue_export", args=[queue.pk]) + "?format=jsonl")
    assert json.loads(body)["step_b_id"]


# --- the API -------------------------------------------------------------------------------------


def api_download(api, url: str):
    response = api.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body.decode("utf-8-sig")


def test_api_queue_export(api, queue):
    response, text = api_download(api, f"/api/v1/queues/{queue.pk}/export/?format=jsonl")
    assert response.status_code == 200 and len(text.splitlines()) == 3
    response, text = api_download(api, f"/api/v1/queues/{queue.pk}/export/")
    assert response["Content-Type"].startswith("text/csv") and not text.startswith("\ufeff")
    assert len(list(csv.DictReader(io.StringIO(text)))) == 4
    bad = api.get(f"/api/v1/queues/{queue.pk}/export/?format=xml")
    assert bad.status_code == 400 and "format" in bad.json()["errors"]
    assert api.get("/api/v1/queues/987654/export/").status_code == 404


def test_api_step_export_limited_by_a_verdict_condition(api, queue):
    first, second, _ = queue.items.order_by("position")
    url = f"/api/v1/steps/export/?format=finetune&queue={queue.pk}&condition=verdict%20%3D%20positive%2C%20accuracy%20%3E%3D%204"
    response, text = api_download(api, url)
    assert response.status_code == 200 and len(text.splitlines()) == 1
    response, text = api_download(api, f"/api/v1/steps/export/?format=csv&queue={queue.pk}")
    assert {row["step_id"] for row in csv.DictReader(io.StringIO(text))} == {first.step_id, second.step_id}
    for query, field, message in [
        ("condition=verdict%3Dpositive", "queue", "needs the queue"),
        (f"queue={queue.pk}&condition=speed%3E1", "condition", "no item “speed”"),
        ("queue=987654&condition=verdict%3Dpositive", "condition", "no queue 987654"),
        ("queue=abc", "queue", ""),
    ]:
        bad = api.get(f"/api/v1/steps/export/?format=finetune&{query}")
        assert bad.status_code == 400, query
        assert message in " ".join(bad.json()["errors"][field]), query
