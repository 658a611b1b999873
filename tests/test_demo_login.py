"""The sign-in page of a fresh `make run` names the admin user and where its password was printed;
nothing of the kind anywhere else."""

import pytest
from django.test import Client

from steps.management.commands.serve import Command as Serve
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
HINT = (
    "Demo: sign in as <b>admin</b>; the password was printed in the terminal that ran <code>make run</code>"
)


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def first_start() -> str:
    """`make run` on an empty database: the admin's password, as the banner prints it."""
    line = Serve().first_login()[0]
    return line.split("password")[1].split()[0]


def sign_in_page() -> str:
    response = Client().get("/login/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_fresh_demo_says_whom_to_sign_in_as_and_where_the_password_is():
    password = first_start()
    html = sign_in_page()
    assert HINT in html
    assert password not in html
    # and the hint is right: that password signs in as admin
    assert Client().post("/login/", {"username": "admin", "password": password}).status_code == 302


def test_no_hint_once_the_admin_password_is_changed():
    first_start()
    admin = UserFactory._meta.model.objects.get(username="admin")
    admin.set_password("a new password of their own")
    admin.save()
    assert "Demo:" not in sign_in_page()


def test_no_hint_once_there_is_another_user():
    first_start()
    UserFactory(username="reviewer")
    assert "Demo:" not in sign_in_page()


def test_no_hint_where_serve_did_not_create_the_admin():
    # production: the admin was made with createsuperuser, so nothing was recorded
    UserFactory(username="admin")
    assert "Demo:" not in sign_in_page()


def test_a_second_start_of_the_demo_keeps_the_hint_and_the_password():
    password = first_start()
    assert "log in with your user" in Serve().first_login()[0]
    assert HINT in sign_in_page()
    assert Client().post("/login/", {"username": "admin", "password": password}).status_code == 302
