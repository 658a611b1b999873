"""The review pages through the test client: creating a queue from the step list, reviewing one step
after another with htmx, skip and undo, the diff key's fragment, adjudication, and who may do what."""

import pytest
from django.urls import reverse

from steps.models import Step
from steps.review import reserve, submit
from steps.review.models import Queue, QueueItem, Review
from tests.factories import StepFactory, UserFactory, conversation
from tests.review_helpers import FULL, make_queue

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def steps():
    made = [StepFactory(model="gpt-4o-mini") for _ in range(3)] + [StepFactory(model="claude-sonnet-4")]
    for i, step in enumerate(made):
        conversation(step, user_text=f"question number {i}", answer=f"answer number {i}")
    return made


def signed_in(client, role="reviewer", username=None):
    user = UserFactory(role=role, **({"username": username} if username else {}))
    client.force_login(user)
    return user


def answer(queue, item, **values):
    items = {i.name: i for i in queue.rubric.items.all()}
    return {f"item-{items[name].pk}": value for name, value in values.items()}


def test_review_is_in_the_navigation_and_lists_queues_with_their_progress(client, steps):
    signed_in(client)
    queue = make_queue(steps, k=1)
    page = client.get(reverse("step_list")).content.decode()
    assert 'href="/review/"' in page and ">Review</a>" in page
    listing = client.get(reverse("review:queue_list")).content.decode()
    assert queue.name in listing and reverse("review:queue_review", args=[queue.pk]) in listing


def test_a_manager_sends_the_current_filter_to_a_new_queue(client, steps):
    manager = signed_in(client, "manager")
    listing = client.get(reverse("step_list") + "?model=gpt-4o-mini").content.decode()
    assert "Send to queue…" in listing and "query=model%3Dgpt-4o-mini" in listing
    form = client.get(reverse("review:queue_new") + "?query=model%3Dgpt-4o-mini")
    assert form.status_code == 200 and "gpt-4o-mini" in form.content.decode()
    response = client.post(
        reverse("review:queue_new"),
        {
            "name": "Mini answers",
            "query": "model=gpt-4o-mini",
            "rubric": "thumbs",
            "kind": "single",
            "mode": "snapshot",
            "reviewers_per_item": "2",
            "reservation_minutes": "15",
            "access": "any",
            "write_feedback": "on",
        },
    )
    queue = Queue.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "review:queue_detail", args=[queue.pk]
    )
    assert queue.items_total == 3 and queue.reviewers_per_item == 2 and queue.created_by == manager
    assert list(queue.rubric.items.values_list("kind", flat=True)) == ["thumbs"]
    detail = client.get(response["Location"]).content.decode()
    assert "Start reviewing" in detail and f"/review/queues/{queue.pk}/agreement/" in detail


def test_the_selected_rows_make_a_queue(client, steps):
    signed_in(client, "manager")
    chosen = [steps[3].pk, steps[0].pk]
    form = client.post(reverse("review:queue_new"), {"stage": "select", "step_ids": chosen, "query": ""})
    assert form.status_code == 200 and "<b>2</b> selected steps" in form.content.decode()
    assert Queue.objects.count() == 0  # showing the form creates nothing
    body = {"name": "Two", "rubric": "thumbs", "kind": "single", "mode": "snapshot", "step_ids": chosen}
    body.update(reviewers_per_item="1", reservation_minutes="30", access="any")
    client.post(reverse("review:queue_new"), body)
    queue = Queue.objects.get()
    assert list(queue.items.order_by("position").values_list("step_id", flat=True)) == chosen


def test_a_bad_create_form_is_a_400_that_keeps_what_was_typed(client, steps):
    signed_in(client, "manager")
    body = {
        "name": "Kept name",
        "query": "status=bogus",
        "rubric": "thumbs",
        "kind": "single",
        "mode": "live",
    }
    body.update(reviewers_per_item="0", reservation_minutes="30", access="assigned")
    response = client.post(reverse("review:queue_new"), body)
    page = response.content.decode()
    assert response.status_code == 400 and Queue.objects.count() == 0
    assert (
        'value="Kept name"' in page
        and "Fix the filter first" in page
        and "Pick at least one reviewer" in page
    )


