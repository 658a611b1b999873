"""Diff engine speed on two large requests, as a ratio against a plain text diff measured in the same run.

    make bench                 (or: python -m tests.bench.bench_diff --repeat 7)

The documents: two OpenAI chat requests of ~1 MB with 500 messages each, shaped like consecutive calls of
a long-running Letta agent: B drops the 4 oldest messages (sliding window), repeats the other 496 and
appends a tool call, its return, an answer and a user message; the `human` memory block gains a line; a
tool is added.

- engine: ``diff_requests`` + ``diff_responses`` + both context breakdowns, i.e. everything the compare
  page computes before rendering (the unified JSON view, computed only when asked for, is timed apart).
- baseline: ``json.dumps(sort_keys=True, indent=2)`` of both documents + ``difflib.unified_diff`` of their
  lines, the obvious way to diff two JSON blobs.

Also timed: the unified JSON view, serializing the diff to JSON (what the REST API would send), and two
unrelated conversations of the same size (another agent: almost nothing lines up, the worst case).
Medians of several runs; the ratio is engine / baseline (under 1 means faster than the plain text diff).
"""

import argparse
import difflib
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from steps.diff import context_breakdown, diff_requests, diff_responses, to_dict, unified_json_diff  # noqa: E402
from tests import diff_samples  # noqa: E402

WORDS = [
    "the",
    "agent",
    "memory",
    "block",
    "user",
    "tool",
    "search",
    "archival",
    "recall",
    "message",
    "summary",
    "context",
    "window",
    "token",
    "model",
    "request",
    "response",
    "step",
    "run",
    "trace",
    "review",
    "feedback",
    "letta",
    "provider",
    "system",
    "prompt",
    "persona",
    "human",
    "value",
]
MESSAGES = 500
TARGET_BYTES = 1_000_000


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def turn(rng: random.Random, index: int, size: int) -> list[dict]:
    """Four messages: user, tool call, tool return, assistant answer."""
    call_id = f"call_{index:06d}"
    arguments = json.dumps({"query": sentence(rng, 6)})
    result = json.dumps({"status": "OK", "results": [sentence(rng, 12) for _ in range(max(1, size // 90))]})
    return [
        {
            "role": "user",
            "content": f"msg {index}: " + " ".join(sentence(rng, 10) for _ in range(size // 120)),
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": "archival_memory_search", "arguments": arguments},
                }
            ],
        },
        {"role": "tool", "content": result, "tool_call_id": call_id},
        {"role": "assistant", "content": " ".join(sentence(rng, 14) for _ in range(size // 100))},
    ]


def documents(seed: int = 1) -> tuple[dict, dict, dict, dict]:
    rng = random.Random(seed)
    base = diff_samples.openai_request()
    size = TARGET_BYTES * 3 // MESSAGES // 2  # per-turn text budget, tuned so each document is ~1 MB
    history = [m for i in range(MESSAGES // 4 + 1) for m in turn(rng, i, size)]
    human = "The human is a tester. " + sentence(rng, 40)
    system_a = diff_samples.letta_system(human=human, persona=sentence(rng, 60))
    system_b = system_a.replace(human, human + "\nLikes green tea.")
    a = {**base, "messages": [{"role": "system", "content": system_a}, *history[:MESSAGES]]}
    appended = turn(rng, 10_000, size)
    b = {**base, "messages": [{"role": "system", "content": system_b}, *history[4:MESSAGES], *appended]}
    b["tools"] = [*base["tools"], {"type": "function", "function": {"name": "web_search", "parameters": {}}}]
    response_a = diff_samples.openai_response()
    response_b = diff_samples.openai_response()
    response_b["usage"]["prompt_tokens"] += 180
    return a, b, response_a, response_b


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--only", default="", help="run only when one of these comma-separated words is 'diff'"
    )
    args, _ = parser.parse_known_args()  # `make bench` passes the same BENCH_ARGS to every bench
    if args.only and "diff" not in args.only.lower():
        return
    a, b, response_a, response_b = documents()

    def engine():
        diff = diff_requests(a, b)
        diff_responses(response_a, response_b)
        context_breakdown(a, 250_000)
        context_breakdown(b, 250_180)
        return diff

    def baseline():
        a_lines = json.dumps(a, sort_keys=True, indent=2).splitlines()
        b_lines = json.dumps(b, sort_keys=True, indent=2).splitlines()
        return list(difflib.unified_diff(a_lines, b_lines, lineterm=""))

    diff = engine()
    size_a, size_b = len(json.dumps(a)), len(json.dumps(b))
    print(
        f"documents: A {size_a / 1e6:.2f} MB, {len(a['messages'])} messages; B {size_b / 1e6:.2f} MB, {len(b['messages'])} messages"
    )
    print(f"headline:  {diff.summary.headline}")
    engine_ms = median_ms(engine, args.repeat)
    baseline_ms = median_ms(baseline, args.repeat)
    unified_ms = median_ms(lambda: unified_json_diff(a, b), args.repeat)
    serialize_ms = median_ms(lambda: json.dumps(to_dict(diff)), args.repeat)
    compact_ms = median_ms(lambda: json.dumps(to_dict(diff, compact=True)), args.repeat)
    sizes = len(json.dumps(to_dict(diff))) / 1e6, len(json.dumps(to_dict(diff, compact=True))) / 1e6
    other, _, _, _ = documents(seed=2)  # another agent's conversation: nothing lines up
    unrelated_ms = median_ms(lambda: diff_requests(a, other), args.repeat)
    unrelated_baseline_ms = median_ms(
        lambda: list(
            difflib.unified_diff(
                json.dumps(a, sort_keys=True, indent=2).splitlines(),
                json.dumps(other, sort_keys=True, indent=2).splitlines(),
                lineterm="",
            )
        ),
        args.repeat,
    )
    print(f"baseline (json.dumps + difflib.unified_diff): {baseline_ms:8.1f} ms")
    print(
        f"engine   (requests + response + breakdowns):  {engine_ms:8.1f} ms   ratio {engine_ms / baseline_ms:.2f}"
    )
    print(
        f"unified JSON view (unified_json_diff):        {unified_ms:8.1f} ms   ratio {unified_ms / baseline_ms:.2f}"
    )
    print(f"JSON of the diff (to_dict + json.dumps):      {serialize_ms:8.1f} ms   {sizes[0]:.1f} MB")
    print(f"compact JSON (to_dict(compact=True)):         {compact_ms:8.1f} ms   {sizes[1]:.2f} MB")
    print(
        f"unrelated conversations (diff_requests):      {unrelated_ms:8.1f} ms   ratio {unrelated_ms / unrelated_baseline_ms:.2f}"
        f" (baseline {unrelated_baseline_ms:.1f} ms)"
    )
    print(f"target: engine under 300 ms -> {'OK' if engine_ms < 300 else 'OVER'} (median of {args.repeat})")


if __name__ == "__main__":
    main()
