"""The rubric editor: managers create, edit (a used rubric becomes the next version) and archive
rubrics; everyone else reads; bad input is a 400 that keeps what was typed."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from steps.access import MANAGER_REFUSED
from steps.review.models import Rubric, RubricItem
from steps.review.rubric_form import editor_from_post
from tests.factories import UserFactory
from tests.review_data import make_queue, make_rubric

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def manager(client):
    user = UserFactory(username="lead", role="manager")
    client.force_login(user)
    return user


def form(name="Support quality", items=(), description="", action="save") -> dict:
    """The editor's POST: `items` as (name, kind, choices text, required, description)."""
    data = {"name": name, "description": description, "item-count": str(len(items)), "action": action}
    for i, (item_name, kind, choices, required, item_description) in enumerate(items):
        data |= {
            f"items-{i}-name": item_name,
            f"items-{i}-kind": kind,
            f"items-{i}-choices": choices,
            f"items-{i}-description": item_description,
        }
        if required:
            data[f"items-{i}-required"] = "1"
    return data


FULL = [
    ("verdict", "thumbs", "", True, "Would you ship it?"),
    ("accuracy", "scale", "1 = wrong\n2\n3 = partly\n4\n5 = right", True, ""),
    ("topic", "categorical", "billing\nbug\n\nother\n", True, ""),
    ("cites_sources", "boolean", "", False, ""),
    ("comment", "text", "", False, ""),
]


def test_a_manager_creates_a_rubric_of_every_kind(client, manager):
    response = client.post(reverse("review:rubric_create"), form(items=FULL, description="For week 48"))
    rubric = Rubric.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "review:rubric_detail", args=[rubric.pk]
    )
    assert (rubric.name, rubric.description, rubric.version, rubric.created_by) == (
        "Support quality",
        "For week 48",
        1,
        manager,
    )
    items = {item.name: item for item in rubric.items.all()}
    assert [i.name for i in rubric.items.order_by("position")] == [
        "verdict",
        "accuracy",
        "topic",
        "cites_sources",
        "comment",
    ]
    assert items["accuracy"].choices == [1, 2, 3, 4, 5]
    assert items["accuracy"].choice_labels == ["wrong", "", "partly", "", "right"]
    assert items["topic"].choices == ["billing", "bug", "other"]
    assert items["cites_sources"].required is False and items["verdict"].description == "Would you ship it?"
    page = client.get(response["Location"]).content.decode()
    assert "Rubric “Support quality” created." in page and "5 = right" in page


def test_scale_lines_in_any_order_keep_their_words(client, manager):
    client.post(
        reverse("review:rubric_create"), form(items=[("stars", "scale", "3: ok\n1 - bad\n2", True, "")])
    )
    item = RubricItem.objects.get()
    assert (item.choices, item.choice_labels) == ([1, 2, 3], ["bad", "", "ok"])


def test_add_move_and_remove_keep_what_was_typed_and_save_nothing(client, manager):
    url = reverse("review:rubric_create")
    added = client.post(url, form(name="Draft", items=FULL[:2], action="add"))
    assert added.status_code == 200 and not Rubric.objects.exists()
    rows = added.context["editor"].rows
    assert [r.name for r in rows] == ["verdict", "accuracy", ""] and rows[1].choices.startswith("1 = wrong")
    moved = client.post(url, form(name="Draft", items=FULL[:3], action="up:2")).context["editor"]
    assert [r.name for r in moved.rows] == ["verdict", "topic", "accuracy"]
    moved = client.post(url, form(name="Draft", items=FULL[:3], action="down:0")).context["editor"]
    assert [r.name for r in moved.rows] == ["accuracy", "verdict", "topic"]
    removed = client.post(url, form(name="Draft", items=FULL[:3], action="remove:1")).context["editor"]
    assert [r.name for r in removed.rows] == ["verdict", "topic"] and removed.name == "Draft"
    assert not Rubric.objects.exists()


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([("accuracy", "scale", "1\nfive", True, "")], "“five” is not a point"),
        ([("accuracy", "scale", "1\n1 = again", True, "")], "The point 1 is there twice."),
        ([("accuracy", "scale", "3", True, "")], "a scale has 2 to"),
        ([("topic", "categorical", "only one", True, "")], "needs 2 to"),
        ([("a", "thumbs", "", True, ""), ("b", "thumbs", "", True, "")], "at most one thumbs item"),
        ([("same", "boolean", "", True, ""), ("same", "text", "", True, "")], "Two items share a name"),
        ([("bad:name", "boolean", "", True, "")], "letters, digits"),
        ([("x", "nonsense", "", True, "")], "Pick a kind."),
        ([], "at least one item"),
    ],
)
def test_bad_rubrics_are_a_400_that_says_why_and_keeps_the_form(client, manager, items, message):
    response = client.post(reverse("review:rubric_create"), form(name="Kept", items=items))
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'value="Kept"' in page
    assert not Rubric.objects.exists()


def test_a_post_no_editor_sends_is_a_400(client, manager):
    url = reverse("review:rubric_create")
    assert client.post(url, {"name": "x", "item-count": "lots"}).status_code == 400
    assert client.post(url, {"name": "x", "item-count": "99999"}).status_code == 400
    assert client.post(url, {"name": "x"}).status_code == 400
    assert not Rubric.objects.exists()
    with pytest.raises(Exception, match="incomplete"):
        editor_from_post({})


