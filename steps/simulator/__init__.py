"""A stand-in for a Letta 0.16.8 server's steps API, for the demo and the tests (see docs/letta-api.md)."""

from .faults import Faults
from .server import SimulatorServer, start_simulator
from .world import AddedRun, World

__all__ = ["AddedRun", "Faults", "SimulatorServer", "World", "start_simulator"]
