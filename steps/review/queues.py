"""Making queues and filling them: a snapshot of steps (or pairs of steps), or a live filter that
steps join as the sync brings them in (steps/review/live.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import QueryDict
from django.utils import timezone

from ..filters import StepFilterForm, list_query
from ..models import Step
from . import rubrics
from .models import Queue, QueueItem, Rubric, RubricItem
from .verdict import resolve

INSERT_CHUNK = 1000  # ids per statement: far below SQLite's bound on variables
MAX_RESERVATION_MINUTES = 24 * 60
MAX_REVIEWERS_PER_ITEM = 20
MAX_QUERY_CHARS = 2000  # Queue.query
PAIRS_SCAN = 2000  # steps read from each side when matching pairs on the user's message


def snapshot_max() -> int:
    return getattr(settings, "REVIEW_SNAPSHOT_MAX", 10_000)


def filter_form(query: str) -> StepFilterForm:
    """The step list's form over a stored query string; a ValidationError names a bad parameter."""
    if len(query) > MAX_QUERY_CHARS:
        raise ValidationError(
            {"query": [f"The filter is too long ({len(query)} characters; at most {MAX_QUERY_CHARS})."]}
        )
    form = StepFilterForm(QueryDict(query))
    if not form.is_valid():
        errors = {name: list(messages) for name, messages in form.errors.items()}
        raise ValidationError({"query": [f"{name}: {msgs[0]}" for name, msgs in errors.items()]})
    return form


def matching_ids(query: str, limit: int) -> list[str]:
    """Up to `limit` ids of the steps the list query matches, in the list's order (the list's own
    indexes serve it: a bounded read, never a count of the table)."""
    form = filter_form(query)
    steps = form.filter(Step.objects.all()).ordered(form.sort_order())
    return list(steps.values_list("pk", flat=True)[:limit])


