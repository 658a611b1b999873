"""Hostile JSON bodies to the review-queue endpoints: never a 5xx, and hostile text stays text."""

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from steps.review.models import QueueItem, Review
from tests.factories import StepFactory, UserFactory
from tests.review_helpers import FULL, make_queue
from tests.test_fuzz import FUZZ_SETTINGS, HOSTILE

pytestmark = pytest.mark.django_db

SCALARS = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=20),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
ITEM = st.fixed_dictionaries(
    {
        "name": st.one_of(st.sampled_from(HOSTILE), st.text(max_size=10)),
        "kind": st.sampled_from(["thumbs", "categorical", "scale", "boolean", "text", "x"]),
    },
    optional={"choices": JSONISH, "choice_labels": JSONISH, "required": JSONISH, "description": JSONISH},
)


@pytest.fixture
def world():
    boss = UserFactory(username="boss", role="manager")
    steps = [StepFactory(), StepFactory()]
    queue = make_queue(steps, items=FULL, k=2, user=boss)
    client = Client(enforce_csrf_checks=True)
    client.force_login(boss)
    client.get("/")
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return {"client": client, "queue": queue, "step": steps[0]}


def check(response, what):
    assert response.status_code < 500, f"{what} answered {response.status_code}"


@FUZZ_SETTINGS
@given(
    body=st.fixed_dictionaries(
        {},
        optional={
            "name": JSONISH,
            "query": st.one_of(st.sampled_from(HOSTILE), JSONISH),
            "mode": st.sampled_from(["snapshot", "live", "x"]),
            "rubric": st.one_of(st.lists(ITEM, max_size=3), JSONISH),
            "reviewers_per_item": JSONISH,
            "reservation_minutes": JSONISH,
            "kind": st.sampled_from(["single", "pairwise", "x"]),
            "access": st.sampled_from(["any", "assigned"]),
            "assigned": JSONISH,
            "tag_items": JSONISH,
            "step_ids": JSONISH,
            "pairs": JSONISH,
            "instructions": JSONISH,
        },
    )
)
def test_creating_queues_with_hostile_bodies(world, body):
    check(
        world["client"].post("/api/v1/queues/", body, content_type="application/json"),
        f"create {body!r:.300}",
    )


@FUZZ_SETTINGS
@given(
    scores=st.one_of(
        st.dictionaries(
            st.sampled_from(["verdict", "accuracy", "topic", "polite", "comment", "\x00"]), JSONISH
        ),
        JSONISH,
    ),
    note=JSONISH,
    which=st.integers(0, 1),
)
def test_reviews_and_verdicts_with_hostile_bodies(world, scores, note, which):
    queue, step = world["queue"], world["step"]
    if which == 0:
        url, body = f"/api/v1/queues/{queue.pk}/items/{step.pk}/reviews/", {"scores": scores, "note": note}
    else:
        QueueItem.objects.filter(step=step).update(state="adjudicate")
        url, body = f"/api/v1/queues/{queue.pk}/items/{step.pk}/adjudicate/", {"verdict": scores}
    check(world["client"].post(url, body, content_type="application/json"), f"{url} {body!r:.300}")
    Review.objects.all().delete()
    QueueItem.objects.update(state="waiting", reviews_count=0)


def test_hostile_text_in_a_review_comes_back_as_text(world):
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    queue, step = world["queue"], world["step"]
    body = {
        "scores": {"verdict": "positive", "accuracy": 3, "topic": "bug", "comment": hostile},
        "note": hostile,
    }
    answer = world["client"].post(
        f"/api/v1/queues/{queue.pk}/items/{step.pk}/reviews/", body, content_type="application/json"
    )
    assert answer.status_code == 201
    assert answer.json()["note"] == hostile and answer.json()["scores"]["comment"] == hostile
    assert answer["Content-Type"] == "application/json"
