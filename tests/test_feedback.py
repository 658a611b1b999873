"""Votes and tags written back to Letta (the simulator, over real HTTP), and never lost."""

import os
import threading
import time

import pytest
from django.contrib.auth.models import User
from django.db import connection

from steps import feedback
from steps.models import FeedbackPush, Step, StepVote
from steps.sync import run_sync
from steps.sync.upstream import LettaClient
from steps.tasks import deliver_due_feedback

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer():
    return User.objects.create_user("rita", password="x")


@pytest.fixture
def mirrored(simulator, letta, settings):
    """The simulator's steps in the mirror, and the app pointed at the simulator."""
    settings.LETTA_BASE_URL = simulator.base_url
    settings.LETTA_MAX_RETRIES = 0
    settings.CELERY_TASK_ALWAYS_EAGER = True
    run_sync(letta)
    return list(Step.objects.filter(status="success", feedback="").order_by("pk"))


def upstream(simulator, step):
    payload = simulator.world.step_payload(step.pk)
    return payload["feedback"], payload["tags"]


def patches(simulator):
    return [r for r in simulator.requests if r.method == "PATCH"]


def test_a_vote_lands_in_letta_and_the_mirror(
    mirrored, simulator, reviewer, django_capture_on_commit_callbacks
):
    step = mirrored[0]
    with django_capture_on_commit_callbacks(execute=True):
        push = feedback.cast_vote(step, user=reviewer, feedback="positive")

    push.refresh_from_db()
    assert push.status == FeedbackPush.Status.DONE and push.done_at
    assert upstream(simulator, step)[0] == "positive"
    step.refresh_from_db()
    assert step.feedback == "positive"
    vote = StepVote.objects.get(step=step)
    assert (vote.feedback, vote.voted_by) == ("positive", reviewer) and vote.voted_at


def test_clicking_the_active_vote_again_clears_it(
    mirrored, simulator, reviewer, django_capture_on_commit_callbacks
):
    step = mirrored[0]
    with django_capture_on_commit_callbacks(execute=True):
        feedback.toggle_vote(step, user=reviewer, value="negative")
    with django_capture_on_commit_callbacks(execute=True):
        feedback.toggle_vote(step, user=reviewer, value="negative")
    assert upstream(simulator, step)[0] is None
    assert StepVote.objects.get(step=step).feedback == ""


def test_letta_down_for_a_while_then_back_every_vote_arrives(
    mirrored, simulator, reviewer, django_capture_on_commit_callbacks
):
    steps = mirrored[:5]
    simulator.faults.down = True
    with django_capture_on_commit_callbacks(execute=True):
        for step in steps:
            feedback.cast_vote(step, user=reviewer, feedback="negative")
    open_pushes = FeedbackPush.objects.filter(status=FeedbackPush.Status.PENDING)
    assert open_pushes.count() == 5
    assert all(p.attempts == 1 and "Could not reach Letta" in p.last_error for p in open_pushes)

    simulator.faults.down = False
    FeedbackPush.objects.update(not_before=FeedbackPush.objects.first().created_at)  # the retry comes due
    assert deliver_due_feedback() == 5

    assert [upstream(simulator, s)[0] for s in steps] == ["negative"] * 5
    assert FeedbackPush.objects.filter(status=FeedbackPush.Status.DONE).count() == 5


def test_a_vote_whose_task_never_ran_is_delivered_by_the_sweep(mirrored, simulator, reviewer):
    step = mirrored[1]
    feedback.cast_vote(step, user=reviewer, feedback="positive")  # on_commit never fires: the message is lost
    assert upstream(simulator, step)[0] != "positive"
    assert deliver_due_feedback() == 1
    assert upstream(simulator, step)[0] == "positive"


def test_a_worker_killed_mid_push_is_taken_over_after_its_claim_expires(mirrored, simulator, reviewer):
    step = mirrored[1]
    push = feedback.cast_vote(step, user=reviewer, feedback="positive")
    FeedbackPush.objects.filter(pk=push.pk).update(status="in_flight", claimed_until=push.created_at)
    assert deliver_due_feedback() == 1
    push.refresh_from_db()
    assert push.status == FeedbackPush.Status.DONE and upstream(simulator, step)[0] == "positive"


