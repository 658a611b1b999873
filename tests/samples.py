"""Access to the real Letta 0.16.8 responses recorded in tests/letta_samples/."""

import copy
import json
from pathlib import Path

SAMPLES_DIR = Path(__file__).parent / "letta_samples"


def sample(name: str) -> dict:
    """The whole recorded exchange: {"status", "note", "body"}."""
    return json.loads((SAMPLES_DIR / f"{name}.json").read_text())


def body(name: str):
    return copy.deepcopy(sample(name)["body"])
