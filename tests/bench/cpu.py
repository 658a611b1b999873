"""CPU time per process group, from /proc: what the web, a worker, the simulator or PostgreSQL
spent during a measurement, however busy the machine was (wall time says how long, this says
who paid). Linux only, as the benches are."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path


def process_tree(pid: int) -> Iterator[int]:
    """A process and its children alive now, from /proc (gunicorn's workers, a Celery pool)."""
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue  # gone meanwhile
        yield current
        pending += [int(child) for child in children]


def tree_cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) of a process and its children alive now: gunicorn's master and
    workers, a Celery parent and its pool child, the simulator."""
    if not pid:
        return 0.0
    ticks, total = os.sysconf("SC_CLK_TCK"), 0.0
    for current in process_tree(pid):
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, ValueError, IndexError):
            continue
    return total


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and its children (a prefork worker's pool)."""
    page, total = os.sysconf("SC_PAGE_SIZE"), 0
    for current in process_tree(pid):
        try:
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * page
        except (OSError, ValueError, IndexError):
            continue
    return total


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL process on the machine (all databases: other work counts too),
    with that of backends that ended (their postmaster's reaped children's time)."""
    ticks, total = os.sysconf("SC_CLK_TCK"), 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, _, rest = stat.read_text().rpartition(")")
            if head.endswith("(postgres"):
                fields = rest.split()
                total += sum(int(f) for f in fields[11:15]) / ticks
        except (OSError, ValueError, IndexError):
            continue
    return total


class CpuSplit:
    """CPU seconds per named process tree, PostgreSQL and this process, between start() and
    stop(): `split.seconds` maps each name to what it spent."""

    def __init__(self, pids: dict[str, int | list[int]], own: str = "bench"):
        self.pids = {name: pid if isinstance(pid, list) else [pid] for name, pid in pids.items()}
        self.own = own  # what this process's own CPU is called
        self.seconds: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        now = {name: sum(tree_cpu_seconds(pid) for pid in pids) for name, pids in self.pids.items()}
        now["postgres"] = postgres_cpu_seconds()
        now[self.own] = sum(os.times()[:2])
        return now

    def start(self) -> CpuSplit:
        self._before = self._now()
        return self

    def stop(self) -> dict[str, float]:
        after = self._now()
        self.seconds = {name: after[name] - self._before.get(name, 0.0) for name in after}
        return self.seconds

    def per(self, units: int) -> str:
        """'simulator 2.1 + postgres 1.4 + ... = 5.0 ms' per unit (a step)."""
        parts = [f"{name} {seconds * 1000 / units:.1f}" for name, seconds in self.seconds.items() if seconds]
        total = sum(self.seconds.values()) * 1000 / units
        return " + ".join(parts) + f" = {total:.1f} ms"
