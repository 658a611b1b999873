"""When an alert fires and resolves: pure (no Django), so the rules are tested on their own.

An alert has a state: ok (never fired), firing, resolved (fired before, fine now). Only a change
of state is an event, and each event is one notification: a firing alert stays silent however
many evaluations find it still breached.
"""

from __future__ import annotations

from dataclasses import dataclass

OK, FIRING, RESOLVED = "ok", "firing", "resolved"


def breached(condition: str, value: float | None, threshold: float, previous: float | None = None) -> bool:
    """Whether `value` breaks the condition. No figure (no steps in the window, too few to say)
    breaks nothing: an alert about a rate cannot fire on silence, and a firing one resolves."""
    if value is None:
        return False
    if condition == "above":
        return value > threshold
    if condition == "below":
        return value < threshold
    if previous is None:
        return False
    if condition == "rise":
        # ×N against the previous window; from zero, any rise is infinite: fire when it is one
        return value > 0 if previous == 0 else value >= previous * threshold
    if condition == "fall":
        return value <= previous / threshold if previous > 0 else False
    raise ValueError(f"unknown condition {condition!r}")


@dataclass(frozen=True)
class Transition:
    state: str
    event: str | None  # "firing", "resolved" or None (no change: nothing to notify)


def transition(state: str, is_breached: bool) -> Transition:
    if is_breached and state != FIRING:
        return Transition(FIRING, FIRING)
    if not is_breached and state == FIRING:
        return Transition(RESOLVED, RESOLVED)
    return Transition(state, None)


def describe(series_label: str, condition: str, value: str, threshold: str, previous: str | None) -> str:
    """One sentence for the figure against the threshold, e.g. "error rate 45% is above 30%"."""
    if condition in ("above", "below"):
        verb = "is above" if condition == "above" else "is below"
        return f"{series_label} {value} {verb} {threshold}"
    direction = "rose" if condition == "rise" else "fell"
    sign = "×" if condition == "rise" else "÷"
    return f"{series_label} {direction} to {value} from {previous} (threshold {sign}{threshold})"
