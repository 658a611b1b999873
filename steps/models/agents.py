"""Letta agents (GET /v1/agents/), mirrored so lists and pages can name them instead of showing ids."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.functions import Upper

from .mirrored import MirroredModel, _str, parse_upstream_datetime


class AgentQuerySet(models.QuerySet):
    def names(self, agent_ids) -> dict[str, Agent]:
        """Agents by id for a page of rows: one query, whatever the number of rows."""
        ids = {i for i in agent_ids if i}
        if not ids:
            return {}
        return self.only("id", "name", "model", "tags").in_bulk(ids)


class Agent(MirroredModel):
    """One agent. `name` is empty until Letta has told us (or when Letta no longer has it)."""

    id = models.CharField(primary_key=True, max_length=64)
    name = models.CharField(max_length=255, blank=True)
    agent_type = models.CharField(max_length=64, blank=True)
    model = models.CharField(max_length=255, blank=True, help_text="The model handle, else llm_config.model.")
    description = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    # Set when Letta answered 404 for the id: it is not asked for again until the next full listing.
    missing_upstream = models.BooleanField(default=False, editable=False)

    objects = AgentQuerySet.as_manager()

    class Meta:
        indexes = [
            # the agent filter accepts a name in any case (name__iexact compares UPPER(name)):
            # name -> ids, then the (agent_id, -step_time) index (steps/known_values.py)
            models.Index(Upper("name"), name="steps_agent_name_upper"),
        ]

    def __str__(self) -> str:
        return self.name or self.id

    @classmethod
    def columns_from_payload(cls, payload: dict) -> dict[str, Any]:
        llm = payload.get("llm_config") if isinstance(payload.get("llm_config"), dict) else {}
        # Newer servers send the handle as a top-level `model` string; older ones only llm_config.
        model = payload.get("model") if isinstance(payload.get("model"), str) else ""
        tags = payload.get("tags")
        return {
            "name": _str(payload, "name"),
            "agent_type": _str(payload, "agent_type", 64),
            "model": str(model or llm.get("handle") or llm.get("model") or "")[:255],
            "description": _str(payload, "description", 10_000),
            "tags": [str(t) for t in tags] if isinstance(tags, list) else [],
            "created_at": parse_upstream_datetime(payload.get("created_at")),
        }