def _positive(value, what: str, upper: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= upper:
        raise ValidationError({what: [f"A whole number from 1 to {upper}."]})
    return value


def _check_settings(*, name, mode, kind, access, reviewers_per_item, reservation_minutes, rubric, tag_items):
    errors = {}
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
        errors["name"] = ["A name of 1 to 200 characters."]
    if mode not in Queue.Mode.values:
        errors["mode"] = [f"One of {', '.join(Queue.Mode.values)}."]
    if kind not in Queue.Kind.values:
        errors["kind"] = [f"One of {', '.join(Queue.Kind.values)}."]
    if access not in Queue.Access.values:
        errors["access"] = [f"One of {', '.join(Queue.Access.values)}."]
    if kind == Queue.Kind.PAIRWISE and mode == Queue.Mode.LIVE:
        errors["mode"] = ["A pairwise queue is a snapshot: its pairs are chosen when it is made."]
    for field, value, upper in (
        ("reviewers_per_item", reviewers_per_item, MAX_REVIEWERS_PER_ITEM),
        ("reservation_minutes", reservation_minutes, MAX_RESERVATION_MINUTES),
    ):
        try:
            _positive(value, field, upper)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if not isinstance(rubric, Rubric):
        errors["rubric"] = ["Pick a rubric."]
    elif rubric.archived:
        errors["rubric"] = ["This rubric is archived."]
    else:
        categorical = rubrics.names_of_kind(rubric, [RubricItem.Kind.CATEGORICAL])
        if not isinstance(tag_items, (list, tuple)) or any(t not in categorical for t in tag_items):
            errors["tag_items"] = [
                "Only labels items become Letta tags: "
                + (", ".join(categorical) if categorical else "this rubric has none")
                + "."
            ]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_queue(
    *,
    name: str,
    query: str,
    mode: str,
    rubric: Rubric,
    reviewers_per_item: int,
    reservation_minutes: int,
    created_by,
    kind: str = Queue.Kind.SINGLE,
    access: str = Queue.Access.ANY,
    assigned: Iterable = (),
    instructions: str = "",
    tag_items: Sequence[str] = (),
    write_feedback: bool = True,
    step_ids: Sequence[str] | None = None,
    pairs: Sequence[tuple[str, str]] | None = None,
) -> Queue:
    """A queue, filled. A snapshot holds the given steps (or pairs), else the steps `query`
    matches now, at most REVIEW_SNAPSHOT_MAX of them (more is refused, nothing made); a live
    queue reads nothing now: matching steps join as the sync brings them in."""
    query = query or ""
    _check_settings(
        name=name,
        mode=mode,
        kind=kind,
        access=access,
        reviewers_per_item=reviewers_per_item,
        reservation_minutes=reservation_minutes,
        rubric=rubric,
        tag_items=list(tag_items),
    )
    form = filter_form(query)
    query = list_query(form.data)  # the stored form: no paging, no empties
    instructions = rubrics.clean_text(instructions or "", "The instructions", 10_000, allow_empty=True)
    assigned = list(assigned)
    if access == Queue.Access.ASSIGNED and not assigned:
        raise ValidationError({"assigned": ["An assigned queue needs at least one reviewer."]})
    queue = Queue.objects.create(
        name=name.strip(),
        query=query,
        mode=mode,
        kind=kind,
        rubric=rubric,
        reviewers_per_item=reviewers_per_item,
        reservation_minutes=reservation_minutes,
        access=access,
        instructions=instructions,
        tag_items=list(tag_items),
        write_feedback=write_feedback,
        created_by=created_by,
    )
    if assigned:
        queue.assigned.set(get_user_model().objects.filter(pk__in=[getattr(u, "pk", u) for u in assigned]))
    rubrics.lock(rubric)
    if kind == Queue.Kind.PAIRWISE:
        if not pairs:
            raise ValidationError({"pairs": ["A pairwise queue needs pairs of steps."]})
        _cap(len(pairs))
        add_pairs(queue, pairs)
    elif step_ids is not None:
        _cap(len(step_ids))
        add_steps(queue, step_ids)
    elif mode == Queue.Mode.SNAPSHOT:
        limit = snapshot_max()
        ids = matching_ids(query, limit + 1)
        _cap(len(ids))
        add_steps(queue, ids)
    queue.refresh_from_db()
    return queue


EDITABLE = ("name", "instructions", "reviewers_per_item", "reservation_minutes", "access", "assigned")
EDITABLE += ("tag_items", "write_feedback", "archived")


@transaction.atomic
def update_queue(queue: Queue, **changes) -> Queue:
    """Change a queue's settings (EDITABLE; its rubric, mode, kind and filter make another queue).
    A lower k resolves the waiting steps that now have enough reviews; a higher one leaves the
    steps already done as they are. `archived=True` stops it taking reviews (and live steps)."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationError(
            {name: ["This setting cannot be changed; make a new queue."] for name in unknown}
        )
    queue = Queue.objects.select_for_update().select_related("rubric").get(pk=queue.pk)
    merged = {f: getattr(queue, f) for f in ("name", "reviewers_per_item", "reservation_minutes", "access")}
    merged |= {k: v for k, v in changes.items() if k in merged}
    _check_settings(
        **merged,
        mode=queue.mode,
        kind=queue.kind,
        rubric=queue.rubric,
        tag_items=list(changes.get("tag_items", queue.tag_items)),
    )
    assigned = changes.pop("assigned", None)
    if merged["access"] == Queue.Access.ASSIGNED and not (
        assigned if assigned is not None else queue.assigned.exists()
    ):
        raise ValidationError({"assigned": ["An assigned queue needs at least one reviewer."]})
    if "archived" in changes:
        archived = changes.pop("archived")
        if bool(archived) != (queue.archived_at is not None):
            queue.archived_at = timezone.now() if archived else None
    if "instructions" in changes:
        changes["instructions"] = rubrics.clean_text(
            changes["instructions"] or "", "The instructions", 10_000, allow_empty=True
        )
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    lowered = changes.get("reviewers_per_item", queue.reviewers_per_item) < queue.reviewers_per_item
    for field, value in changes.items():
        setattr(queue, field, list(value) if field == "tag_items" else value)
    queue.save()
    if assigned is not None:
        queue.assigned.set(get_user_model().objects.filter(pk__in=[getattr(u, "pk", u) for u in assigned]))
    if lowered:
        ready = QueueItem.objects.filter(
            queue=queue, state=QueueItem.State.WAITING, reviews_count__gte=queue.reviewers_per_item
        )
        for item in ready.select_for_update().order_by("position"):
            resolve(item)
    queue.refresh_from_db()
    return queue


def _cap(count: int) -> None:
    limit = snapshot_max()
    if count > limit:
        raise ValidationError(
            {
                "query": [
                    f"This would put more than {limit:,} steps in one queue. Narrow the filter, "
                    "or make a live queue (steps join as they sync)."
                ]
            }
        )


def _next_position(queue: Queue) -> int:
    """Lock the queue row (its next position and counters move with the items added; taken before
    reading what the queue holds, so two adders never both add a step) and read the position."""
    return Queue.objects.select_for_update().values_list("next_position", flat=True).get(pk=queue.pk)


def _insert(queue: Queue, start: int, rows: list[tuple[str, str | None]]) -> int:
    if not rows:
        return 0
    QueueItem.objects.bulk_create(
        [
            QueueItem(queue_id=queue.pk, step_id=a, step_b_id=b, position=start + i)
            for i, (a, b) in enumerate(rows)
        ],
        batch_size=INSERT_CHUNK,
    )
    Queue.objects.filter(pk=queue.pk).update(
        items_total=F("items_total") + len(rows), next_position=F("next_position") + len(rows)
    )
    return len(rows)


def _chunks(values: list, size: int = INSERT_CHUNK):
    for i in range(0, len(values), size):
        yield values[i : i + size]


@transaction.atomic
def add_steps(queue: Queue, step_ids: Iterable[str]) -> int:
    """Add steps (in the order given) that exist and are not in the queue yet; returns how many."""
    wanted = list(dict.fromkeys(str(s) for s in step_ids))
    start = _next_position(queue)
    existing, present = set(), set()
    for chunk in _chunks(wanted):
        present.update(Step.objects.filter(pk__in=chunk).values_list("pk", flat=True))
        existing.update(
            QueueItem.objects.filter(queue_id=queue.pk, step_b__isnull=True, step_id__in=chunk)
            .order_by()  # the model's ordering would join the queue table for nothing
            .values_list("step_id", flat=True)
        )
    return _insert(queue, start, [(s, None) for s in wanted if s in present and s not in existing])


@transaction.atomic
def add_pairs(queue: Queue, pairs: Iterable[tuple[str, str]]) -> int:
    """Add pairs (A, B) of two different existing steps, each pair once; returns how many."""
    wanted = []
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValidationError({"pairs": ["Each pair is two step ids."]})
        a, b = str(pair[0]), str(pair[1])
        if a != b:
            wanted.append((a, b))
    wanted = list(dict.fromkeys(wanted))
    start = _next_position(queue)
    ids = list({s for pair in wanted for s in pair})
    present, existing = set(), set()
    for chunk in _chunks(ids):
        present.update(Step.objects.filter(pk__in=chunk).values_list("pk", flat=True))
        existing.update(
            QueueItem.objects.filter(queue_id=queue.pk, step_b__isnull=False, step_id__in=chunk)
            .order_by()
            .values_list("step_id", "step_b_id")
        )
    rows = [(a, b) for a, b in wanted if a in present and b in present and (a, b) not in existing]
    return _insert(queue, start, rows)


def pairs_from_runs(run_a: str, run_b: str) -> list[tuple[str, str]]:
    """Two runs side by side: the first step of each, then the second of each, and so on (in each
    run's own order), as far as the shorter run goes."""
    limit = snapshot_max()

    def steps_of(run_id: str) -> list[str]:
        return list(Step.objects.filter(run_id=run_id).in_run_order().values_list("pk", flat=True)[:limit])

    return list(zip(steps_of(run_a), steps_of(run_b), strict=False))


def _user_texts(query: str) -> dict[str, str]:
    """Newest first, up to PAIRS_SCAN steps of a filter -> their first user message (trimmed)."""
    from ..pages.timeline import previews

    ids = matching_ids(query, PAIRS_SCAN)
    found = previews(ids)
    texts = {}
    for step_id in ids:
        text = " ".join((found[step_id].user or "").split()).casefold()
        if text:
            texts[step_id] = text
    return texts


def pairs_matched_on_user_input(query_a: str, query_b: str, limit: int = 500) -> list[tuple[str, str]]:
    """Pairs of a step from filter A and one from filter B that answer the same user message (for
    example two agents or models given the same input). Each step is used once, newest first;
    at most `limit` pairs, read from the newest PAIRS_SCAN steps of each filter."""
    a_texts, b_texts = _user_texts(query_a), _user_texts(query_b)
    by_text: dict[str, list[str]] = {}
    for step_id, text in b_texts.items():
        by_text.setdefault(text, []).append(step_id)
    pairs = []
    for step_id, text in a_texts.items():
        candidates = by_text.get(text)
        while candidates:
            other = candidates.pop(0)
            if other != step_id:
                pairs.append((step_id, other))
                break
        if len(pairs) >= limit:
            break
    return pairs
