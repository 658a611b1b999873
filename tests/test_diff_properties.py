"""Properties of the diff engine over generated requests and hostile input (hypothesis)."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steps.diff import (
    context_breakdown,
    diff_json,
    diff_requests,
    diff_responses,
    parse_letta_system,
    to_dict,
    unified_json_diff,
    word_diff,
)
from steps.diff import text as text_module
from steps.diff.model import UnchangedRun
from tests import diff_samples as samples

# No deadline: a timing threshold would make these tests flaky on a busy machine (speed is `make bench`'s).
RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

HOSTILE = ["<script>alert(1)</script>", "\x00", "</value>", "<human>", "{{ x }}", "&amp;", "\u202e", "  \n"]
text = st.one_of(st.text(max_size=40), st.sampled_from(HOSTILE), st.text(alphabet="ab <>/\n", max_size=30))


@st.composite
def message(draw):
    kind = draw(st.sampled_from(["user", "assistant", "call", "tool"]))
    if kind == "call":
        name = draw(st.sampled_from(["web_search", "memory_insert", "send"]))
        args = json.dumps({"q": draw(text)})
        function = {"name": name, "arguments": args}
        return {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c", "type": "function", "function": function}],
        }
    if kind == "tool":
        return {"role": "tool", "content": draw(text), "tool_call_id": "c"}
    return {"role": kind, "content": draw(text)}


@st.composite
def request(draw, messages=None):
    system = samples.letta_system(human=draw(text), persona=draw(text))
    tools = [
        {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
        for name in draw(st.lists(st.sampled_from(["a", "b", "c"]), unique=True))
    ]
    body = draw(messages if messages is not None else st.lists(message(), max_size=12))
    return {
        "model": draw(st.sampled_from(["gpt-4o-mini", "gpt-4.1"])),
        "messages": [{"role": "system", "content": system}, *body],
        "tools": tools,
        "temperature": draw(st.sampled_from([0.0, 1.0])),
    }


def flat(diff):
    ops = []
    for entry in diff.messages.entries:
        ops.extend(entry.items if isinstance(entry, UnchangedRun) else [entry])
    return ops


@given(request())
@RELAXED
def test_a_request_diffed_with_itself_is_all_unchanged(value):
    diff = diff_requests(value, value)
    assert diff.summary.identical
    assert all(op.op == "unchanged" for op in flat(diff))
    assert diff.system.op == "unchanged" and all(s.op == "unchanged" for s in diff.system.sections)
    assert all(t.op == "unchanged" for t in diff.tools) and all(p.op == "unchanged" for p in diff.params)


@given(request(), message())
@RELAXED
def test_appending_a_message_is_exactly_one_addition(value, extra):
    longer = {**value, "messages": [*value["messages"], extra]}
    diff = diff_requests(value, longer)
    assert (diff.messages.added, diff.messages.removed, diff.messages.changed) == (1, 0, 0)
    assert flat(diff)[-1].op == "added"
    assert diff.summary.headline.startswith("1 message appended")


@given(request(), request())
@RELAXED
def test_both_sides_are_kept_in_order_and_swapping_swaps_additions_and_removals(a, b):
    forward, backward = diff_requests(a, b), diff_requests(b, a)
    # Every message of each side appears once, in its order.
    assert [op.a.index for op in flat(forward) if op.a] == [m.index for m in forward.a.messages]
    assert [op.b.index for op in flat(forward) if op.b] == [m.index for m in forward.b.messages]
    added = sorted(op.b.text for op in flat(forward) if op.op == "added")
    removed = sorted(op.a.text for op in flat(backward) if op.op == "removed")
    assert added == removed
    assert forward.messages.changed == backward.messages.changed
    assert {t.name for t in forward.tools if t.op == "added"} == {
        t.name for t in backward.tools if t.op == "removed"
    }
    assert {p.name for p in forward.params if p.op != "unchanged"} == {
        p.name for p in backward.params if p.op != "unchanged"
    }


@given(st.lists(st.sampled_from(["a", "b"]), max_size=10), st.lists(st.sampled_from(["a", "b"]), max_size=10))
@RELAXED
def test_message_alignment_swaps_exactly_for_distinct_messages(left, right):
    def build(keys):
        return {"messages": [{"role": "user", "content": f"{k} {i}"} for i, k in enumerate(keys)]}

    forward, backward = diff_requests(build(left), build(right)), diff_requests(build(right), build(left))
    assert (forward.messages.added, forward.messages.removed) == (
        backward.messages.removed,
        backward.messages.added,
    )


@st.composite
def turns(draw, min_size=0):
    out = []
    for index in range(draw(st.integers(min_value=min_size, max_value=8))):
        kind = draw(st.sampled_from(["user", "assistant", "call"]))
        if kind == "call":
            name = draw(st.sampled_from(["web_search", "send"]))
            out.append({"call": name, "args": {"q": draw(text)}, "id": f"c{index}"})
            out.append({"result": draw(text), "id": f"c{index}", "name": name})
        else:
            out.append({"role": kind, "text": draw(text)})
    return out


@given(st.sampled_from(samples.SHAPES), text, turns(), turns(min_size=1))
@RELAXED
def test_every_shape_self_diff_is_identical_and_appending_adds_exactly_those_turns(shape, system, old, new):
    before = samples.render(shape, system, old)
    after = samples.render(shape, system, old + new)
    assert diff_requests(before, before).summary.identical
    diff = diff_requests(before, after)
    assert diff.shape_a == diff.shape_b == shape
    assert (diff.messages.added, diff.messages.removed, diff.messages.changed) == (len(new), 0, 0)
    assert [op.op for op in flat(diff)] == ["unchanged"] * len(old) + ["added"] * len(new)


tagged = st.lists(
    st.one_of(
        text,
        st.sampled_from(
            ["<memory_blocks>", "</memory_blocks>", "<human>", "</human>", "<value>", "</value>", "<x a='1'>"]
            + [
                "</x>",
                "<base_instructions>",
                "</base_instructions>",
                "<memory_metadata>",
                "</memory_metadata>",
                "<",
            ]
        ),
    ),
    max_size=20,
).map("".join)


@given(st.one_of(tagged, st.text()))
@RELAXED
def test_letta_system_sections_keep_all_the_text(prompt):
    assert "".join(s.raw for s in parse_letta_system(prompt)) == prompt


@given(st.text(), st.text(), st.sampled_from([text_module.MATCHER_BUDGET, 0]))
@RELAXED
def test_word_diff_sides_are_the_inputs(a, b, budget):
    # budget 0 sends every middle through RapidFuzz and the cleanup pass.
    original = text_module.MATCHER_BUDGET
    text_module.MATCHER_BUDGET = budget
    try:
        diff = word_diff(a, b)
    finally:
        text_module.MATCHER_BUDGET = original
    assert (diff.a, diff.b) == (a, b)
    assert diff.changed == (a != b)
    assert all(s.text for s in diff.segments)
    assert all(x.op != y.op for x, y in zip(diff.segments, diff.segments[1:], strict=False))


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), text),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=30,
)
shaped = st.fixed_dictionaries(
    {},
    optional={
        "messages": st.lists(st.one_of(json_values, message()), max_size=4),
        "system": json_values,
        "contents": st.lists(json_values, max_size=3),
        "input": st.one_of(text, st.lists(json_values, max_size=3)),
        "tools": json_values,
        "choices": st.lists(json_values, max_size=2),
        "content": json_values,
        "stop_reason": json_values,
        "output": json_values,
        "usage": json_values,
    },
)


@given(st.one_of(json_values, shaped), st.one_of(json_values, shaped))
@RELAXED
def test_any_json_never_raises(a, b):
    json.dumps(to_dict(diff_requests(a, b)))
    json.dumps(to_dict(diff_responses(a, b)))
    context_breakdown(a, prompt_tokens=1000)
    diff_json(a, b)
    unified_json_diff(a, b)


def test_deep_nesting_huge_strings_and_nul_never_raise():
    deep: object = "bottom"
    for _ in range(20_000):
        deep = [deep]
    hostile = "<script>alert(1)</script>\x00" * 40_000
    a = {
        "messages": [{"role": "user", "content": [deep]}, {"role": "user", "content": hostile}],
        "tools": [deep],
    }
    b = {"messages": [{"role": "user", "content": hostile + "x"}], "system": hostile, "extra": deep}
    diff = diff_requests(a, b)
    assert diff.messages.entries
    diff_requests({"deep": deep}, {"deep": [deep]})
    diff_responses({"choices": [{"message": {"content": hostile, "tool_calls": [deep]}}]}, {"error": deep})
    context_breakdown(b, prompt_tokens=10)
    assert unified_json_diff(deep, []).hunks
    assert diff_json(deep, [deep])
    to_dict(diff)


@given(json_values, json_values)
@RELAXED
def test_unified_json_diff_lines_are_the_documents_lines(a, b):
    from steps.diff import pretty

    a_lines, b_lines = pretty(a).splitlines(), pretty(b).splitlines()
    diff = unified_json_diff(a, b)
    for hunk in diff.hunks:
        for line in hunk.lines:
            if line.a_line is not None:
                assert a_lines[line.a_line - 1] == line.text
            if line.b_line is not None:
                assert b_lines[line.b_line - 1] == line.text
    shown = sum(1 for h in diff.hunks for line in h.lines if line.a_line is not None)
    assert sum(h.skipped_before for h in diff.hunks) + diff.skipped_after + shown == len(a_lines)
    assert diff.changed == (a_lines != b_lines)