def test_reviewing_goes_from_step_to_step_until_done(client, steps):
    user = signed_in(client)
    queue = make_queue(steps[:2], k=1)
    first = client.get(reverse("review:queue_review", args=[queue.pk])).content.decode()
    assert "question number 0" in first and "answer number 0" in first and 'id="rubric-form"' in first
    item = QueueItem.objects.get(queue=queue, reserved_by=user)
    nxt = client.post(
        reverse("review:item_submit", args=[queue.pk, item.pk]),
        {**answer(queue, item, verdict="positive"), "note": "fine", "shown_at": "not a time"},
        headers=HTMX,
    )
    fragment = nxt.content.decode()
    assert (
        nxt.status_code == 200
        and fragment.strip().startswith('<div id="work"')
        and "question number 1" in fragment
    )
    assert Review.objects.get(item=item).scores == {"verdict": "positive"}
    second = QueueItem.objects.get(queue=queue, reserved_by=user)
    done = client.post(
        reverse("review:item_submit", args=[queue.pk, second.pk]),
        answer(queue, second, verdict="negative"),
        headers=HTMX,
    )
    assert "All done here" in done.content.decode()
    queue.refresh_from_db()
    assert queue.items_done == 2


def test_an_unanswered_required_item_is_a_400_naming_it_and_saves_nothing(client, steps):
    signed_in(client)
    queue = make_queue(steps[:1], items=FULL)
    client.get(reverse("review:queue_review", args=[queue.pk]))
    item = QueueItem.objects.get(queue=queue)
    response = client.post(
        reverse("review:item_submit", args=[queue.pk, item.pk]),
        answer(queue, item, verdict="positive"),
        headers=HTMX,
    )
    assert response.status_code == 400 and "accuracy" in response.content.decode()
    assert not Review.objects.exists()
    # a full answer, in the form's own text, is saved with its kinds' values
    ok = answer(queue, item, verdict="negative", accuracy="4", topic="bug", polite="false", comment="meh")
    client.post(reverse("review:item_submit", args=[queue.pk, item.pk]), ok, headers=HTMX)
    scores = Review.objects.get().scores
    assert scores == {"verdict": "negative", "accuracy": 4, "topic": "bug", "polite": False, "comment": "meh"}


def test_a_step_taken_meanwhile_moves_on_and_says_why(client, steps):
    user = signed_in(client)
    other = UserFactory()
    queue = make_queue(steps[:2], k=1)
    theirs = reserve.next_item(queue, other)
    response = client.post(
        reverse("review:item_submit", args=[queue.pk, theirs.pk]),
        answer(queue, theirs, verdict="positive"),
        headers=HTMX,
    )
    assert response.status_code == 200 and "reviewNotice" in response["HX-Trigger"]
    assert not Review.objects.filter(reviewer=user).exists()
    assert "question number 1" in response.content.decode()  # their own next step instead


def test_skip_then_undo(client, steps):
    user = signed_in(client)
    queue = make_queue(steps[:3], k=2)  # a step done at k reviews can no longer be undone
    client.get(reverse("review:queue_review", args=[queue.pk]))
    first = QueueItem.objects.get(queue=queue, reserved_by=user)
    skipped = client.post(
        reverse("review:item_skip", args=[queue.pk, first.pk]), headers=HTMX
    ).content.decode()
    assert "question number 1" in skipped
    second = QueueItem.objects.get(queue=queue, reserved_by=user)
    client.post(
        reverse("review:item_submit", args=[queue.pk, second.pk]),
        {**answer(queue, second, verdict="negative"), "note": "wrong tool"},
        headers=HTMX,
    )
    undone = client.post(reverse("review:queue_undo", args=[queue.pk]), headers=HTMX).content.decode()
    assert "question number 1" in undone and "wrong tool" in undone  # the answers are back to change
    assert 'value="negative" checked' in undone
    assert not Review.objects.exists()


def test_the_diff_key_shows_the_previous_step_of_the_run(client):
    signed_in(client)
    run_id = "run-00000000-0000-4000-8000-0000000000aa"
    earlier, later = StepFactory(run_id=run_id), StepFactory(run_id=run_id)
    for position, step in enumerate((earlier, later)):
        Step.objects.filter(pk=step.pk).update(run_position=position)  # the sync's, not the factory's
    queue = make_queue([earlier, later], k=1)
    first, second = queue.items.order_by("position")
    page = client.get(reverse("review:item_diff", args=[queue.pk, second.pk]), headers=HTMX).content.decode()
    assert reverse("compare_steps", args=[earlier.pk, later.pk]) in page and "Request messages" in page
    alone = client.get(reverse("review:item_diff", args=[queue.pk, first.pk]), headers=HTMX).content.decode()
    assert "first step of its run" in alone


