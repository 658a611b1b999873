"""Votes, tags, notes and bulk rating through the views; the outbox itself is tested in test_feedback."""

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from steps import feedback
from steps.models import FeedbackBatch, FeedbackPush, StepReview, StepVote
from tests.factories import BASE_TIME, StepFactory, UserFactory

MISSING = "step-00000000-0000-4000-8000-000000000000"  # shaped like a step id, never created

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def vote(client, step, value, **extra):
    return client.post(reverse("step_vote", args=[step.pk]), {"value": value, **extra}, headers=HX)


def test_click_votes_and_answers_with_the_saving_widget(user_client, user):
    step = StepFactory()
    response = vote(user_client, step, "positive", compact="1")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith(f'<div class="vote vote-compact" id="vote-{step.pk}"')
    assert "saving…" in html
    assert 'hx-trigger="load delay:150ms"' in html  # asks again at once while the push is open
    v = StepVote.objects.get(step=step)
    assert (v.feedback, v.voted_by) == ("positive", user)
    assert FeedbackPush.objects.get(step=step).feedback == "positive"


def test_an_open_push_is_asked_about_quickly_then_less_often(user_client):
    step = StepFactory()
    push = _push(step, status="in_flight")
    delays = []
    for age in (0, 5, 60):
        FeedbackPush.objects.filter(pk=push.pk).update(created_at=timezone.now() - timedelta(seconds=age))
        delays.append(re.search(r'hx-trigger="load delay:(\d+)ms"', widget(user_client, step)).group(1))
    assert delays == ["150", "500", "1000"]


def test_a_cleared_vote_says_cleared_not_saved(user_client):
    step = StepFactory()
    push = _push(step, status="done", done_at=timezone.now())
    FeedbackPush.objects.filter(pk=push.pk).update(feedback="")
    StepVote.objects.filter(step=step).update(feedback="")
    assert "Vote cleared in Letta" in widget(user_client, step)
    compact = user_client.get(
        reverse("step_vote", args=[step.pk]) + "?compact=1", headers=HX
    ).content.decode()
    assert "✓ cleared" in compact and "✓ saved" not in compact


def test_clicking_the_active_vote_clears_it(user_client):
    step = StepFactory()
    vote(user_client, step, "negative")
    vote(user_client, step, "negative")
    assert StepVote.objects.get(step=step).feedback == ""
    assert list(FeedbackPush.objects.filter(step=step).order_by("id").values_list("feedback", flat=True)) == [
        "negative",
        "",
    ]


def test_clicking_the_active_upstream_vote_clears_it(user_client):
    step = StepFactory(feedback="positive")
    vote(user_client, step, "positive")
    assert StepVote.objects.get(step=step).feedback == ""


def test_keyboard_sets_rather_than_toggles(user_client):
    step = StepFactory()
    vote(user_client, step, "positive", set="1")
    vote(user_client, step, "positive", set="1")
    assert StepVote.objects.get(step=step).feedback == "positive"
    vote(user_client, step, "", set="1")
    assert StepVote.objects.get(step=step).feedback == ""


@pytest.mark.parametrize("value", ["", "meh", "POSITIVE"])
def test_unknown_vote_is_400(user_client, value):
    step = StepFactory()
    assert vote(user_client, step, value).status_code == 400
    assert not FeedbackPush.objects.exists()


def test_unknown_step_is_404(user_client):
    assert user_client.post(reverse("step_vote", args=[MISSING]), {"value": "positive"}).status_code == 404
    assert user_client.get(reverse("step_vote", args=[MISSING]), headers=HX).status_code == 404


def test_vote_without_htmx_redirects_back(user_client):
    step = StepFactory()
    response = user_client.post(reverse("step_vote", args=[step.pk]), {"value": "positive"})
    assert response.status_code == 302
    assert response["Location"] == reverse("step_detail", args=[step.pk])


