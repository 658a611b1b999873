"""Context-window breakdown: how much of a request is system prompt, each memory block, tools, history."""

from __future__ import annotations

from typing import Any

from .model import Breakdown, BreakdownDiff


def context_breakdown(request_json: Any, prompt_tokens: int | None = None) -> Breakdown:
    """Parts of the request in characters and estimated tokens (chars/4, scaled so the total equals
    ``prompt_tokens`` when given and positive)."""
    raise NotImplementedError


def diff_breakdowns(a: Breakdown | None, b: Breakdown | None) -> BreakdownDiff:
    """Row per (kind, label) present on either side, with the token delta; plus the total."""
    raise NotImplementedError
