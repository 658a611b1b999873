"""Roles themselves: the highest group wins, superusers manage, nobody's role costs a query per
page, the migration keeps existing users working, and the admin's role select sets the group."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client, RequestFactory

from steps.access import (
    MANAGER,
    REVIEWER,
    VIEWER,
    RoleRequired,
    can_manage,
    can_review,
    can_share,
    role_of,
    set_role,
)
from steps.access.decorators import manager_required
from steps.access.roles import highest
from steps.api.permissions import ManagerWrites
from tests.factories import StepFactory, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.mark.parametrize(
    ("groups", "superuser", "role"),
    [
        ([], False, REVIEWER),
        (["viewer"], False, VIEWER),
        (["reviewer"], False, REVIEWER),
        (["viewer", "manager", "reviewer"], False, MANAGER),
        (["some team"], False, REVIEWER),
        ([], True, MANAGER),
        (["viewer"], True, MANAGER),
    ],
)
def test_the_highest_role_wins(groups, superuser, role):
    assert highest(groups, superuser=superuser) == role


def test_a_user_in_no_role_group_is_a_reviewer_and_a_superuser_a_manager():
    plain = User.objects.create_user("plain")
    root = User.objects.create_superuser("root")
    assert role_of(plain) == REVIEWER and can_review(plain) and not can_manage(plain)
    assert role_of(root) == MANAGER and can_manage(root) and can_share(root)
    assert role_of(AnonymousUser()) is None and not can_review(AnonymousUser())


def test_set_role_keeps_one_role_group_and_the_other_groups():
    user = UserFactory(role="manager")
    team = Group.objects.create(name="night shift")
    user.groups.add(team)
    set_role(user, VIEWER)
    assert set(User.objects.get(pk=user.pk).groups.values_list("name", flat=True)) == {
        "viewer",
        "night shift",
    }
    with pytest.raises(ValueError, match="Unknown role"):
        set_role(user, "owner")


def test_manager_only_writes_refuse_reviewers_and_let_everyone_read():
    """For what managers alone change (queues, rubrics): the page decorator and the API class."""

    @manager_required
    def settings_view(request):
        return "changed"

    for role, may_write in [(VIEWER, False), (REVIEWER, False), (MANAGER, True)]:
        user = UserFactory(username=f"u-{role}", role=role)
        get, post = RequestFactory().get("/"), RequestFactory().post("/")
        get.user = post.user = user
        assert settings_view(get) == "changed"
        assert ManagerWrites().has_permission(get, None)
        assert ManagerWrites().has_permission(post, None) is may_write
        if may_write:
            assert settings_view(post) == "changed"
        else:
            with pytest.raises(RoleRequired, match="Only managers"):
                settings_view(post)


def test_a_deactivated_reviewer_writes_nothing():
    user = UserFactory()
    user.is_active = False
    assert not can_review(user)


def test_the_role_comes_with_the_signed_in_user(django_assert_num_queries):
    """The top bar shows the role on every page: loading it costs no query of its own."""
    client = Client()
    client.force_login(UserFactory(username="rita"))
    step = StepFactory()
    html = client.get(f"/steps/{step.pk}/").content.decode()
    assert 'class="role-chip role-reviewer"' in html
    request_user = client.get("/overview/").wsgi_request.user
    with django_assert_num_queries(0):
        assert role_of(request_user) == REVIEWER


@pytest.mark.parametrize(
    "groups", [[], ["viewer"], ["reviewer"], ["manager"], ["viewer", "manager", "reviewer"], ["some team"]]
)
def test_the_signed_in_user_carries_the_same_role_as_with_role_gives(groups):
    from steps.access.roles import user_with_role, with_role

    user = User.objects.create_user("gwen")
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in groups])
    loaded = user_with_role(str(user.pk))  # a session keeps the id as text
    assert loaded.pk == user.pk and loaded.username == "gwen"
    assert loaded.role_group == with_role(User.objects.filter(pk=user.pk)).get().role_group
    assert role_of(loaded) == highest(groups)
    assert user_with_role(user.pk + 1000) is None and user_with_role("not an id") is None


def test_a_viewer_sees_the_state_but_no_controls():
    client = Client()
    client.force_login(UserFactory(username="vic", role="viewer"))
    step = StepFactory(feedback="positive", tags=["checked"])
    html = client.get(f"/steps/{step.pk}/").content.decode()
    assert 'class="role-chip role-viewer"' in html
    assert "Viewers can read; ask a manager for the reviewer role." in html
    assert 'hx-post="/steps/' not in html  # no vote, tag, note, share or revoke form
    assert 'name="notes"' not in html and "Add tags" not in html and "Create link" not in html
    listing = client.get("/").content.decode()
    assert f'hx-post="/steps/{step.pk}/vote/"' not in listing
    assert 'value="add_tag"' not in listing and "Viewers can read" in listing


def test_a_reviewer_sees_the_controls():
    client = Client()
    client.force_login(UserFactory(username="rita"))
    step = StepFactory()
    html = client.get(f"/steps/{step.pk}/").content.decode()
    assert f'hx-post="/steps/{step.pk}/vote/"' in html and 'name="notes"' in html
    assert "Viewers can read" not in html


# --- the migration ------------------------------------------------------------------------------


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


def test_the_migration_makes_existing_users_reviewers_and_can_run_again():
    _migrate(("access", None))
    Group.objects.filter(name__in=["viewer", "reviewer", "manager"]).delete()
    ann = User.objects.create_user("ann")
    root = User.objects.create_superuser("root")
    gone = User.objects.create_user("gone", is_active=False)
    _migrate(("access", "0001_roles"))
    assert {g.name for g in Group.objects.all()} >= {"viewer", "reviewer", "manager"}
    assert role_of(User.objects.get(pk=ann.pk)) == REVIEWER
    assert list(User.objects.get(pk=root.pk).groups.values_list("name", flat=True)) == ["manager"]
    assert not gone.groups.exists()

    # again, with a user someone has made a viewer since: nobody changes, nothing doubles
    vera = User.objects.create_user("vera")
    set_role(vera, VIEWER)
    _migrate(("access", None))
    _migrate(("access", "0001_roles"))
    assert list(User.objects.get(pk=vera.pk).groups.values_list("name", flat=True)) == ["viewer"]
    assert User.objects.get(pk=ann.pk).groups.count() == 1
    assert Group.objects.filter(name="reviewer").count() == 1


# --- the admin ----------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    return client


def test_a_user_added_in_the_admin_gets_the_chosen_role(admin_client):
    form = admin_client.get("/admin/auth/user/add/").content.decode()
    assert 'name="role"' in form and '<option value="reviewer" selected>' in form
    response = admin_client.post(
        "/admin/auth/user/add/",
        {
            "username": "newbie",
            "usable_password": "true",
            "password1": "a long and new password",
            "password2": "a long and new password",
            "role": "viewer",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert role_of(User.objects.get(username="newbie")) == VIEWER


def test_the_change_form_sets_the_role_and_keeps_other_groups(admin_client):
    user = UserFactory(username="rita")
    team = Group.objects.create(name="night shift")
    user.groups.add(team)
    page = admin_client.get(f"/admin/auth/user/{user.pk}/change/").content.decode()
    assert '<option value="reviewer" selected>' in page
    # the role groups are the role select's: the groups box lists the others only
    assert f'<option value="{team.pk}" selected>night shift</option>' in page
    assert ">reviewer</option>" not in page and ">manager</option>" not in page
    data = {
        "username": "rita",
        "is_active": "on",
        "groups": [team.pk],
        "role": "manager",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "10:00:00",
    }
    response = admin_client.post(f"/admin/auth/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(pk=user.pk)
    assert role_of(user) == MANAGER
    assert set(user.groups.values_list("name", flat=True)) == {"manager", "night shift"}


def test_the_user_list_shows_each_role(admin_client):
    UserFactory(username="vic", role="viewer")
    UserFactory(username="max", role="manager")
    html = admin_client.get("/admin/auth/user/").content.decode()
    assert '<td class="field-role">viewer</td>' in html and '<td class="field-role">manager</td>' in html
