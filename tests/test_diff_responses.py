"""Responses, usage and timing deltas, context-window breakdowns and run alignment."""

import json
import subprocess
import sys

from steps.diff import (
    TIMING_NAMES,
    StepSummary,
    align_runs,
    context_breakdown,
    diff_breakdowns,
    diff_fields,
    diff_numbers,
    diff_responses,
)
from tests import diff_samples as samples
from tests.samples import body


def test_text_answer_versus_tool_call():
    diff = diff_responses(samples.openai_response(), samples.anthropic_response())

    assert [(c.op, c.name) for c in diff.tool_calls] == [("added", "memory_insert")]
    assert (diff.finish_reason.a, diff.finish_reason.b, diff.finish_reason.op) == (
        "stop",
        "tool_use",
        "changed",
    )
    assert diff.summary.items == (
        "new tool call: memory_insert",
        "text removed",
        "finish stop → tool_use",
        "-1458 prompt tokens",
        "+25 completion tokens",
    )
    prompt = next(row for row in diff.usage if row.name == "prompt_tokens")
    assert (prompt.a, prompt.b, prompt.delta, prompt.percent) == (2578, 1120, -1458, -56.6)


def test_same_tool_with_other_arguments():
    a = samples.anthropic_response()
    b = samples.anthropic_response()
    b["content"][1]["input"]["new_str"] = "likes green tea"
    (call,) = diff_responses(a, b).tool_calls
    assert call.op == "changed"
    assert [(c.path, c.a, c.b) for c in call.args] == [("new_str", "likes tea", "likes green tea")]


def test_failed_call_and_missing_trace():
    failed = body("step_failed_trace")["response_json"]
    diff = diff_responses(samples.openai_response(), failed)
    assert diff.summary.items[0].startswith("error: Error code: 400")
    assert diff_responses(None, failed).summary.headline == "no trace for A"
    assert diff_responses(failed, failed).summary.identical


def test_number_rows():
    rows = diff_numbers(
        {"llm_request_ns": 2_000_000, "tool_execution_ns": None, "step_ns": 5_000_000, "status": "ok"},
        {"llm_request_ns": 3_000_000, "tool_execution_ns": 1_000, "step_ns": 5_000_000, "flag": True},
    )
    assert [(r.name, r.a, r.b, r.delta, r.percent) for r in rows] == [
        ("llm_request_ns", 2_000_000, 3_000_000, 1_000_000, 50.0),
        ("tool_execution_ns", None, 1_000, None, None),
        ("step_ns", 5_000_000, 5_000_000, 0, 0.0),
    ]
    named = diff_numbers({"a": 0}, {"a": 5}, names=["a", "b"])
    assert [(r.name, r.delta, r.percent) for r in named] == [("a", 5, None)]


def test_breakdown_scales_to_the_real_prompt_tokens():
    request = samples.openai_request()
    breakdown = context_breakdown(request, prompt_tokens=2578)

    assert breakdown.scaled and breakdown.tokens == 2578
    assert [(p.kind, p.label) for p in breakdown.parts] == [
        ("system", "instructions"),
        ("memory_block", "human"),
        ("memory_block", "persona"),
        ("memory_metadata", "memory_metadata"),
        ("tools", "tool schemas"),
        ("messages", "message history"),
    ]
    assert sum(p.chars for p in breakdown.parts) == breakdown.chars
    assert max(breakdown.parts, key=lambda p: p.tokens).kind == "tools"

    estimate = context_breakdown(request)
    assert not estimate.scaled
    assert abs(estimate.tokens - estimate.chars / 4) <= len(estimate.parts)  # chars / 4, rounded per part


def test_breakdown_diff_shows_the_block_that_grew():
    a = {"model": "m", "messages": [{"role": "system", "content": samples.letta_system()}]}
    b = {"model": "m", "messages": [{"role": "system", "content": samples.letta_system(human="x" * 400)}]}
    diff = diff_breakdowns(context_breakdown(a), context_breakdown(b))
    grew = {(r.kind, r.label): r.delta for r in diff.rows if r.delta}
    assert list(grew) == [("memory_block", "human")] and grew[("memory_block", "human")] > 90
    assert diff.total.delta == grew[("memory_block", "human")]
    assert context_breakdown(None).parts == ()
    assert [p.kind for p in context_breakdown({"prompt": "hi"}).parts] == ["request"]


