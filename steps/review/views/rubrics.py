"""Rubric pages: every role reads them; managers create, edit (a used rubric becomes a new
version, never changed under its queues) and archive them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ...access.roles import MANAGER_REFUSED, RoleRequired, can_manage
from .. import rubric_form, rubrics
from ..models import Rubric

RUBRICS_PER_PAGE = 50
QUEUES_SHOWN = 20


def _require_manager(request: HttpRequest) -> None:
    # the editor's pages themselves, not only their POSTs: a form nobody may send is no page to show
    if not can_manage(request.user):
        raise RoleRequired(MANAGER_REFUSED)


@require_GET
def rubric_list(request: HttpRequest) -> HttpResponse:
    archived = request.GET.get("show") == "archived"
    rubrics_qs = (
        Rubric.objects.filter(archived=archived)
        .select_related("created_by")
        .annotate(item_count=Count("items", distinct=True), queue_count=Count("queues", distinct=True))
        .order_by("name", "-version", "pk")
    )
    page = Paginator(rubrics_qs, RUBRICS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "archived": archived, "can_manage": can_manage(request.user)}
    return render(request, "review/rubric_list.html", context)


@require_GET
def rubric_detail(request: HttpRequest, rubric_id: int) -> HttpResponse:
    rubric = get_object_or_404(Rubric.objects.select_related("created_by"), pk=rubric_id)
    root_id = rubric.lineage_id or rubric.pk
    versions = list(
        Rubric.objects.filter(Q(pk=root_id) | Q(lineage_id=root_id))
        .order_by("-version")
        .only("pk", "version", "archived")
    )
    labels = dict(rubric_form.KIND_LABELS)
    queues = rubric.queues.order_by("-created_at")
    shown = list(queues[:QUEUES_SHOWN])
    count = len(shown) if len(shown) < QUEUES_SHOWN else queues.count()
    context = {
        "rubric": rubric,
        "items": [
            (item, rubric_form.choices_text(item), labels.get(item.kind, item.kind))
            for item in rubric.items.order_by("position")
        ],
        "versions": versions,
        "latest": versions[0] if versions else rubric,
        "queues": shown,
        "queue_count": count,
        "more_queues": count - len(shown),
        "can_manage": can_manage(request.user),
    }
    return render(request, "review/rubric_detail.html", context)


@require_http_methods(["GET", "POST"])
def rubric_create(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    if request.method == "GET":
        return _editor_page(request, rubric_form.editor_for(None), None)
    editor, response = _posted(request, None)
    if response:
        return response
    try:
        rubric = rubrics.rubric_from_items(
            editor.items, name=editor.name, description=editor.description, created_by=request.user
        )
    except ValidationError as error:
        editor.errors.extend(error.messages)
        return _editor_page(request, editor, None, status=400)
    messages.success(request, f"Rubric “{rubric.name}” created.")
    return redirect("review:rubric_detail", rubric_id=rubric.pk)


@require_http_methods(["GET", "POST"])
def rubric_edit(request: HttpRequest, rubric_id: int) -> HttpResponse:
    _require_manager(request)
    rubric = get_object_or_404(Rubric, pk=rubric_id)
    if request.method == "GET":
        return _editor_page(request, rubric_form.editor_for(rubric), rubric)
    editor, response = _posted(request, rubric)
    if response:
        return response
    try:
        saved = rubrics.new_version(
            rubric, editor.items, request.user, name=editor.name, description=editor.description
        )
    except ValidationError as error:
        editor.errors.extend(error.messages)
        return _editor_page(request, editor, rubric, status=400)
    if saved.pk == rubric.pk:
        messages.success(request, f"Rubric “{saved.name}” saved.")
    else:
        messages.success(
            request,
            f"Saved as version {saved.version}. Queues that use version {rubric.version} keep it unchanged.",
        )
    return redirect("review:rubric_detail", rubric_id=saved.pk)


@require_POST
def rubric_archive(request: HttpRequest, rubric_id: int) -> HttpResponse:
    _require_manager(request)
    rubric = get_object_or_404(Rubric, pk=rubric_id)
    archive = request.POST.get("archived") != "0"
    Rubric.objects.filter(pk=rubric.pk).update(archived=archive)
    if archive:
        messages.success(request, f"“{rubric}” archived: new queues no longer offer it; its queues keep it.")
    else:
        messages.success(request, f"“{rubric}” restored.")
    return redirect("review:rubric_detail", rubric_id=rubric.pk)


def _posted(request: HttpRequest, rubric: Rubric | None):
    """(editor with .items, None) when the post is a save that checks out; otherwise (editor,
    the editor page again): after add/remove/move, or with the problems marked (400)."""
    try:
        editor = rubric_form.editor_from_post(request.POST)
    except ValidationError as error:
        editor = rubric_form.editor_for(rubric)
        editor.errors.extend(error.messages)
        return editor, _editor_page(request, editor, rubric, status=400)
    if rubric_form.apply_action(editor, request.POST.get("action", "")):
        return editor, _editor_page(request, editor, rubric)
    items = rubric_form.cleaned_items(editor)
    if items is None:
        return editor, _editor_page(request, editor, rubric, status=400)
    editor.items = items
    return editor, None


def _editor_page(request: HttpRequest, editor, rubric: Rubric | None, status: int = 200) -> HttpResponse:
    newer = None
    if rubric is not None and rubric.locked_at:
        root_id = rubric.lineage_id or rubric.pk
        newer = (
            Rubric.objects.filter(Q(pk=root_id) | Q(lineage_id=root_id), version__gt=rubric.version)
            .order_by("-version")
            .first()
        )
    context = {
        "rubric": rubric,
        "editor": editor,
        "kinds": rubric_form.KIND_LABELS,
        "kind_help": rubric_form.KIND_HELP,
        "newer": newer,
        "max_items": rubrics.MAX_ITEMS,
    }
    return render(request, "review/rubric_edit.html", context, status=status)