def test_editing_an_unused_rubric_changes_it_in_place(client, manager):
    rubric = make_rubric([{"name": "verdict", "kind": "thumbs"}], name="Draft")
    response = client.post(
        reverse("review:rubric_edit", args=[rubric.pk]), form(name="Renamed", items=FULL[:2])
    )
    assert response.status_code == 302
    rubric.refresh_from_db()
    assert Rubric.objects.count() == 1 and rubric.name == "Renamed" and rubric.version == 1
    assert [i.name for i in rubric.items.order_by("position")] == ["verdict", "accuracy"]


def test_editing_a_used_rubric_makes_the_next_version_and_leaves_it_alone(client, manager):
    queue = make_queue([])  # locks its rubric
    used = queue.rubric
    before = list(used.items.order_by("position").values_list("name", "kind", "choices"))
    edit_url = reverse("review:rubric_edit", args=[used.pk])
    page = client.get(edit_url).content.decode()
    assert "Save as version 2" in page and "the queues keep version 1" in page
    response = client.post(
        edit_url, form(name=used.name, items=[FULL[0], ("accuracy", "scale", "1\n2\n3", True, "")])
    )
    new = Rubric.objects.exclude(pk=used.pk).get()
    assert response["Location"] == reverse("review:rubric_detail", args=[new.pk])
    assert (new.version, new.lineage_id) == (2, used.pk)
    assert list(used.items.order_by("position").values_list("name", "kind", "choices")) == before
    queue.refresh_from_db()
    assert queue.rubric_id == used.pk
    detail = client.get(response["Location"]).content.decode()
    assert "Saved as version 2. Queues that use version 1 keep it unchanged." in detail
    # version 1's page points at the newer one; editing v1 again makes v3, after a warning
    assert (
        "A newer version exists"
        in client.get(reverse("review:rubric_detail", args=[used.pk])).content.decode()
    )
    assert "Version 2 is newer than this one" in client.get(edit_url).content.decode()
    client.post(edit_url, form(name=used.name, items=[FULL[0]]))
    assert sorted(Rubric.objects.values_list("version", flat=True)) == [1, 2, 3]


def test_archive_and_restore(client, manager):
    rubric = make_rubric(name="Old one")
    url = reverse("review:rubric_archive", args=[rubric.pk])
    client.post(url, {"archived": "1"})
    rubric.refresh_from_db()
    assert rubric.archived
    assert list(client.get(reverse("review:rubric_list")).context["page"]) == []
    archived = client.get(reverse("review:rubric_list") + "?show=archived")
    assert list(archived.context["page"]) == [rubric]
    client.post(url, {"archived": "0"})
    rubric.refresh_from_db()
    assert not rubric.archived


@pytest.mark.parametrize("role", ["viewer", "reviewer"])
def test_only_managers_write_rubrics(client, role):
    rubric = make_rubric(name="Keep me")
    client.force_login(UserFactory(username="someone", role=role))
    for url in (reverse("review:rubric_create"), reverse("review:rubric_edit", args=[rubric.pk])):
        for method in ("get", "post"):
            response = getattr(client, method)(url, form(items=FULL), headers={"HX-Request": "true"})
            assert response.status_code == 403 and response.content.decode() == MANAGER_REFUSED
    response = client.post(reverse("review:rubric_archive", args=[rubric.pk]), {"archived": "1"})
    assert response.status_code == 403 and "Only managers" in response.content.decode()
    assert Rubric.objects.get() == rubric and not Rubric.objects.get().archived
    assert Rubric.objects.get().name == "Keep me"
    # reading stays open, without the manager's buttons
    detail = client.get(reverse("review:rubric_detail", args=[rubric.pk])).content.decode()
    assert "Keep me" in detail and reverse("review:rubric_edit", args=[rubric.pk]) not in detail
    assert reverse("review:rubric_create") not in client.get(reverse("review:rubric_list")).content.decode()


def test_hostile_text_stays_text(client, manager):
    rubric = make_rubric(
        [
            {"name": "topic", "kind": "categorical", "choices": [HOSTILE, "b"], "description": HOSTILE},
            {"name": "stars", "kind": "scale", "choices": [1, 2], "choice_labels": [HOSTILE, ""]},
        ],
        name=HOSTILE,
        description=HOSTILE,
    )
    for url in (
        reverse("review:rubric_list"),
        reverse("review:rubric_detail", args=[rubric.pk]),
        reverse("review:rubric_edit", args=[rubric.pk]),
    ):
        page = client.get(url).content.decode()
        assert "<script>alert" not in page and "<img src=x" not in page, url
        assert "&lt;script&gt;" in page, url


def test_the_list_and_detail_read_a_fixed_number_of_queries(client, manager, django_assert_max_num_queries):
    for n in range(12):
        make_queue([], rubric=make_rubric(name=f"r{n}"))
    with django_assert_max_num_queries(8):
        assert client.get(reverse("review:rubric_list")).status_code == 200
    rubric = Rubric.objects.first()
    rubric.locked_at = timezone.now()
    with django_assert_max_num_queries(10):
        assert client.get(reverse("review:rubric_detail", args=[rubric.pk])).status_code == 200