def test_runs_diverge_where_b_called_a_tool_and_a_answered():
    a = [StepSummary("a1", ("conversation_search",), "tool_call"), StepSummary("a2", (), "end_turn")]
    b = [
        {"id": "b1", "tools": ["conversation_search"], "stop_reason": "tool_call"},
        {"id": "b2", "tools": ["web_search"], "stop_reason": "tool_call"},
        {"id": "b3", "stop_reason": "end_turn"},
    ]
    runs = align_runs(a, b)

    assert [p.same for p in runs.pairs] == [True, False, False]
    assert runs.first_divergence == 1
    assert runs.divergence == "step 2: run B called `web_search` where A answered"
    assert runs.pairs[2].note == "run B went on: step 3 answered; run A had stopped"
    assert [(t.name, t.op) for t in runs.tool_ops] == [
        ("conversation_search", "unchanged"),
        ("web_search", "added"),
        ("answer", "unchanged"),
    ]
    assert align_runs(a, a).same and align_runs([], []).divergence == "both runs are empty"


def test_failed_step_is_a_divergence():
    a = [StepSummary("a1", (), "end_turn", "success")]
    b = [StepSummary("b1", (), "llm_api_error", "failed")]
    assert align_runs(a, b).divergence == "step 1: run B failed (llm_api_error) where A answered"


def test_timing_rows_from_step_metrics():
    a = body("step_metrics")
    b = {**a, "llm_request_ns": a["llm_request_ns"] * 2, "tool_execution_ns": 1_500_000}
    rows = {r.name: r for r in diff_numbers(a, b, TIMING_NAMES)}
    assert rows["llm_request_ns"].percent == 100.0
    assert (rows["tool_execution_ns"].a, rows["tool_execution_ns"].b, rows["tool_execution_ns"].delta) == (
        None,
        1_500_000,
        None,
    )
    assert rows["step_ns"].delta == 0


def test_step_fields():
    a, b = body("step"), body("step_failed")
    fields = {f.name: (f.op, f.a, f.b) for f in diff_fields(a, b)}
    assert fields["status"] == ("changed", a["status"], "failed")
    assert fields["error_type"][0] == "added"
    assert all(f.op == "unchanged" for f in diff_fields(a, a))


def test_the_engine_imports_no_django():
    code = "import sys, steps.diff; print(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework', 'httpx')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_open_files_get_their_own_part():
    files = '<directories>\n<file status="open" name="notes.md">' + "x" * 800 + "</file>\n</directories>"
    system = samples.letta_system() + "\n\n" + files
    parts = {
        p.kind: p for p in context_breakdown({"messages": [{"role": "system", "content": system}]}).parts
    }
    assert parts["files"].chars == len(files)
    assert parts["system"].chars < parts["files"].chars


def test_the_app_uses_only_the_engines_public_api():
    """Pages import steps.diff, never its modules: what the package exports is what they may rely on."""
    import ast
    from pathlib import Path

    import steps.diff

    app = Path(steps.diff.__file__).parent.parent
    reaching_in = []
    for path in app.rglob("*.py"):
        if "diff" in path.relative_to(app).parts[:1]:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                dotted = "." * node.level + node.module
                if dotted.startswith(("steps.diff.", ".diff.", "..diff.")):
                    reaching_in.append(f"{path.relative_to(app)}: from {dotted} import …")
    assert reaching_in == []
    assert all(hasattr(steps.diff, name) for name in steps.diff.__all__)


def test_only_the_parts_that_changed_carry_the_real_prompt_token_difference():
    a = samples.openai_request()
    b = {**a, "messages": [*a["messages"], *samples.openai_tool_turn()]}
    # the real counts: the history grew by 153 tokens, nothing else changed
    before = context_breakdown(a, prompt_tokens=2578)
    rows = {(r.kind, r.label): r for r in diff_breakdowns(before, context_breakdown(b, 2731)).rows}
    assert rows[("system", "instructions")].delta != 0  # each side scaled on its own: spread everywhere

    after = context_breakdown(b, prompt_tokens=2731, baseline=before)
    diff = diff_breakdowns(before, after)
    assert after.tokens == 2731 and after.scaled
    assert {(r.kind, r.label): r.delta for r in diff.rows if r.delta} == {
        ("messages", "message history"): 153
    }
    assert [(r.kind, r.label) for r in diff.rows if r.changed] == [("messages", "message history")]
    assert diff.total.delta == 153


def test_a_part_edited_at_the_same_length_is_changed_and_a_short_real_count_stays_sane():
    a = {"model": "m", "messages": [{"role": "system", "content": samples.letta_system(human="likes tea")}]}
    b = {"model": "m", "messages": [{"role": "system", "content": samples.letta_system(human="likes tee")}]}
    before = context_breakdown(a, prompt_tokens=200)
    diff = diff_breakdowns(before, context_breakdown(b, prompt_tokens=203, baseline=before))
    assert [(r.label, r.delta) for r in diff.rows if r.changed] == [("human", 3)]
    assert all(r.delta == 0 for r in diff.rows if not r.changed)

    # a real count smaller than the unchanged parts already take: the changed part keeps A's density
    grown = {"model": "m", "messages": [{"role": "system", "content": samples.letta_system(human="x" * 400)}]}
    after = context_breakdown(grown, prompt_tokens=150, baseline=before)
    rows = diff_breakdowns(before, after).rows
    assert all(r.delta == 0 for r in rows if not r.changed)
    human = next(r for r in rows if r.label == "human")
    assert human.b_tokens > human.a_tokens > 0
    # unscaled on both sides: unchanged parts agree as well
    plain = context_breakdown(b, baseline=context_breakdown(a))
    assert not plain.scaled and sum(r.delta for r in diff_breakdowns(context_breakdown(a), plain).rows) == 0


