"""Trace diffing: two provider requests (or responses, or runs) in, a structured diff out.

Pure code: JSON values in, frozen dataclasses out (``steps.diff.model``); no Django, no ORM, no HTTP, so
the pages, the REST API and the benchmark all call the same functions. ``to_dict`` makes any result
JSON-ready.

What to call:

* ``diff_requests(a, b)`` -> ``RequestDiff``: two ``request_json`` values (either may be None = no trace).
  Messages aligned as a sequence (collapsed unchanged runs, word diff inside changed messages), the system
  prompt section by section and memory block by label (Letta-aware), tools, parameters, and a ``summary``
  whose ``headline`` is the one line to show first.
* ``diff_responses(a, b)`` -> ``ResponseDiff``: final text, tool calls, finish reason, token usage deltas.
* ``diff_numbers(a, b, names=...)`` -> rows of a/b/delta/percent: ``diff_numbers(resp_a.usage,
  resp_b.usage, USAGE_NAMES)``, ``diff_numbers(metrics_a, metrics_b, TIMING_NAMES)`` (nanoseconds).
* ``diff_fields(step_a, step_b)`` -> ValueChange rows for status, stop reason, error type (``STEP_FIELDS``).
* ``context_breakdown(request_json, prompt_tokens)`` -> ``Breakdown``; ``diff_breakdowns(a, b)``.
* ``diff_json(a, b)`` (tree diff by path) and ``unified_json_diff(a, b)`` (the plain unified view, hunked);
  ``pretty(value)`` is the text that view diffs, for showing a whole document the same way.
* ``align_runs(a_steps, b_steps)`` -> ``RunAlignment`` with the first divergence in words.
* ``word_diff(a, b)`` -> ``TextDiff`` (segments at word level; line level for huge texts).
* ``normalize_request`` / ``normalize_response`` / ``parse_letta_system``: the building blocks.

Low-level diffing, and why: the standard library's ``difflib.SequenceMatcher`` (no dependency; with
``autojunk`` off, so repeated tokens such as "the" or a repeated message are not thrown away as junk)
aligns any sequence of hashables (messages by a content key, words after tokenizing) and gives the most
readable result, longest common runs first. Its cost grows with how often tokens repeat (two different
3,000-word replies: seconds), so the engine trims the common prefix and suffix first (the common case:
the later call repeats the history and appends), estimates SequenceMatcher's cost, and hands expensive
cases to RapidFuzz (``rapidfuzz.distance.Indel``: a bit-parallel longest common subsequence in C++, a
well-kept library, the same 3,000 words in ~20 ms), which also scores message similarity. Huge texts
fall back to a line diff. ``make bench`` measures it all against ``json.dumps`` + ``difflib.unified_diff``
of the same documents.
"""

from .breakdown import context_breakdown, diff_breakdowns
from .jsondiff import diff_json, pretty, unified_json_diff
from .letta import parse_letta_system
from .model import *  # noqa: F403 - the result types are part of the public API
from .model import to_dict
from .numbers import STEP_FIELDS, TIMING_NAMES, USAGE_NAMES, diff_fields, diff_numbers
from .request_diff import diff_requests
from .response_diff import diff_responses
from .response_shapes import normalize_response
from .runs import align_runs
from .shapes import normalize_request
from .text import word_diff

__all__ = [
    "align_runs",
    "context_breakdown",
    "diff_breakdowns",
    "diff_fields",
    "diff_json",
    "diff_numbers",
    "diff_requests",
    "diff_responses",
    "normalize_request",
    "normalize_response",
    "parse_letta_system",
    "pretty",
    "to_dict",
    "unified_json_diff",
    "word_diff",
    "STEP_FIELDS",
    "TIMING_NAMES",
    "USAGE_NAMES",
]