def test_hostile_rubric_text_stays_text(client, steps):
    signed_in(client)
    hostile = "<script>alert(1)</script>"
    items = [
        {"name": "verdict", "kind": "thumbs", "description": hostile},
        {"name": "topic", "kind": "categorical", "choices": [hostile, "<b>bold</b>"]},
    ]
    queue = make_queue(steps[:1], items=items)
    Queue.objects.filter(pk=queue.pk).update(instructions=hostile)
    page = client.get(reverse("review:queue_review", args=[queue.pk])).content.decode()
    assert (
        hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<b>bold</b>" not in page
    )


def test_pairwise_shows_a_and_b_with_a_b_tie_choices(client, steps):
    signed_in(client)
    queue = make_queue([], kind="pairwise", pairs=[(steps[0].pk, steps[3].pk)])
    page = client.get(reverse("review:queue_review", args=[queue.pk])).content.decode()
    assert "question number 0" in page and "question number 3" in page
    assert 'value="a"' in page and 'value="b"' in page and 'value="tie"' in page
    assert "Structural diff, A → B" in page


def test_a_tie_is_adjudicated_by_a_manager(client, steps):
    ann, bob = UserFactory(), UserFactory()
    queue = make_queue(steps[:1], k=2)
    for user, value in ((ann, "positive"), (bob, "negative")):
        submit.submit_review(reserve.next_item(queue, user), user, {"verdict": value})
    item = QueueItem.objects.get(queue=queue)
    assert item.state == QueueItem.State.ADJUDICATE
    signed_in(client)  # a reviewer reads why, and may not decide
    page = client.get(reverse("review:queue_adjudicate", args=[queue.pk])).content.decode()
    assert ann.username in page and bob.username in page and "Only managers decide" in page
    refused = client.post(reverse("review:item_adjudicate", args=[queue.pk, item.pk]), {}, headers=HTMX)
    assert refused.status_code == 403
    signed_in(client, "manager")
    decided = client.post(
        reverse("review:item_adjudicate", args=[queue.pk, item.pk]),
        answer(queue, item, verdict="negative"),
        headers=HTMX,
    )
    assert decided.status_code == 200 and "decided" in decided.content.decode()
    item.refresh_from_db()
    assert item.state == QueueItem.State.DONE and item.verdict["verdict"] == "negative"


def test_who_may_do_what(client, steps):
    queue = make_queue(steps[:2], k=1)
    item = queue.items.first()
    signed_in(client, "viewer")
    assert client.get(reverse("review:queue_detail", args=[queue.pk])).status_code == 200
    assert client.get(reverse("review:queue_review", args=[queue.pk])).status_code == 403
    assert (
        client.post(reverse("review:item_submit", args=[queue.pk, item.pk]), headers=HTMX).status_code == 403
    )
    assert client.get(reverse("review:queue_new")).status_code == 403
    signed_in(client)  # a reviewer works queues but does not make or change them
    assert client.get(reverse("review:queue_new")).status_code == 403
    assert client.post(reverse("review:queue_edit", args=[queue.pk]), {"name": "x"}).status_code == 403
    assert "Send to queue…" not in client.get(reverse("step_list")).content.decode()
    assigned = make_queue(steps[2:], access="assigned", assigned=[UserFactory()])
    assert client.get(reverse("review:queue_review", args=[assigned.pk])).status_code == 403
    assert not Review.objects.exists()


def test_a_manager_changes_settings_and_archives(client, steps):
    signed_in(client, "manager")
    queue = make_queue(steps[:1], k=1)
    body = {"name": "Renamed", "instructions": "Check the tool call.", "reviewers_per_item": "3"}
    body.update(access="any", reservation_minutes="5", write_feedback="on")
    assert client.post(reverse("review:queue_edit", args=[queue.pk]), body).status_code == 302
    queue.refresh_from_db()
    assert (queue.name, queue.reviewers_per_item, queue.reservation_minutes) == ("Renamed", 3, 5)
    client.post(reverse("review:queue_edit", args=[queue.pk]), {"archive": "1"})
    assert queue.name not in client.get(reverse("review:queue_list")).content.decode()


