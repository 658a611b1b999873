"""Letta's system prompt, split into its tagged sections."""

from __future__ import annotations

from .model import Section


def parse_letta_system(text: str) -> list[Section]:
    """Sections of a Letta system prompt; ``"".join(s.raw for s in result) == text`` always."""
    raise NotImplementedError