def test_quick_repeated_clicks_end_with_the_last_one_upstream(mirrored, simulator, reviewer):
    step = mirrored[2]
    for value in ("positive", "negative", "positive", "", "negative"):
        feedback.cast_vote(step, user=reviewer, feedback=value)  # none delivered yet
    simulator.clear_requests()
    with LettaClient(simulator.base_url) as client:
        feedback.deliver(client, step.pk)

    assert upstream(simulator, step)[0] == "negative"
    assert len(patches(simulator)) == 1  # older clicks were superseded, never sent
    statuses = list(FeedbackPush.objects.filter(step=step).order_by("id").values_list("status", flat=True))
    assert statuses == ["superseded"] * 4 + ["done"]


# the simulator serves from a thread: the child only reads settings and builds a client
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_worker_pushes_through_one_client_and_a_forked_worker_makes_its_own(
    mirrored, simulator, reviewer, django_capture_on_commit_callbacks
):
    """Making a client costs 20-45 ms of CPU (its TLS context): a worker keeps one for all its push
    tasks. A worker forked from a process that had one (a prefork pool) makes its own, never
    sharing its parent's sockets."""
    first, second = mirrored[:2]
    with django_capture_on_commit_callbacks(execute=True):
        feedback.cast_vote(first, user=reviewer, feedback="positive")
    with feedback.push_client() as client:
        pass
    with django_capture_on_commit_callbacks(execute=True):
        feedback.cast_vote(second, user=reviewer, feedback="negative")
    with feedback.push_client() as again:
        assert again is client
    assert [upstream(simulator, step)[0] for step in (first, second)] == ["positive", "negative"]

    read, write = os.pipe()
    if (child := os.fork()) == 0:  # the child reports through the pipe
        try:
            with feedback.push_client() as own:
                os.write(write, b"own" if own is not client else b"parent's")
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    assert os.read(read, 16) == b"own"


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_the_same_step_send_one_patch(simulator):
    with LettaClient(simulator.base_url) as client:
        run_sync(client)
    step = Step.objects.filter(status="success").first()
    user = User.objects.create_user("rita", password="x")
    feedback.cast_vote(step, user=user, feedback="positive")
    simulator.clear_requests()

    def worker():
        with LettaClient(simulator.base_url) as client:
            feedback.deliver(client, step.pk)
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(patches(simulator)) == 1 and upstream(simulator, step)[0] == "positive"


def test_someone_else_changing_the_vote_upstream_is_a_conflict_not_an_overwrite(
    mirrored, simulator, letta, reviewer, django_capture_on_commit_callbacks
):
    step = mirrored[3]
    with django_capture_on_commit_callbacks(execute=True):
        feedback.cast_vote(step, user=reviewer, feedback="positive")
    FeedbackPush.objects.update(done_at=FeedbackPush.objects.get().created_at.replace(year=2020))  # long ago

    simulator.world.set_feedback(step.pk, "negative")  # a teammate, in another tool
    run_sync(letta)

    vote = StepVote.objects.get(step=step)
    assert vote.has_conflict and (vote.feedback, vote.conflict_feedback) == ("positive", "negative")
    assert Step.objects.get(pk=step.pk).feedback == "negative"  # the mirror says what Letta says
    assert upstream(simulator, step)[0] == "negative"  # and nothing was written over it

    with django_capture_on_commit_callbacks(execute=True):
        feedback.resolve_conflict(step, user=reviewer, keep="mine")
    assert upstream(simulator, step)[0] == "positive" and not StepVote.objects.get(step=step).has_conflict


