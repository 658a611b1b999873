"""The compare page's structural view of two ~1 MB / 500-message requests: diff + render, against
``json.dumps`` + ``difflib`` of the same two documents measured in the same run.

    make bench                 (or: python -m tests.bench.bench_compare_page --repeat 7)

Uses the documents of ``bench_diff`` (consecutive calls of a long-running Letta agent). Timed:
``steps.pages.compare.compare_steps`` (request, response, the steps' own messages, token and timing deltas,
both context breakdowns, the headline) plus rendering the structural view's templates (messages with
the 496 repeated ones folded, system prompt by section, tools, parameters, response, context bars).
No database: the steps are unsaved model instances, so only Python and the templates are measured.
"""

import argparse
import difflib
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

import django  # noqa: E402

django.setup()

from django.template.loader import render_to_string  # noqa: E402

from steps.models import ProviderTrace, Step, StepMetrics  # noqa: E402
from steps.pages import compare  # noqa: E402
from tests.bench.bench_diff import documents, median_ms  # noqa: E402


def side(step_id: str, request_json: dict, response_json: dict, prompt_tokens: int) -> compare.Side:
    step = Step(
        id=step_id, prompt_tokens=prompt_tokens, completion_tokens=40, status="success", model="gpt-4o"
    )
    # assigning the reverse one-to-one caches it: no query for step.metrics
    step.metrics = StepMetrics(step=step, llm_request_ns=900_000_000, tool_execution_ns=None, step_ns=10**9)
    trace = ProviderTrace(
        step=step, call_type="agent_step", request_json=request_json, response_json=response_json
    )
    return compare.Side(step, [trace], messages=[], trace_number=1)


def render(c: compare.StepComparison) -> str:
    context = {"c": c, "view": "structural", "hide_unchanged": False, "trace_query": ""}
    html = render_to_string("steps/_compare_structural.html", context)
    for bk in (c.breakdown_a, c.breakdown_b):
        html += render_to_string("steps/_context_bar.html", {"bk": bk, "legend": True})
    return html


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--only", default="", help="run only when one of these comma-separated words is 'compare'"
    )
    args, _ = parser.parse_known_args()  # `make bench` passes the same BENCH_ARGS to every bench
    if args.only and "compare" not in args.only.lower():
        return
    a, b, response_a, response_b = documents()
    side_a = side("step-00000000-0000-4000-8000-00000000000a", a, response_a, 250_000)
    side_b = side("step-00000000-0000-4000-8000-00000000000b", b, response_b, 250_180)

    def page() -> str:
        return render(compare.compare_steps(side_a, side_b))

    def baseline() -> list[str]:
        a_lines = json.dumps(a, sort_keys=True, indent=2).splitlines()
        b_lines = json.dumps(b, sort_keys=True, indent=2).splitlines()
        return list(difflib.unified_diff(a_lines, b_lines, lineterm=""))

    html = page()
    comparison = compare.compare_steps(side_a, side_b)
    page_ms = median_ms(page, args.repeat)
    diff_ms = median_ms(lambda: compare.compare_steps(side_a, side_b), args.repeat)
    render_ms = median_ms(lambda: render(comparison), args.repeat)
    baseline_ms = median_ms(baseline, args.repeat)
    print(f"headline:  {' · '.join(comparison.headline)}")
    print(f"structural view HTML: {len(html) / 1e3:.0f} KB")
    print(f"baseline (json.dumps + difflib.unified_diff):  {baseline_ms:8.1f} ms")
    print(f"compare page: diff (compare_steps)             {diff_ms:8.1f} ms")
    print(f"compare page: render (structural templates)    {render_ms:8.1f} ms")
    print(
        f"compare page: diff + render                    {page_ms:8.1f} ms   ratio {page_ms / baseline_ms:.2f}"
    )
    print(
        f"target: diff + render under 300 ms -> {'OK' if page_ms < 300 else 'OVER'} (median of {args.repeat})"
    )


if __name__ == "__main__":
    main()
