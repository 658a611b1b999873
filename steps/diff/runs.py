"""Two runs' steps aligned, and where they first diverge."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .model import RunAlignment, StepSummary


def align_runs(
    a_steps: Sequence[StepSummary | Mapping], b_steps: Sequence[StepSummary | Mapping]
) -> RunAlignment:
    """Align by position and by tool sequence; report the first divergence in words."""
    raise NotImplementedError
