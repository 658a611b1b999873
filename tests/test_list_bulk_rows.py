"""A bulk action redraws the votes of the list rows it changes, out of band, as its worker
applies them: no "Refresh list" needed to see them."""

import re

import pytest
from django.urls import reverse

from steps import feedback
from steps.models import FeedbackBatch, FeedbackPush
from tests.factories import StepFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def widgets(html: str) -> dict[str, str]:
    """step id -> the opening tag of its out-of-band vote widget."""
    return {
        pk: tag for tag, pk in re.findall(r'(<div class="vote vote-compact" id="vote-([^"]+)"[^>]*>)', html)
    }


def active(html: str, step_id: str) -> list[str]:
    widget = html[html.index(f'id="vote-{step_id}"') :]
    widget = widget[: widget.index("</form>")]
    return re.findall(r'value="(positive|negative)" class="vote-btn [^"]*is-active"', widget)


def test_the_rows_show_their_new_vote_as_the_worker_applies_it(
    user_client, django_capture_on_commit_callbacks
):
    steps = [StepFactory() for _ in range(3)]
    other = StepFactory()
    data = {"action": "positive", "step_ids": [s.pk for s in steps], "query": ""}
    with django_capture_on_commit_callbacks():  # the worker has not run yet
        html = user_client.post(reverse("bulk_start"), data, headers=HX).content.decode()
    batch = FeedbackBatch.objects.get()
    assert set(widgets(html)) == {s.pk for s in steps}  # only the rows it changes
    assert all('hx-swap-oob="true"' in tag for tag in widgets(html).values())
    assert all(active(html, s.pk) == [] for s in steps)
    poll = re.search(r'hx-get="([^"]+)" hx-trigger="every 1s"', html)[1].replace("&amp;", "&")
    assert poll == reverse("bulk_progress", args=[batch.pk]) + "?" + "&".join(f"row={s.pk}" for s in steps)

    feedback.apply_bulk(batch)  # the worker: votes recorded, their pushes still on their way
    html = user_client.get(poll, headers=HX).content.decode()
    assert all(active(html, s.pk) == ["positive"] for s in steps)
    # saving: the bar's poll redraws them, the widgets do not poll on their own as well
    assert all('data-state="saving"' in tag and "hx-get" not in tag for tag in widgets(html).values())
    assert other.pk not in html

    FeedbackPush.objects.filter(batch=batch).update(status="done")
    html = user_client.get(poll, headers=HX).content.decode()
    assert 'hx-trigger="every 1s"' not in html  # finished: the bar stops
    assert all('data-state="saved"' in tag for tag in widgets(html).values())


def test_all_matching_redraws_the_rows_of_the_page(user_client):
    steps = [StepFactory(model="m1") for _ in range(2)]
    StepFactory(model="m2")
    data = {"action": "negative", "scope": "all", "query": "model=m1", "step_ids": [s.pk for s in steps]}
    html = user_client.post(reverse("bulk_start"), data, headers=HX).content.decode()
    assert set(widgets(html)) == {s.pk for s in steps}


@pytest.mark.parametrize("n", [3, 50])
def test_redrawing_the_rows_costs_the_same_for_any_number(user_client, django_assert_num_queries, n):
    steps = [StepFactory() for _ in range(n)]
    batch = feedback.start_bulk(
        user=None, action="positive", feedback="positive", step_ids=[s.pk for s in steps]
    )
    url = reverse("bulk_progress", args=[batch.pk]) + "?" + "&".join(f"row={s.pk}" for s in steps)
    # session, user, the batch, its pushes by state, the rows' steps, their votes, their pushes
    with django_assert_num_queries(7):
        html = user_client.get(url, headers=HX).content.decode()
    assert len(widgets(html)) == n


@pytest.mark.parametrize("rows", ["row=x", "row=step-unknown&row=<b>"])
def test_a_bad_row_id_is_a_400(user_client, rows):
    batch = feedback.start_bulk(
        user=None, action="positive", feedback="positive", step_ids=[StepFactory().pk]
    )
    response = user_client.get(reverse("bulk_progress", args=[batch.pk]) + "?" + rows, headers=HX)
    assert response.status_code == 400
