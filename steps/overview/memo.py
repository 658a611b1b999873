"""What a page draws from the rollups, kept in this process while the rollups stay the same.

The overview's charts and tables and the list's sparkline are drawn from rollups alone (with
the price table and agent names), and the rollups change only when a flush writes them: every
flush bumps `RollupEpoch`. A page reads the epoch (one primary-key read) and reuses what it drew
for the same key under the same epoch, so twenty reviewers opening the overview draw it once.

While reviewers vote, flushes follow each other a few seconds apart (at most one per three
seconds per web process, feedback/outbox.py); a drawing is then reused for up to
`ROLLUP_DRAWING_MAX_AGE` seconds (15) even though the epoch moved, so the overview may lag a vote
by that long, as it already lags it by the flush's delay. Per process, no pickling:
the values are shared and must be treated as read-only. Least recently used out first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from django.conf import settings

from ..models import RollupEpoch

SIZE = 64  # drawings kept: a handful of periods x filters is what a team opens

_lock = threading.Lock()
_drawings: OrderedDict[Hashable, tuple[int, float, object]] = OrderedDict()


def drawn[T](key: Hashable, draw: Callable[[], T]) -> T:
    """`draw()`'s value for `key`, drawn again only when the rollups changed since (and the
    drawing is older than ROLLUP_DRAWING_MAX_AGE seconds)."""
    epoch, now = RollupEpoch.current(), time.monotonic()
    max_age = settings.ROLLUP_DRAWING_MAX_AGE
    with _lock:
        found = _drawings.get(key)
        if found is not None and (found[0] == epoch or now - found[1] < max_age):
            _drawings.move_to_end(key)
            return found[2]  # type: ignore[return-value]
    value = draw()  # outside the lock: two threads may both draw once, neither waits
    with _lock:
        _drawings[key] = (epoch, now, value)
        _drawings.move_to_end(key)
        while len(_drawings) > SIZE:
            _drawings.popitem(last=False)
    return value


def forget() -> None:
    """Drop every drawing (tests start from an empty process)."""
    with _lock:
        _drawings.clear()
