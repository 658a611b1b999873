"""The audit trail: every change a person makes is recorded with its old and new values, in order,
merged with the admin's log; nobody can change or delete an entry, by the ORM, the admin or SQL."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from steps.access import role_of
from steps.access.models import RolePin
from steps.audit import record, trail
from steps.audit.models import AppendOnly, AuditEvent
from steps.models import ApiToken, ShareLink
from tests.factories import StepFactory, UserFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
PASSWORD = "correct horse battery"


def admin_change_role(client, user, role, *, pin=False):
    data = {
        "username": user.username,
        "is_active": "on",
        "role": role,
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    if pin:
        data["pin_role"] = "on"
    response = client.post(f"/admin/auth/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]


def test_every_change_is_in_the_trail_in_order_with_old_and_new_values(client):
    boss = UserFactory(username="boss", role="manager", is_staff=True, is_superuser=True)
    rita = UserFactory(username="rita", role="reviewer")
    step, other = StepFactory(), StepFactory()
    assert client.post("/login/", {"username": "boss", "password": PASSWORD}).status_code == 302
    client.post(reverse("step_vote", args=[step.pk]), {"value": "positive"}, headers=HX)
    client.post(reverse("step_vote", args=[step.pk]), {"value": "negative"}, headers=HX)
    client.post(reverse("step_tags", args=[step.pk]), {"add": "wrong-tool, slow"}, headers=HX)
    client.post(reverse("step_note", args=[step.pk]), {"notes": "calls search twice"}, headers=HX)
    client.post(reverse("bulk_start"), {"action": "positive", "step_ids": [step.pk, other.pk]}, headers=HX)
    client.post(reverse("api_tokens"), {"name": "nightly eval"})
    token = ApiToken.objects.get()
    client.post(reverse("api_token_revoke", args=[token.pk]))
    client.post(reverse("share_create", args=[step.pk]), {"expiry": "1d"})
    link = ShareLink.objects.get()
    client.post(reverse("share_revoke", args=[link.pk]))
    admin_change_role(client, rita, "viewer", pin=True)
    client.post("/logout/")

    entries, _ = trail.page(trail.Filters(actor_id=boss.pk), size=100)
    done = [(e.action, e.before, e.after) for e in reversed(entries)]
    actions = [a for a, _, _ in done]
    assert actions == [
        "user.sign_in",
        "vote.cast",
        "vote.cast",
        "tags.change",
        "note.change",
        "bulk.start",
        "token.create",
        "token.revoke",
        "share.create",
        "share.revoke",
        "role.change",
        "role.pin",
        "admin.change",  # Django's admin log, in the same trail
        "user.sign_out",
    ]
    assert done[1][1:] == ({"feedback": ""}, {"feedback": "positive"})
    assert done[2][1:] == ({"feedback": "positive"}, {"feedback": "negative"})
    assert done[3][1:] == ({"tags": []}, {"tags": ["wrong-tool", "slow"]})
    assert done[4][1:] == ({"notes": ""}, {"notes": "calls search twice"})
    assert done[5][2]["steps"] == 2 and done[5][2]["feedback"] == "positive"
    assert done[6][2] == {"name": "nightly eval", "key_prefix": token.key_prefix, "owner": "boss"}
    assert done[10][1:] == ({"role": "reviewer"}, {"role": "viewer"})
    assert role_of(get_user_model().objects.get(pk=rita.pk)) == "viewer"
    assert RolePin.objects.filter(user=rita).exists()
    # no secret in the trail: not the token's key, not the link's token
    text = str(list(AuditEvent.objects.values_list("before", "after")))
    assert token.key_hash not in text and link.token not in text
    assert all(e.ip == "127.0.0.1" for e in entries if e.source == trail.EVENT)


def test_revoking_in_the_admin_is_audited_too(admin_client):
    owner = UserFactory(username="leaky")
    token, _ = ApiToken.create_for(owner, "ci job")
    step = StepFactory()
    link = ShareLink.objects.create(step=step, created_by=owner, token="t" * 30, expires_at=timezone.now())
    admin_client.post("/admin/steps/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    admin_client.post("/admin/steps/sharelink/", {"action": "revoke_links", "_selected_action": [link.pk]})
    revoked = AuditEvent.objects.filter(action__in=["token.revoke", "share.revoke"]).order_by("id")
    assert [(e.action, e.actor_name, e.target_id) for e in revoked] == [
        ("token.revoke", "admin", str(token.pk)),
        ("share.revoke", "admin", str(link.pk)),
    ]
    assert revoked[0].before == {"name": "ci job", "key_prefix": token.key_prefix, "owner": "leaky"}


def test_a_bulk_action_is_one_entry_not_one_per_step(user_client, user):
    steps = [StepFactory() for _ in range(3)]
    user_client.post(
        reverse("bulk_start"), {"action": "negative", "step_ids": [s.pk for s in steps]}, headers=HX
    )
    from steps.feedback import apply_bulk
    from steps.models import FeedbackBatch

    apply_bulk(FeedbackBatch.objects.get())
    recorded = AuditEvent.objects.filter(actor_id=user.pk).exclude(action="user.sign_in").order_by("id")
    assert list(recorded.values_list("action", flat=True)) == ["bulk.start"]


def test_an_unchanged_note_records_nothing(user_client, user):
    step = StepFactory()
    for _ in range(2):
        user_client.post(reverse("step_note", args=[step.pk]), {"notes": " same "}, headers=HX)
    assert AuditEvent.objects.filter(action="note.change").count() == 1


def test_the_api_records_its_writes_too(api, token_user):
    step = StepFactory()
    json = "application/json"
    api.post(f"/api/v1/steps/{step.pk}/feedback", {"value": "positive"}, content_type=json)
    api.put(f"/api/v1/steps/{step.pk}/notes", {"notes": "from a script"}, content_type=json)
    recorded = AuditEvent.objects.filter(actor_id=token_user.pk).order_by("id")
    # the fixture made the token; then the script's two writes
    assert list(recorded.values_list("action", flat=True)) == ["token.create", "vote.cast", "note.change"]


def test_a_refused_write_records_nothing(client):
    client.force_login(UserFactory(username="vic", role="viewer"))
    step = StepFactory()
    before = AuditEvent.objects.count()
    assert (
        client.post(reverse("step_vote", args=[step.pk]), {"value": "positive"}, headers=HX).status_code
        == 403
    )
    assert AuditEvent.objects.count() == before


# --- append-only --------------------------------------------------------------------------------


def test_an_entry_cannot_be_changed_or_deleted_through_the_orm():
    event = record(None, "bulk.start", ("bulk", 1, "bulk #1"), None, {"steps": 1})
    event.action = "vote.cast"
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()
    with pytest.raises(AppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(action="vote.cast")
    with pytest.raises(AppendOnly):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "bulk.start"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET actor_name = 'someone else'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
    ],
)
def test_not_even_sql_changes_or_deletes_an_entry(sql):
    event = record(None, "bulk.start", ("bulk", 1, "bulk #1"))
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.get(pk=event.pk).actor_name == "system"


def test_the_admin_shows_entries_and_offers_no_change_or_delete(admin_client):
    event = record(None, "bulk.start", ("bulk", 1, "bulk #1"))
    assert admin_client.get("/admin/audit/auditevent/").status_code == 200
    page = admin_client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert page.status_code == 200 and 'type="submit"' not in page.content.decode().split('id="content"')[1]
    assert admin_client.post(f"/admin/audit/auditevent/{event.pk}/change/", {}).status_code == 403
    assert (
        admin_client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert admin_client.get("/admin/audit/auditevent/add/").status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_deleting_a_user_keeps_their_history(admin_client):
    gone = UserFactory(username="leaver")
    pk = gone.pk
    record(gone, "note.change", ("step", "step-x", "step-x"), {"notes": ""}, {"notes": "hi"})
    assert admin_client.post(f"/admin/auth/user/{pk}/delete/", {"post": "yes"}).status_code == 302
    event = AuditEvent.objects.get(action="note.change")
    assert (event.actor_id, event.actor_name) == (pk, "leaver")


def test_an_unknown_action_is_a_bug_not_a_silent_entry():
    with pytest.raises(ValueError, match="Unknown audit action"):
        record(None, "vote.delete_everything")


def test_queue_reviews_have_their_names_reserved():
    # steps.review records these once it is merged (README, "Audit trail")
    record(None, "review.submit", ("review", 1, "review #1"), None, {"answers": {"correct": True}})
    record(None, "review.adjudicate", ("review", 1, "review #1"), {"verdict": None}, {"verdict": "correct"})
    assert AuditEvent.objects.count() == 2


def test_pruning_old_steps_keeps_their_history(user_client, user):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from steps.models import Step

    step = StepFactory(step_time=timezone.now() - timedelta(days=90))
    user_client.post(reverse("step_note", args=[step.pk]), {"notes": "old but reviewed"}, headers=HX)
    call_command("prune_steps", "--older-than-days", "30")
    assert not Step.objects.filter(pk=step.pk).exists()
    assert AuditEvent.objects.get(action="note.change").target_id == step.pk