def test_lowering_the_reviewers_per_step_resolves_what_it_completes(client, steps):
    signed_in(client, "manager")
    ann = UserFactory()
    queue = make_queue(steps[:2], k=2)
    submit.submit_review(reserve.next_item(queue, ann), ann, {"verdict": "positive"})
    body = {"name": queue.name, "reviewers_per_item": "1", "access": "any", "reservation_minutes": "30"}
    assert client.post(reverse("review:queue_edit", args=[queue.pk]), body).status_code == 302
    queue.refresh_from_db()
    assert queue.reviewers_per_item == 1 and queue.items_done == 1
    refused = client.post(reverse("review:queue_edit", args=[queue.pk]), {**body, "access": "assigned"})
    assert refused.status_code == 400 and "Pick at least one reviewer" in refused.content.decode()


def test_the_queue_list_reads_a_fixed_number_of_rows_whatever_the_queues(client, steps):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = signed_in(client)
    make_queue(steps[:1])
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("review:queue_list"))
    for _ in range(4):
        make_queue(steps[1:2], access="assigned", assigned=[user])
    with CaptureQueriesContext(connection) as five:
        page = client.get(reverse("review:queue_list")).content.decode()
    assert len(five) == len(one)
    assert page.count(">Review</a>") == 1 + 5  # the navigation, and each queue this reviewer may work


def test_the_step_page_says_which_queues_hold_the_step(client, steps):
    signed_in(client)
    ann, bob = UserFactory(), UserFactory()
    queue = make_queue(steps[:1], k=2)
    page = client.get(reverse("step_detail", args=[steps[0].pk])).content.decode()
    assert "In review queues" in page and "0 of 2 reviews" in page
    for user in (ann, bob):
        submit.submit_review(reserve.next_item(queue, user), user, {"verdict": "negative"})
    page = client.get(reverse("step_detail", args=[steps[0].pk])).content.decode()
    assert "done · verdict negative" in page
    assert "In review queues" not in client.get(reverse("step_detail", args=[steps[1].pk])).content.decode()


def create(client, **fields):
    body = {"name": "Pairs", "rubric": "thumbs", "kind": "single", "mode": "snapshot", "access": "any"}
    body.update(reviewers_per_item="1", reservation_minutes="30", **fields)
    return client.post(reverse("review:queue_new"), body)


def test_pairs_from_two_runs_or_two_filters_and_an_assigned_queue(client):
    signed_in(client, "manager")
    run_a, run_b = "run-00000000-0000-4000-8000-00000000000a", "run-00000000-0000-4000-8000-00000000000b"
    for run_id, model in ((run_a, "gpt-4o-mini"), (run_b, "claude-sonnet-4")):
        for position in range(2):
            step = StepFactory(run_id=run_id, model=model)
            Step.objects.filter(pk=step.pk).update(run_position=position)  # the sync's, not the factory's
            conversation(step, user_text=f"same question {position}")
    link_b = f"http://testserver/runs/{run_b}/"  # a pasted link works as well as the id
    made = create(client, kind="pairwise", pair_source="runs", run_a=run_a, run_b=link_b)
    assert made.status_code == 302
    pairs = Queue.objects.get().items.order_by("position")
    assert [(i.step.run_position, i.step_b.run_id) for i in pairs] == [(0, run_b), (1, run_b)]
    Queue.objects.all().delete()
    other = "http://testserver/?model=claude-sonnet-4"
    made = create(client, kind="pairwise", pair_source="filters", query="model=gpt-4o-mini", query_b=other)
    assert made.status_code == 302 and Queue.objects.get().items_total == 2
    nobody = create(
        client, kind="pairwise", pair_source="filters", query="model=gpt-4o-mini", query_b="model=x"
    )
    assert nobody.status_code == 400 and "No pairs came out of that" in nobody.content.decode()
    ann = UserFactory(username="ann")
    assert create(client, access="assigned", assigned=[str(ann.pk)], query="").status_code == 302
    assert list(Queue.objects.get(access="assigned").assigned.all()) == [ann]
