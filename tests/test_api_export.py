"""GET /api/v1/steps/export/: a script holding only a token downloads the list's filtered set."""

import csv
import io
import json
from datetime import timedelta

import pytest

from tests.factories import BASE_TIME, StepFactory, conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def steps():
    made = [
        StepFactory(step_time=BASE_TIME + timedelta(minutes=i), **({"failed": True} if i % 3 == 0 else {}))
        for i in range(9)
    ]
    conversation(made[3], user_text="=cmd|' /C calc'!A0", answer="done")
    return made


def download(api, query: str):
    response = api.get(f"/api/v1/steps/export/?{query}")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body.decode("utf-8-sig")


def test_csv_of_a_filter_holds_exactly_the_filtered_steps_newest_first(api, steps):
    response, text = download(api, "status=failed&format=csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "status-failed" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(text)))
    failed = sorted((s for s in steps if s.status == "failed"), key=lambda s: s.step_time, reverse=True)
    assert [row["step_id"] for row in rows] == [s.pk for s in failed]
    assert not text.startswith("\ufeff")  # no BOM unless asked: scripts parse it
    # model output that looks like a formula is neutralised in the file
    assert {row["first_user_text"] for row in rows} >= {"'=cmd|' /C calc'!A0"}


def test_jsonl_lines_carry_each_steps_messages(api, steps):
    response, text = download(api, "format=jsonl&sort=time")

    lines = [json.loads(line) for line in text.splitlines()]
    assert response["Content-Type"].startswith("application/x-ndjson")
    assert [line["id"] for line in lines] == [s.pk for s in steps]
    assert any(m.get("content") == "done" or "done" in json.dumps(m) for m in lines[3]["messages"])


@pytest.mark.parametrize(
    "query, field",
    [
        ("status=bogus", "status"),
        ("format=xlsx", "format"),
        ("prompt_min=-1", "prompt_min"),
        ("traces=maybe", "traces"),
        ("hidden=2", "hidden"),
    ],
)
def test_bad_parameters_are_a_json_400_naming_them_never_an_export_of_everything(api, steps, query, field):
    response = api.get(f"/api/v1/steps/export/?{query}")

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_export_needs_a_token_or_a_session(client, steps):
    response = client.get("/api/v1/steps/export/?format=csv")

    assert response.status_code == 401
    assert response.json()["detail"]
