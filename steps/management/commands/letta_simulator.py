"""Run the Letta simulator in the foreground: `python manage.py letta_simulator --port 8283`."""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import threading
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from steps.simulator import Faults, World, start_simulator, state
from steps.simulator.world import LIST_MODES, TRACE_BACKENDS


def seed_arg(value: str) -> int:
    """An int, or "random": a world of its own. `make run` asks for one the first time (its world
    then lives on in --state-file): a seed-7 world started again would serve the old step and run
    ids with new times and contents, which the sync would write over the steps it had mirrored."""
    if value == "random":
        return secrets.randbelow(2**31)
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer or 'random'") from None


class Command(BaseCommand):
    help = "Serve a simulated Letta 0.16.8 steps API with live arrivals (no database needed)."
    # The simulator never touches the database, so it must start even before migrations exist.
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8283, help="Letta's default port; 0 picks a free one")
        parser.add_argument(
            "--nonce",
            default=os.environ.get("LETTA_SIMULATOR_NONCE", ""),
            help="answered on /_simulator/identity so a launcher can tell this process from a real Letta",
        )
        parser.add_argument("--seed", type=seed_arg, default=7, help="an integer, or 'random'")
        parser.add_argument("--agent-seed", type=int, default=None, help="agents from their own seed")
        parser.add_argument("--agents", type=int, default=4)
        parser.add_argument("--initial-runs", type=int, default=60)
        parser.add_argument(
            "--new-run-every",
            type=float,
            default=3.0,
            help="seconds between world ticks; 0 freezes the world",
        )
        parser.add_argument("--list-mode", choices=LIST_MODES, default="patched")
        parser.add_argument(
            "--indexed-lists",
            action="store_true",
            help="serve unfiltered ascending list pages from a sorted index (large worlds, e.g. the sync bench)",
        )
        parser.add_argument("--trace-backend", choices=TRACE_BACKENDS, default="postgres")
        parser.add_argument(
            "--metrics-start-missing-rate",
            type=float,
            default=0.15,
            help="share of steps whose metrics lack step_start_ns; 1 plays a real 0.16.8 server",
        )
        parser.add_argument("--api-key", default=None, help="require Authorization: Bearer <key>")
        parser.add_argument("--error-rate", type=float, default=0.0)
        parser.add_argument("--conflict-rate", type=float, default=0.0)
        parser.add_argument("--timeout-rate", type=float, default=0.0)
        parser.add_argument("--truncate-rate", type=float, default=0.0)
        parser.add_argument("--latency-ms", type=int, default=0)
        parser.add_argument("--hang-seconds", type=float, default=30.0)
        parser.add_argument(
            "--state-file",
            type=Path,
            default=None,
            help="keep the world here across restarts: resumed when the file exists (seed, agents and "
            "initial runs are then those of the saved world), saved every --save-every seconds and on stop",
        )
        parser.add_argument("--save-every", type=float, default=30.0, help="seconds between saves")

    def handle(self, *args, **options) -> None:
        state_file: Path | None = options["state_file"]
        world = state.load(state_file) if state_file else None
        resumed = world is not None
        if world is None:
            world = World(
                seed=options["seed"],
                agents=options["agents"],
                initial_runs=options["initial_runs"],
                list_mode=options["list_mode"],
                trace_backend=options["trace_backend"],
                metrics_start_missing_rate=options["metrics_start_missing_rate"],
                agent_seed=options["agent_seed"],
                indexed_lists=options["indexed_lists"],
            )
        else:  # how it answers is this start's choice; what it holds is the saved world's
            world.list_mode, world.trace_backend = options["list_mode"], options["trace_backend"]
            world.metrics_start_missing_rate = options["metrics_start_missing_rate"]
            world.indexed_lists = options["indexed_lists"]
        faults = Faults(
            error_rate=options["error_rate"],
            latency_ms=options["latency_ms"],
            conflict_rate=options["conflict_rate"],
            timeout_rate=options["timeout_rate"],
            truncate_rate=options["truncate_rate"],
            hang_seconds=options["hang_seconds"],
            seed=options["seed"],
        )
        try:
            simulator = start_simulator(
                world, faults, options["host"], options["port"], options["api_key"], nonce=options["nonce"]
            )
        except OSError as exc:
            raise CommandError(f"cannot listen on {options['host']}:{options['port']}: {exc}") from exc
        counts = world.state()
        origin = f", resumed from {state_file}" if resumed else ""
        self.stdout.write(
            f"Letta simulator listening on {simulator.base_url} "
            f"({counts['runs']} runs, {counts['steps']} steps, list mode {world.list_mode}{origin}); "
            "Ctrl-C stops it."
        )
        self.stdout.flush()  # a launcher reading our stdout through a pipe needs the URL now
        stop = threading.Event()
        # `manage.py serve` stops its children with SIGTERM: a clean stop, so the world is saved
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            self.live(
                world, stop, options["new_run_every"], state_file, options["save_every"], options["verbosity"]
            )
        except KeyboardInterrupt:
            pass
        finally:
            simulator.stop()
            if state_file:
                state.save(world, state_file)
            self.stdout.write(
                f"Letta simulator stopped{f'; its world is saved in {state_file}' if state_file else ''}."
            )

    def live(self, world: World, stop: threading.Event, interval: float, state_file, save_every, verbosity):
        """Tick the world every `interval` seconds (0: never) and save it every `save_every` seconds
        (with a state file), until `stop` is set."""
        every = {"tick": interval if interval > 0 else 0, "save": save_every if state_file else 0}
        due = {job: time.monotonic() + seconds for job, seconds in every.items() if seconds > 0}
        while not stop.wait(max(0.0, min(due.values()) - time.monotonic()) if due else None):
            now = time.monotonic()
            if now >= due.get("tick", now + 1):
                world.tick()
                due["tick"] = now + every["tick"]
                if verbosity >= 2:
                    self.stdout.write(f"tick {world.ticks}: {world.state()['step_statuses']}")
            if now >= due.get("save", now + 1):
                state.save(world, state_file)
                due["save"] = now + every["save"]
