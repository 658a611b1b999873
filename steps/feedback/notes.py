"""The team note on a step: local only (never sent to Letta), one per step, audited."""

from __future__ import annotations

from django.db import transaction

from .. import audit
from ..models import Step, StepReview


@transaction.atomic
def save_note(step: Step, *, user, notes: str) -> StepReview:
    """Replace the step's note (empty clears it); an unchanged note records nothing."""
    notes = notes.strip()
    review = StepReview.objects.select_for_update().filter(step=step).first()
    before = review.notes if review else ""
    if review is None:
        review = StepReview.objects.create(step=step, notes=notes)
    elif before != notes:
        review.notes = notes
        review.save(update_fields=["notes", "updated_at"])
    if before != notes:
        audit.record(user, "note.change", step, {"notes": before}, {"notes": notes})
    return review
