"""record(): one audit event, written in the caller's transaction."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from .actions import ACTIONS
from .context import client_ip
from .models import AuditEvent

SYSTEM = "system"
_encoder = DjangoJSONEncoder()


def record(
    actor,
    action: str,
    target=None,
    before: Any = None,
    after: Any = None,
    *,
    actor_name: str = "",
) -> AuditEvent:
    """Record that `actor` (a user, or None for the system) did `action` to `target` (a model
    instance, or a (type, id, label) tuple). Call it inside the change's transaction."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}: add it to steps/audit/actions.py.")
    kind, target_id, label = _target(target)
    is_user = getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        actor_id=actor.pk if is_user else None,
        actor_name=(actor.get_username() if is_user else "") or actor_name or SYSTEM,
        action=action,
        target_type=kind,
        target_id=target_id[:200],
        target_label=label[:200],
        before=_plain(before),
        after=_plain(after),
        ip=_ip(client_ip.get()),
    )


def _target(target) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    if isinstance(target, tuple):
        kind, target_id, label = (*target, "")[:3]
        return str(kind), str(target_id), str(label or target_id)
    if isinstance(target, models.Model):
        kind = target._meta.model_name
        label = target.get_username() if hasattr(target, "get_username") else str(target.pk)
        return kind, str(target.pk), label
    raise TypeError(f"An audit target is a model instance or a (type, id, label) tuple, not {target!r}")


def _plain(value: Any) -> Any:
    """JSON-ready values: dates and decimals as the JSON field would store them."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return _encoder.default(value)


def _ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None