def wrote(user: str, query: str, result: str, answer: str, time: str = "2026-11-25 09:30:21 AM") -> tuple:
    """What a tool-calling step of a chat wrote, in chat shape (steps.pages.compare.messages_as_request)."""
    heartbeat = json.dumps({"type": "heartbeat", "reason": "Continuing: continue tool rule.", "time": time})
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "web_search", "arguments": json.dumps({"query": query})},
    }
    return (
        {"role": "user", "content": user},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": result},
        {"role": "user", "content": heartbeat},
        {"role": "assistant", "content": answer},
    )


def test_runs_with_the_same_tools_but_other_input_arguments_and_answers_are_not_the_same():
    def run(*steps):
        return [StepSummary(f"s{i}", ("web_search",), "end_turn", messages=m) for i, m in enumerate(steps)]

    a = run(
        wrote("tea?", "tea", "3 results", "Tea is good."), wrote("more", "green tea", "1 result", "Green.")
    )
    b = run(
        wrote("coffee?", "coffee", "9 results", "Coffee is good."),
        wrote("more", "green tea", "1 result", "Green."),
    )
    runs = align_runs(a, b)

    assert not runs.same and runs.first_divergence == 0
    assert [p.same for p in runs.pairs] == [False, True]
    assert runs.pairs[0].note == "same action; different user input, tool arguments, tool results and answers"
    assert (
        runs.divergence
        == "step 1: same action; different user input, tool arguments, tool results and answers"
    )
    assert runs.extent == (
        "same tool sequence; 1 of 2 steps differs in user input, tool arguments, tool results and answers"
    )


def test_a_heartbeat_written_at_another_time_is_the_same_step():
    a = [StepSummary("a1", ("web_search",), "end_turn", messages=wrote("tea?", "tea", "3", "Tea."))]
    later = wrote("tea?", "tea", "3", "Tea.", time="2026-11-26 10:00:00 AM")
    runs = align_runs(
        a, [{"id": "b1", "tools": ["web_search"], "stop_reason": "end_turn", "messages": later}]
    )
    assert runs.same and runs.divergence == "the runs took the same steps" and runs.extent == ""
    other = StepSummary("b1", ("web_search",), "end_turn", model="gpt-4.1", messages=later)
    assert align_runs(a, [other]).pairs[0].note == "same action; model — → gpt-4.1"


def test_json_nested_past_the_parser_in_what_a_step_wrote_is_compared_as_text():
    deep = '{"type": "heartbeat", "time": 1, "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    a = [StepSummary("a1", messages=({"role": "user", "content": deep},))]
    b = [StepSummary("b1", messages=({"role": "user", "content": deep + " "},))]
    assert align_runs(a, a).same
    assert align_runs(a, b).pairs[0].differs == ("user input",)


def test_after_another_action_the_note_names_only_the_action():
    a = [StepSummary("a1", ("web_search",), "tool_call", messages=wrote("tea?", "tea", "3", "Tea."))]
    b = [StepSummary("b1", (), "end_turn", messages=({"role": "assistant", "content": "Hello."},))]
    (pair,) = align_runs(a, b).pairs
    assert pair.note == "run B answered where A called `web_search`"
    assert pair.differs == ("user input", "tool arguments", "tool results", "answers", "heartbeats")


def test_the_real_difference_goes_to_the_parts_by_how_much_each_grew():
    def request(human: str, metadata: str, turns: int) -> dict:
        system = samples.letta_system(human=human).replace("0 previous", metadata)
        history = [{"role": "user", "content": f"question {i} " * 20} for i in range(turns)]
        return {"model": "m", "messages": [{"role": "system", "content": system}, *history]}

    before = context_breakdown(request(samples.HUMAN, "0 previous", 2), prompt_tokens=2578)
    # the metadata's count changed at the same length, the block gained a few words, the history a turn
    after = context_breakdown(request(samples.HUMAN + " Likes tea.", "4 previous", 3), 2700, baseline=before)
    deltas = {r.label: r.delta for r in diff_breakdowns(before, after).rows if r.changed}
    assert deltas["memory_metadata"] == 0
    assert 0 < deltas["human"] < 10 < deltas["message history"]
    assert sum(deltas.values()) == 122