def test_taking_theirs_adopts_letta_vote_without_writing(
    mirrored, simulator, letta, reviewer, django_capture_on_commit_callbacks
):
    step = mirrored[3]
    with django_capture_on_commit_callbacks(execute=True):
        feedback.cast_vote(step, user=reviewer, feedback="positive")
    FeedbackPush.objects.update(done_at=FeedbackPush.objects.get().created_at.replace(year=2020))
    simulator.world.set_feedback(step.pk, "negative")
    run_sync(letta)
    simulator.clear_requests()

    feedback.resolve_conflict(step, user=reviewer, keep="theirs")

    vote = StepVote.objects.get(step=step)
    assert vote.feedback == "negative" and not vote.has_conflict and not patches(simulator)


def test_a_change_upstream_between_click_and_push_is_not_overwritten(mirrored, simulator, reviewer):
    step = mirrored[4]
    feedback.cast_vote(step, user=reviewer, feedback="positive")
    simulator.world.set_feedback(step.pk, "negative")  # lands before our push goes out
    simulator.clear_requests()
    with LettaClient(simulator.base_url) as client:
        feedback.deliver(client, step.pk)

    assert not patches(simulator) and upstream(simulator, step)[0] == "negative"
    assert FeedbackPush.objects.get(step=step).status == FeedbackPush.Status.CONFLICT
    assert StepVote.objects.get(step=step).conflict_feedback == "negative"


def test_tags_follow_letta_semantics(mirrored, simulator, reviewer, django_capture_on_commit_callbacks):
    step = mirrored[5]
    with django_capture_on_commit_callbacks(execute=True):
        feedback.cast_vote(step, user=reviewer, tags=["wrong-tool", "slow", "wrong-tool", " "])
    assert upstream(simulator, step)[1] == ["wrong-tool", "slow"]

    with django_capture_on_commit_callbacks(execute=True):
        feedback.cast_vote(step, user=reviewer, feedback="negative")  # a vote keeps the tags: full state sent
    assert upstream(simulator, step) == ("negative", ["wrong-tool", "slow"])

    with django_capture_on_commit_callbacks(execute=True):
        feedback.cast_vote(step, user=reviewer, tags=["slow"])
    assert upstream(simulator, step) == ("negative", ["slow"])  # and the vote survives a tag edit

    with django_capture_on_commit_callbacks(execute=True):
        push = feedback.cast_vote(step, user=reviewer, tags=[])
    push.refresh_from_db()
    assert upstream(simulator, step)[1] == ["slow"]  # Letta cannot clear tags (§1.5) ...
    assert "cannot clear tags" in push.note  # ... and the reviewer is told


