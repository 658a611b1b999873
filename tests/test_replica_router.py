"""DATABASE_REPLICA_URL: which reads a page sends to the replica (dashboard/replica.py)."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory

from dashboard.replica import REPLICA, WROTE_COOKIE, ReplicaRouter, replica_reads
from steps.models import Step

router = ReplicaRouter()


def serve(request):
    """The middleware around a view that says where a step and a user would be read from."""
    seen = {}

    def view(request):
        seen["step"] = router.db_for_read(Step)
        seen["user"] = router.db_for_read(get_user_model())
        with transaction.atomic():
            seen["step in a transaction"] = router.db_for_read(Step)
        return HttpResponse("ok")

    response = replica_reads(view)(request)
    return seen, response


@pytest.mark.django_db(transaction=True)  # outside a test transaction, as a page is
def test_a_page_reads_steps_from_the_replica_but_users_and_transactions_from_the_primary():
    seen, response = serve(RequestFactory().get("/steps/"))

    assert seen == {"step": REPLICA, "user": None, "step in a transaction": None}
    assert WROTE_COOKIE not in response.cookies


@pytest.mark.django_db(transaction=True)  # outside a test transaction, as a page is
def test_after_a_vote_the_voters_next_pages_read_the_primary_so_they_see_it(settings):
    settings.REPLICA_STICKY_SECONDS = 5
    factory = RequestFactory()

    seen, response = serve(factory.post("/steps/x/vote"))
    assert seen["step"] is None  # a write request reads the primary
    cookie = response.cookies[WROTE_COOKIE]
    assert cookie["httponly"] and int(cookie.value) > time.time()

    following = factory.get("/steps/")
    following.COOKIES[WROTE_COOKIE] = cookie.value
    assert serve(following)[0]["step"] is None

    later = factory.get("/steps/")
    later.COOKIES[WROTE_COOKIE] = str(int(time.time()) - 1)
    assert serve(later)[0]["step"] == REPLICA


def test_outside_a_request_everything_reads_the_primary():
    assert router.db_for_read(Step) is None  # Celery tasks, the sync, management commands
    assert router.allow_migrate(REPLICA, "steps") is False