def test_posts_enforce_csrf(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    step = StepFactory()
    posts = [
        (reverse("step_vote", args=[step.pk]), {"value": "positive"}),
        (reverse("step_vote_retry", args=[step.pk]), {}),
        (reverse("step_vote_resolve", args=[step.pk]), {"keep": "mine"}),
        (reverse("step_tags", args=[step.pk]), {"add": "x"}),
        (reverse("step_note", args=[step.pk]), {"notes": "x"}),
        (reverse("bulk_start"), {"action": "positive", "step_ids": [step.pk]}),
    ]
    for url, data in posts:
        assert client.post(url, data, headers=HX).status_code == 403, url
    assert not FeedbackPush.objects.exists()
    # the token rendered into the page (body hx-headers) is accepted
    html = client.get(reverse("step_list")).content.decode()
    token = html.split('"X-CSRFToken": "', 1)[1].split('"', 1)[0]
    response = client.post(posts[0][0], posts[0][1], headers={**HX, "X-CSRFToken": token})
    assert response.status_code == 200


def test_review_routes_require_login(client):
    step = StepFactory()
    for url in (
        reverse("step_vote", args=[step.pk]),
        reverse("bulk_start"),
        reverse("step_note", args=[step.pk]),
    ):
        response = client.post(url, {"value": "positive"})
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert not FeedbackPush.objects.exists()


def _push(step, **fields):
    push = feedback.cast_vote(step, user=UserFactory(username="ann"), feedback="positive", enqueue=False)
    FeedbackPush.objects.filter(pk=push.pk).update(**fields)
    return push


def widget(client, step):
    response = client.get(reverse("step_vote", args=[step.pk]), headers=HX)
    assert response.status_code == 200
    return response.content.decode()


def test_write_back_states(user_client):
    step = StepFactory()
    _push(step, status="in_flight")
    assert "Saving to Letta" in widget(user_client, step)
    _push(step, status="pending", attempts=2, last_error="Letta unreachable: connection refused")
    html = widget(user_client, step)
    assert "Retrying" in html and "connection refused" in html and 'hx-trigger="load delay:3000ms"' in html
    _push(step, status="done", done_at=timezone.now(), note="Letta cannot clear tags; it still has: a")
    html = widget(user_client, step)
    assert "Saved to Letta" in html and "Letta cannot clear tags" in html
    assert "hx-trigger" not in html  # settled: polling stops
    assert "Voted by <b>ann</b>" in html


def test_failed_push_shows_reason_and_retry(user_client, user):
    step = StepFactory()
    _push(step, status="failed", last_error="Letta answered 404: No Step found")
    html = widget(user_client, step)
    assert "Failed:" in html and "No Step found" in html and "Retry" in html
    response = user_client.post(reverse("step_vote_retry", args=[step.pk]), headers=HX)
    assert "Saving to Letta" in response.content.decode()
    newest = FeedbackPush.objects.filter(step=step).latest("id")
    assert (newest.source, newest.status, newest.feedback, newest.created_by) == (
        "retry",
        "pending",
        "positive",
        user,
    )


def _conflict(step):
    _push(step, status="conflict")
    StepVote.objects.filter(step=step).update(
        conflict_feedback="negative", conflict_tags=["theirs"], conflict_seen_at=timezone.now()
    )


def test_conflict_shows_both_and_keep_mine_pushes_again(user_client):
    step = StepFactory()
    _conflict(step)
    html = widget(user_client, step)
    assert "Letta now says" in html and "Keep mine" in html and "Take theirs" in html
    response = user_client.post(reverse("step_vote_resolve", args=[step.pk]), {"keep": "mine"}, headers=HX)
    assert "Saving to Letta" in response.content.decode()
    assert not StepVote.objects.get(step=step).has_conflict
    assert FeedbackPush.objects.filter(step=step).latest("id").feedback == "positive"


def test_take_theirs_adopts_letta_vote(user_client):
    step = StepFactory(feedback="negative", tags=["theirs"])  # the mirror says what Letta says
    _conflict(step)
    StepVote.objects.filter(step=step).update(tags=["mine"])
    response = user_client.post(reverse("step_vote_resolve", args=[step.pk]), {"keep": "theirs"}, headers=HX)
    assert "Keep mine" not in response.content.decode()
    v = StepVote.objects.get(step=step)
    assert (v.feedback, v.has_conflict) == ("negative", False)
    assert feedback.vote_state(step).tags == ["theirs"]


def test_resolve_bad_input(user_client):
    step = StepFactory()
    url = reverse("step_vote_resolve", args=[step.pk])
    assert user_client.post(url, {"keep": "both"}, headers=HX).status_code == 400
    assert user_client.post(url, {"keep": "mine"}, headers=HX).status_code == 400  # no conflict


def test_tags_add_and_remove_send_the_full_list(user_client):
    step = StepFactory(tags=("letta-demo",))
    url = reverse("step_tags", args=[step.pk])
    response = user_client.post(url, {"add": "slow, wrong-tool"}, headers=HX)
    assert response.status_code == 200 and 'id="review-card"' in response.content.decode()
    assert FeedbackPush.objects.latest("id").tags == ["letta-demo", "slow", "wrong-tool"]
    user_client.post(url, {"remove": "slow"}, headers=HX)
    assert StepVote.objects.get(step=step).tags == ["letta-demo", "wrong-tool"]
    assert user_client.post(url, {}, headers=HX).status_code == 400


def test_removing_every_tag_says_letta_keeps_them(user_client):
    step = StepFactory(tags=("letta-demo",))
    html = user_client.get(reverse("step_detail", args=[step.pk])).content.decode()
    assert "Letta cannot clear the last tag" in html  # confirm before removing the last one
    html = user_client.post(
        reverse("step_tags", args=[step.pk]), {"remove": "letta-demo"}, headers=HX
    ).content
    assert "Letta cannot clear a tag list: it still has <b>letta-demo</b>" in html.decode()


def test_note_is_saved_locally(user_client):
    step = StepFactory()
    response = user_client.post(reverse("step_note", args=[step.pk]), {"notes": "looks off"}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="review-note"' in html and "looks off" in html
    assert StepReview.objects.get(step=step).notes == "looks off"
    assert not FeedbackPush.objects.exists()
    assert "looks off" in user_client.get(reverse("step_detail", args=[step.pk])).content.decode()


def test_step_page_shows_review_card(user_client):
    step = StepFactory(feedback="negative")
    html = user_client.get(reverse("step_detail", args=[step.pk])).content.decode()
    assert 'id="review-card"' in html and "vote-down is-active" in html
    assert "From Letta (nobody here has voted)" in html


def test_list_shows_local_vote_over_mirror(user_client):
    step = StepFactory(feedback="positive")
    feedback.cast_vote(step, user=UserFactory(), feedback="negative", enqueue=False)
    html = user_client.get(reverse("step_list")).content.decode()
    assert "vote-down is-active" in html and "vote-up is-active" not in html
    assert "saving…" in html


def test_list_partial_query_count_with_votes(user_client, django_assert_num_queries):
    steps = [StepFactory(step_time=BASE_TIME + timedelta(seconds=i)) for i in range(30)]
    for s in steps[::2]:
        feedback.cast_vote(s, user=UserFactory(username="ann"), feedback="positive", enqueue=False)
    user_client.get(reverse("step_list"))
    # session, user, steps page, local votes, newest pushes, message previews, agent names,
    # model prices, the sparkline's rollups (swapped out of band with the rows; no other chrome)
    with django_assert_num_queries(9):
        assert user_client.get(reverse("step_list"), headers=HX).status_code == 200


def test_unreviewed_filter(user_client):
    none = StepFactory()
    upstream = StepFactory(feedback="positive")
    local = StepFactory()
    cleared = StepFactory(feedback="negative")
    feedback.cast_vote(local, user=UserFactory(), feedback="positive", enqueue=False)
    feedback.cast_vote(cleared, user=UserFactory(), feedback="", enqueue=False)
    rows = user_client.get(reverse("step_list") + "?unreviewed=1").context["rows"]
    assert {s.pk for s, _ in rows} == {none.pk, cleared.pk}
    assert upstream.pk


def test_next_unreviewed_follows_the_list_order(user_client):
    a, b, c, d = (StepFactory(step_time=BASE_TIME + timedelta(seconds=i), model="m1") for i in range(4))
    StepFactory(step_time=BASE_TIME + timedelta(seconds=9), model="other")
    feedback.cast_vote(b, user=UserFactory(), feedback="positive", enqueue=False)
    url = reverse("next_unreviewed", args=[d.pk]) + "?from=model%3Dm1"
    # newest first: after d comes c
    response = user_client.get(url)
    assert response["Location"] == reverse("step_detail", args=[c.pk]) + "?from=model%3Dm1"
    response = user_client.get(reverse("next_unreviewed", args=[c.pk]) + "?from=model%3Dm1")
    assert response["Location"].startswith(reverse("step_detail", args=[a.pk]))  # b is voted
    # past the end: round again from the top
    response = user_client.get(reverse("next_unreviewed", args=[a.pk]) + "?from=model%3Dm1")
    assert response["Location"].startswith(reverse("step_detail", args=[d.pk]))


def test_next_unreviewed_when_none_left(user_client):
    step = StepFactory()
    feedback.cast_vote(step, user=UserFactory(), feedback="positive", enqueue=False)
    response = user_client.get(reverse("next_unreviewed", args=[step.pk]), follow=True)
    assert b"No unreviewed steps left" in response.content


def test_reviewer_counts_on_the_list(user_client):
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    s1, s2, s3 = StepFactory(), StepFactory(), StepFactory()
    for s in (s1, s2):
        feedback.cast_vote(s, user=ann, feedback="positive", enqueue=False)
    feedback.cast_vote(s1, user=ann, feedback="negative", enqueue=False)  # same step: counted once
    feedback.retry(s2, user=bob)  # a resend is not a review
    old = feedback.cast_vote(s3, user=bob, feedback="positive", enqueue=False)
    FeedbackPush.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    reviewers = user_client.get(reverse("step_list")).context["reviewers"]
    assert reviewers == [{"username": "ann", "today": 2, "week": 2}]


def test_the_reviewers_panel_is_counted_once_per_ten_seconds_per_process(user_client, monkeypatch):
    from django.core.cache.backends import locmem

    from steps.feedback import state

    clock = [locmem.time.time()]
    monkeypatch.setattr(locmem.time, "time", lambda: clock[0])
    ann = UserFactory(username="ann")
    s1, s2 = StepFactory(), StepFactory()
    feedback.cast_vote(s1, user=ann, feedback="positive", enqueue=False)
    assert user_client.get(reverse("step_list")).context["reviewers"][0]["today"] == 1

    feedback.cast_vote(s2, user=ann, feedback="positive", enqueue=False)
    clock[0] += state.REVIEWER_COUNTS_MAX_AGE - 1  # within the age: the panel as counted
    assert user_client.get(reverse("step_list")).context["reviewers"][0]["today"] == 1
    clock[0] += 1  # past it: counted again
    assert user_client.get(reverse("step_list")).context["reviewers"][0]["today"] == 2


def test_bulk_selected_steps(user_client, user, django_capture_on_commit_callbacks):
    steps = [StepFactory() for _ in range(3)]
    data = {"action": "positive", "step_ids": [s.pk for s in steps] + [MISSING], "query": ""}
    with django_capture_on_commit_callbacks() as callbacks:
        response = user_client.post(reverse("bulk_start"), data, headers=HX)
    html = response.content.decode()
    batch = FeedbackBatch.objects.get()
    assert response.status_code == 200 and f'id="bulk-progress-{batch.pk}"' in html
    assert (batch.total, batch.created_by, batch.params["step_ids"]) == (3, user, [s.pk for s in steps])
    assert len(callbacks) == 1  # the worker is queued; the request did not apply anything itself
    feedback.apply_bulk(batch)
    FeedbackPush.objects.filter(batch=batch).update(status="done")
    html = user_client.get(reverse("bulk_progress", args=[batch.pk]), headers=HX).content.decode()
    assert 'saved to Letta <b class="bp-n-done">3</b>' in html and "hx-trigger" not in html


def test_bulk_all_matching_uses_the_list_query(user_client):
    StepFactory(model="m1"), StepFactory(model="m1"), StepFactory(model="m2")
    data = {"action": "add_tag", "tag": "triaged", "scope": "all", "query": "model=m1"}
    user_client.post(reverse("bulk_start"), data, headers=HX)
    batch = FeedbackBatch.objects.get()
    assert (
        batch.total == 2 and batch.params["query"] == "model=m1" and batch.params["add_tags"] == ["triaged"]
    )
    html = user_client.get(reverse("bulk_progress", args=[batch.pk]), headers=HX).content.decode()
    assert 'hx-trigger="every 1s"' in html and "queued, to be applied shortly" in html


def test_bulk_count(user_client):
    StepFactory(model="m1"), StepFactory(model="m1"), StepFactory(model="m2")
    html = user_client.get(reverse("bulk_count") + "?query=model%3Dm1", headers=HX).content.decode()
    assert "All <b>2</b> steps matching this filter" in html


@pytest.mark.parametrize(
    "data",
    [
        {"action": "explode", "step_ids": ["x"]},
        {"action": "positive"},
        {"action": "positive", "step_ids": [MISSING]},
        {"action": "positive", "step_ids": ["step-unknown"]},
        {"action": "positive", "scope": "all", "query": "status=bogus"},
        {"action": "add_tag", "tag": " ", "scope": "all"},
    ],
)
def test_bulk_bad_input_is_400(user_client, data):
    StepFactory()
    assert user_client.post(reverse("bulk_start"), data, headers=HX).status_code == 400
    assert not FeedbackBatch.objects.exists()


def test_bulk_progress_unknown_is_404(user_client):
    assert user_client.get(reverse("bulk_progress", args=[999]), headers=HX).status_code == 404


@pytest.mark.parametrize("name", ["step_vote", "step_vote_retry", "step_tags", "step_note", "share_create"])
def test_a_json_body_is_refused_and_changes_nothing(user_client, name):
    """The pages read forms: a JSON body (here nested 100,000 levels deep) reached a view as an
    empty form, which cleared the note it was sent to."""
    step = StepFactory()
    StepReview.objects.create(step=step, notes="kept")
    body = "[" * 100_000 + "]" * 100_000
    response = user_client.post(
        reverse(name, args=[step.pk]), body, content_type="application/json", headers=HX
    )
    assert response.status_code == 400
    assert response.content.decode() == "This page takes form data, not application/json."
    assert StepReview.objects.get(step=step).notes == "kept"
    assert not FeedbackPush.objects.exists() and not step.share_links.exists()


def test_bulk_refuses_a_json_body(user_client):
    step = StepFactory()
    response = user_client.post(
        reverse("bulk_start"),
        json.dumps({"action": "positive", "step_ids": [step.pk]}),
        content_type="application/json",
    )
    assert response.status_code == 400 and not FeedbackBatch.objects.exists()


def test_a_note_form_without_the_note_keeps_it(user_client):
    step = StepFactory()
    StepReview.objects.create(step=step, notes="kept")
    response = user_client.post(reverse("step_note", args=[step.pk]), {"other": "x"}, headers=HX)
    assert response.status_code == 400 and "notes=" in response.content.decode()
    assert StepReview.objects.get(step=step).notes == "kept"