def test_bulk_rating_a_filtered_selection_reaches_every_step(
    mirrored, simulator, reviewer, django_capture_on_commit_callbacks
):
    agent = mirrored[0].agent_id
    matching = list(Step.objects.filter(agent_id=agent).values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        batch = feedback.start_bulk(
            user=reviewer, action="rate positive", feedback="positive", query=f"agent={agent}"
        )

    batch.refresh_from_db()
    assert batch.total == len(matching) and batch.applied == len(matching) and batch.finished_at
    assert feedback.batch_progress(batch) == {
        "total": len(matching),
        "applied": len(matching),
        "done": len(matching),
        "saving": 0,
        "failed": 0,
        "gone": 0,
    }
    assert all(simulator.world.step_payload(pk)["feedback"] == "positive" for pk in matching)


def test_tags_changed_upstream_before_our_tag_edit_are_not_overwritten(mirrored, simulator, reviewer):
    step = mirrored[6]
    feedback.cast_vote(step, user=reviewer, tags=["ours"])
    simulator.world.set_feedback(step.pk, None, ["theirs"])  # a teammate tags it in the meantime
    simulator.clear_requests()
    with LettaClient(simulator.base_url) as client:
        feedback.deliver(client, step.pk)
    assert not patches(simulator) and upstream(simulator, step)[1] == ["theirs"]
    assert StepVote.objects.get(step=step).conflict_tags == ["theirs"]

    feedback.resolve_conflict(step, user=reviewer, keep="theirs")
    assert feedback.vote_state(Step.objects.get(pk=step.pk)).tags == ["theirs"]
    assert FeedbackPush.objects.get(step=step).status == FeedbackPush.Status.SUPERSEDED


def _deliver(simulator, step, **client_kwargs):
    with LettaClient(simulator.base_url, max_retries=0, **client_kwargs) as client:
        return feedback.deliver(client, step.pk)


def _lose_the_answer_of_a_negative_vote(simulator, step, reviewer, fault):
    """Vote 👍 (delivered), then 👎 whose PATCH reaches Letta but whose answer is lost."""
    feedback.cast_vote(step, user=reviewer, feedback="positive")
    assert _deliver(simulator, step) is None and upstream(simulator, step)[0] == "positive"
    lost = feedback.cast_vote(step, user=reviewer, feedback="negative")
    simulator.faults.update({"methods": "PATCH", **fault})  # the GET before it goes through
    assert _deliver(simulator, step, timeout=0.3) is not None  # not confirmed: retried later
    simulator.faults.clear()
    deadline = time.monotonic() + 5
    while upstream(simulator, step)[0] != "negative" and time.monotonic() < deadline:
        time.sleep(0.05)  # a timed-out PATCH lands when the server wakes up
    assert upstream(simulator, step)[0] == "negative"  # Letta holds our own 👎 ...
    assert Step.objects.get(pk=step.pk).feedback == "positive"  # ... which the mirror never heard of
    return lost


@pytest.mark.parametrize(
    "fault",
    [{"truncate_rate": 1}, {"timeout_rate": 1, "hang_seconds": 0.6}, "killed"],
    ids=["truncated-body", "timeout", "worker-killed"],
)
def test_a_lost_patch_answer_is_ours_so_the_next_vote_is_sent_not_flagged(
    mirrored, simulator, reviewer, fault
):
    step = mirrored[7]
    lost = _lose_the_answer_of_a_negative_vote(
        simulator, step, reviewer, {"timeout_rate": 1, "hang_seconds": 0.6} if fault == "killed" else fault
    )
    if fault == "killed":  # the worker died waiting for the answer: its claim just runs out
        FeedbackPush.objects.filter(pk=lost.pk).update(
            status="in_flight", attempts=0, claimed_until=lost.created_at
        )

    final = feedback.cast_vote(step, user=reviewer, feedback="positive")
    assert _deliver(simulator, step) is None

    final.refresh_from_db()
    assert final.status == FeedbackPush.Status.DONE, final.last_error
    assert upstream(simulator, step)[0] == "positive"  # the third vote reached Letta
    assert not StepVote.objects.get(step=step).has_conflict


def test_a_vote_someone_else_makes_after_our_lost_answer_is_still_a_conflict(mirrored, simulator, reviewer):
    step = mirrored[8]
    _lose_the_answer_of_a_negative_vote(simulator, step, reviewer, {"truncate_rate": 1})
    simulator.world.set_feedback(step.pk, None, ["theirs"])  # a teammate clears it and tags it
    final = feedback.cast_vote(step, user=reviewer, feedback="positive")
    simulator.clear_requests()
    _deliver(simulator, step)
    final.refresh_from_db()
    assert final.status == FeedbackPush.Status.CONFLICT and not patches(simulator)


def test_the_sync_does_not_call_our_own_lost_write_someone_elses(mirrored, simulator, letta, reviewer):
    step = mirrored[9]
    _lose_the_answer_of_a_negative_vote(simulator, step, reviewer, {"truncate_rate": 1})
    # The reviewer votes 👍 again but Letta refuses that PATCH: nothing is open any more.
    final = feedback.cast_vote(step, user=reviewer, feedback="positive")
    simulator.faults.update({"methods": "PATCH"})
    simulator.faults.fail_next(1, status=400)
    _deliver(simulator, step)
    simulator.faults.clear()
    final.refresh_from_db()
    assert final.status == FeedbackPush.Status.FAILED
    FeedbackPush.objects.update(done_at=final.created_at.replace(year=2020))  # nothing recent

    run_sync(letta)  # reads Letta's 👎: ours, sent before, not someone else's

    assert Step.objects.get(pk=step.pk).feedback == "negative"
    assert not StepVote.objects.get(step=step).has_conflict  # the row shows "failed, retry" instead
