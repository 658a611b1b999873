"""The demo's simulator keeps its world across restarts (steps/simulator/state.py): a restarted
`make run` still serves the steps its mirror holds."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from steps.simulator import state
from tests.conftest import make_world

ROOT = Path(__file__).resolve().parent.parent


def dump(world) -> str:
    return json.dumps(world.snapshot(), default=str, sort_keys=True)


def test_a_saved_world_loads_whole_and_moves_on(tmp_path):
    world = make_world(initial_runs=5)
    world.tick()
    world.set_feedback(world.step_ids()[0], "negative", ["slow"])
    path = tmp_path / "world.pickle"

    state.save(world, path)
    loaded = state.load(path)

    assert dump(loaded) == dump(world)
    loaded.tick()  # with its own lock and clock, as a running simulator needs
    assert loaded.step_ids()[: len(world.step_ids())] == world.step_ids()


def test_no_file_or_an_unreadable_one_gives_a_new_world(tmp_path):
    path = tmp_path / "world.pickle"
    assert state.load(path) is None
    path.write_bytes(b"not a pickle")
    assert state.load(path) is None
    assert (tmp_path / "world.pickle.unreadable").read_bytes() == b"not a pickle"  # kept aside, not lost


def start(state_file: Path, log: Path) -> tuple[subprocess.Popen, str]:
    argv = [sys.executable, "manage.py", "letta_simulator", "--port", "0", "--seed", "random"]
    argv += ["--initial-runs", "3", "--new-run-every", "0.05", "--state-file", str(state_file)]
    output = open(log, "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(argv, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while not (found := re.search(r"listening on (http://\S+)", log.read_text())):
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    return process, found.group(1)


def served_steps(url: str) -> dict[str, dict]:
    steps = httpx.get(f"{url}/v1/steps/", params={"limit": 10_000, "order": "asc"}, timeout=10).json()
    return {step["id"]: step for step in steps}


def stop(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGTERM)  # as `manage.py serve` stops it
    assert process.wait(timeout=30) == 0


def test_a_restarted_simulator_serves_the_steps_it_served_before(tmp_path):
    state_file = tmp_path / "var" / "simulator-world.pickle"
    first, url = start(state_file, tmp_path / "first.log")
    try:
        time.sleep(0.5)  # a few ticks: steps beyond the initial runs
        before = served_steps(url)
        voted = next(iter(before))
        httpx.patch(f"{url}/v1/steps/{voted}/feedback", json={"feedback": "positive"}, timeout=10)
    finally:
        stop(first)
    assert "its world is saved in" in (tmp_path / "first.log").read_text()

    second, url = start(state_file, tmp_path / "second.log")
    try:
        after = served_steps(url)
    finally:
        stop(second)

    assert "resumed from" in (tmp_path / "second.log").read_text()
    assert len(before) > 3 and set(before) <= set(after)  # the same ids, none lost to a new seed
    assert after[voted]["feedback"] == "positive"
    for step_id, step in before.items():
        if step["status"] != "pending":  # finished steps are served as they were
            assert after[step_id] == (step | {"feedback": "positive"} if step_id == voted else step)
