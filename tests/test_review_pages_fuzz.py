"""Hostile form fields to the review pages' POSTs (create a queue, settings, submit, adjudicate):
never a 5xx, and a refused form saves nothing it should not."""

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from steps.review import reserve, submit
from steps.review.models import Queue, QueueItem
from tests.factories import StepFactory, UserFactory
from tests.review_helpers import FULL, make_queue
from tests.test_fuzz import FUZZ_SETTINGS, GOOD_RUN, GOOD_STEP, HOSTILE

pytestmark = pytest.mark.django_db

VALUES = st.one_of(
    st.sampled_from(
        HOSTILE + [GOOD_STEP, GOOD_RUN, "pairwise", "live", "assigned", "selection", "runs", "filters"]
    ),
    st.text(max_size=30),
    st.lists(st.sampled_from(HOSTILE + [GOOD_STEP]), max_size=3),
)
CREATE_FIELDS = [
    "stage",
    "name",
    "query",
    "rubric",
    "kind",
    "mode",
    "reviewers_per_item",
    "reservation_minutes",
    "access",
    "assigned",
    "instructions",
    "tag_items",
    "write_feedback",
    "step_ids",
    "pair_source",
    "run_a",
    "run_b",
    "query_b",
    "archive",
]


@pytest.fixture
def world():
    boss = UserFactory(username="boss", role="manager")
    steps = [StepFactory(id=GOOD_STEP, run_id=GOOD_RUN), StepFactory(), StepFactory()]
    queue = make_queue(steps, items=FULL, k=2, user=boss)
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    tied = reserve.next_item(queue, ann)
    full = {"accuracy": 3, "topic": "bug"}
    submit.submit_review(tied, ann, {"verdict": "positive", **full})
    submit.submit_review(reserve.next_item(queue, bob), bob, {"verdict": "negative", **full})
    client = Client(enforce_csrf_checks=True)
    client.force_login(boss)
    client.get("/")
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    fields = [f"item-{pk}" for pk in queue.rubric.items.values_list("pk", flat=True)]
    tied = QueueItem.objects.get(pk=tied.pk)
    return {"client": client, "boss": boss, "queue": queue, "tied": tied, "fields": fields}


def check(response, what):
    assert response.status_code < 500, f"{what} answered {response.status_code}"


@FUZZ_SETTINGS
@given(body=st.dictionaries(st.sampled_from(CREATE_FIELDS), VALUES, min_size=1), htmx=st.booleans())
def test_queue_forms_with_hostile_fields(world, body, htmx):
    client, queue = world["client"], world["queue"]
    headers = {"HX-Request": "true"} if htmx else {}
    check(client.post(reverse("review:queue_new"), body, headers=headers), f"create {body!r:.300}")
    check(client.get(reverse("review:queue_new"), body, headers=headers), f"create form {body!r:.300}")
    edit = reverse("review:queue_edit", args=[queue.pk])
    check(client.post(edit, body, headers=headers), f"settings {body!r:.300}")
    Queue.objects.filter(pk=queue.pk).update(archived_at=None)  # an archive= the fuzzer sent


@FUZZ_SETTINGS
@given(data=st.data(), htmx=st.booleans())
def test_review_and_adjudication_forms_with_hostile_fields(world, data, htmx):
    client, queue = world["client"], world["queue"]
    names = st.sampled_from(world["fields"] + ["note", "shown_at"])
    body = data.draw(st.dictionaries(names, VALUES, min_size=1))
    headers = {"HX-Request": "true"} if htmx else {}
    item = reserve.next_item(queue, world["boss"])
    if item is not None:
        url = reverse("review:item_submit", args=[queue.pk, item.pk])
        check(client.post(url, body, headers=headers), f"submit {body!r:.300}")
    url = reverse("review:item_adjudicate", args=[queue.pk, world["tied"].pk])
    check(client.post(url, body, headers=headers), f"adjudicate {body!r:.300}")
