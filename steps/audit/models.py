"""The audit trail's own rows: who did what, when, to what, with the values before and after.

Append-only: a saved event is never changed or deleted, by the ORM (save of an existing row,
delete, queryset update/delete raise) nor by SQL (a trigger raises on UPDATE, DELETE and
TRUNCATE, migration 0002). The actor is kept as an id and the name they had, not as a foreign key:
deleting a user must neither delete their history nor be refused by it.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class AppendOnly(Exception):
    """Raised on any attempt to change or delete an audit event."""


REFUSED = "Audit events are append-only: they cannot be changed or deleted."


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly(REFUSED)

    def delete(self):
        raise AppendOnly(REFUSED)

    # bulk_update goes through update(); _raw_delete is what the deletion collector uses
    def _raw_delete(self, using):
        raise AppendOnly(REFUSED)


class AuditEvent(models.Model):
    at = models.DateTimeField(default=timezone.now, editable=False)
    # None: the system or the identity provider (actor_name says which)
    actor_id = models.IntegerField(null=True, blank=True, editable=False)
    actor_name = models.CharField(max_length=150, editable=False)
    action = models.CharField(max_length=40, editable=False)
    target_type = models.CharField(max_length=40, blank=True, editable=False)
    target_id = models.CharField(max_length=200, blank=True, editable=False)
    target_label = models.CharField(max_length=200, blank=True, editable=False)
    before = models.JSONField(null=True, blank=True, editable=False)
    after = models.JSONField(null=True, blank=True, editable=False)
    ip = models.GenericIPAddressField(null=True, blank=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        indexes = [
            # the trail page and the CSV export, newest first, by a time cursor
            models.Index(fields=["-at", "-id"], name="audit_at"),
            # the trail filtered by person
            models.Index(fields=["actor_id", "-at", "-id"], name="audit_actor_at"),
            # the trail filtered by action
            models.Index(fields=["action", "-at", "-id"], name="audit_action_at"),
            # one object's history (a step's votes, a user's role changes)
            models.Index(fields=["target_type", "target_id", "-at"], name="audit_target_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.target_label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly(REFUSED)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly(REFUSED)
