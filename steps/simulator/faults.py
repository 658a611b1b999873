"""Transport and server faults the simulator can inject, changeable while it runs."""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass, field

# Bodies of the real server (§6). Letta never answers 502 itself: that one comes from the proxy in front of it.
ERROR_BODIES: dict[int, tuple[str, bytes]] = {
    500: ("application/json", b'{"detail":"An unknown error occurred"}'),
    502: (
        "text/html",
        b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
        b"</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
    ),
    503: (
        "application/json",
        b'{"detail":"The database is temporarily unavailable. Please try again later."}',
    ),
    409: (
        "application/json",
        b'{"detail":"Database is busy (lock not available). Please retry your request."}',
    ),
    401: ("application/json", b'{"detail":"Unauthorized"}'),
    504: ("text/plain", b"upstream request timeout"),
}

FIELDS = (
    "error_rate",
    "latency_ms",
    "conflict_rate",
    "timeout_rate",
    "truncate_rate",
    "hang_seconds",
    "down",
    "methods",
)


@dataclass(frozen=True)
class Decision:
    """What to do with one request."""

    status: int | None = None  # answer this error status instead of the real response
    hang: bool = False  # sleep hang_seconds first
    truncate: bool = False  # promise more bytes than are sent, then close


@dataclass
class Faults:
    error_rate: float = 0.0
    latency_ms: int = 0
    conflict_rate: float = 0.0
    timeout_rate: float = 0.0
    truncate_rate: float = 0.0
    hang_seconds: float = 30.0
    down: bool = False
    # Only requests with one of these methods (e.g. "PATCH") draw faults; empty: every request.
    methods: str = ""
    seed: int = 0
    _forced: deque = field(default_factory=deque, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def fail_next(self, n: int = 1, status: int = 503) -> None:
        """The next ``n`` API requests answer ``status`` with the server's body for it (deterministic tests)."""
        with self._lock:
            self._forced.extend([status] * n)

    def clear(self) -> None:
        with self._lock:
            self._forced.clear()
            self.error_rate = self.conflict_rate = self.timeout_rate = self.truncate_rate = 0.0
            self.latency_ms = 0
            self.down = False
            self.methods = ""

    def update(self, values: dict) -> None:
        for name, value in values.items():
            if name not in FIELDS:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(FIELDS)}")
            current = getattr(self, name)
            setattr(self, name, bool(value) if isinstance(current, bool) else type(current)(value))

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in FIELDS} | {"forced": list(self._forced)}

    def applies_to(self, method: str) -> bool:
        return not self.methods or method.upper() in self.methods.upper().replace(",", " ").split()

    def decide(self) -> Decision:
        with self._lock:
            if self._forced:
                return Decision(status=self._forced.popleft())
            # Draw only for enabled knobs, so turning one knob on does not reshuffle the others' sequence.
            hang = self.timeout_rate > 0 and self._rng.random() < self.timeout_rate
            if self.error_rate > 0 and self._rng.random() < self.error_rate:
                return Decision(status=self._rng.choice([500, 502, 503]), hang=hang)
            if self.conflict_rate > 0 and self._rng.random() < self.conflict_rate:
                return Decision(status=409, hang=hang)
            truncate = self.truncate_rate > 0 and self._rng.random() < self.truncate_rate
            return Decision(hang=hang, truncate=truncate)
