"""The demo's world kept across restarts: `make run` would otherwise start a new world each time,
and every step the mirror holds would be gone from its Letta (404) after a restart.

A pickle of the whole World, written atomically (a temporary file, then a rename) every few
seconds and when the simulator stops. Pickle because the world is plain Python objects (rows,
plans, a random generator mid-sequence) and the file is this process's own, under var/: it is
never read from anywhere else. A file that cannot be read (from another version of the
simulator, cut short) is set aside and a new world begins.
"""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path

from .world import World

log = logging.getLogger(__name__)

FORMAT = 1  # bump when World's attributes change in a way an old file cannot fill


def save(world: World, path: Path) -> None:
    with world.lock:  # a consistent world: no tick or PATCH half-applied
        blob = pickle.dumps({"format": FORMAT, "world": world}, protocol=pickle.HIGHEST_PROTOCOL)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as file:
        file.write(blob)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)  # a crash mid-write leaves the previous file whole


def load(path: Path) -> World | None:
    """The saved world, or None: no file yet, or one that cannot be read (kept aside as *.unreadable)."""
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        saved = pickle.loads(blob)
        if saved.get("format") != FORMAT or not isinstance(saved.get("world"), World):
            raise ValueError(f"format {saved.get('format')!r}, expected {FORMAT}")
    # unpickling an old or cut-short file can fail in many ways; each means "start afresh"
    except Exception as exc:
        aside = path.with_name(path.name + ".unreadable")
        os.replace(path, aside)
        log.warning(
            "Simulator state %s cannot be read (%s); moved to %s, starting a new world", path, exc, aside
        )
        return None
    return saved["world"]
