"""Chainable queries over the mirror: what views, the API and the sync ask of the database."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone


class StepQuerySet(models.QuerySet):
    # --- sync ---------------------------------------------------------------------------

    def due_for_refresh(self, now: datetime | None = None) -> StepQuerySet:
        now = now or timezone.now()
        return self.filter(refresh_due_at__lte=now).filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))

    def least_recently_synced(self) -> StepQuerySet:
        return self.order_by("last_synced_at", "id")
