"""Two LLM requests compared structurally: what a reviewer reads on the compare page."""

import json

from steps.diff import diff_requests, to_dict
from steps.diff.model import MessageOp, UnchangedRun
from tests import diff_samples as samples
from tests.samples import body


def flat(diff):
    ops = []
    for entry in diff.messages.entries:
        ops.extend(entry.items if isinstance(entry, UnchangedRun) else [entry])
    return ops


def next_call(request: dict, *turns: dict) -> dict:
    """The following call of the same agent: the history repeated, the new turns appended."""
    return {**request, "messages": [*request["messages"], *turns]}


def test_consecutive_steps_read_as_tool_call_and_return_appended():
    a = samples.openai_request()
    b = next_call(a, *samples.openai_tool_turn())
    diff = diff_requests(a, b)

    assert diff.summary.headline == "2 messages appended (tool call + tool return)"
    run, call, result = diff.messages.entries
    assert isinstance(run, UnchangedRun) and run.count == 13
    assert (call.op, call.b.kind, call.b.tool_names) == ("added", "tool_call", ("web_search",))
    assert (result.op, result.b.kind) == ("added", "tool_return")
    assert (diff.messages.added, diff.messages.unchanged) == (2, 13)
    assert diff.system.op == "unchanged" and all(t.op == "unchanged" for t in diff.tools)


def test_memory_edit_reads_as_block_changed_with_the_words_added():
    a = samples.openai_request()
    b = samples.openai_request()
    b["messages"][0]["content"] = a["messages"][0]["content"].replace(
        "The human is dashboard tester #2.", "The human is dashboard tester #2. Likes tea."
    )
    diff = diff_requests(a, b)

    assert diff.summary.headline == "block `human` changed: + Likes tea."
    human = next(s for s in diff.system.sections if s.label == "human")
    value = next(f for f in human.fields if f.name == "value")
    assert value.op == "changed"
    assert [(s.op, s.text) for s in value.text.segments if s.op != "equal"] == [("insert", " Likes tea.")]
    persona = next(s for s in diff.system.sections if s.label == "persona")
    assert persona.op == "unchanged"


def test_metadata_only_changes_stay_out_of_the_headline_when_something_else_changed():
    a = {"model": "m", "messages": [{"role": "system", "content": samples.letta_system()}]}
    system = samples.letta_system(human="Bob").replace("0 previous", "4 previous")
    b = {"model": "m", "messages": [{"role": "system", "content": system}]}
    diff = diff_requests(a, b)
    gist = "block `human` changed: The human is dashboard tester #2. → Bob"
    assert diff.summary.items == (gist, "memory metadata changed")
    assert diff.summary.headline == gist


def test_tools_and_parameters():
    a = samples.openai_request()
    b = samples.openai_request()
    b["tools"][0]["function"]["description"] = "Search."
    del b["tools"][2]
    b["tools"].append(
        {"type": "function", "function": {"name": "web_search", "parameters": {"type": "object"}}}
    )
    b["model"] = "gpt-4.1"
    b["temperature"] = 0.2
    diff = diff_requests(a, b)

    assert [(t.name, t.op) for t in diff.tools] == [
        ("conversation_search", "changed"),
        ("memory_insert", "unchanged"),
        ("web_search", "added"),
        ("memory_replace", "removed"),
    ]
    assert [c.path for c in diff.tools[0].changes] == ["description"]
    changed = {p.name: (p.a, p.b) for p in diff.params if p.op != "unchanged"}
    assert changed == {"model": ("gpt-4o-mini", "gpt-4.1"), "temperature": (1.0, 0.2)}
    assert diff.summary.items == (
        "tool `web_search` added",
        "tool `memory_replace` removed",
        "tool `conversation_search` changed",
        "model gpt-4o-mini → gpt-4.1",
        "temperature 1.0 → 0.2",
    )


def test_an_edited_message_is_changed_with_word_highlights():
    a = samples.openai_request()
    b = samples.openai_request()
    b["messages"][5]["content"] = "msg 8: charlie sierra"
    diff = diff_requests(a, b)

    changed = [op for op in flat(diff) if op.op == "changed"]
    assert len(changed) == 1 and changed[0].a.index == 5
    assert [(s.op, s.text) for s in changed[0].text.segments if s.op != "equal"] == [
        ("delete", "romeo"),
        ("insert", "sierra"),
    ]
    assert diff.summary.headline == "1 message changed"
    # The collapsed runs on either side keep their messages for expanding in place.
    runs = [e for e in diff.messages.entries if isinstance(e, UnchangedRun)]
    assert [r.count for r in runs] == [4, 8]


def test_summary_replacing_old_messages():
    a = samples.openai_request()
    summary = {
        "role": "user",
        "content": "Note: prior messages (8 prior messages) have been hidden from view due to conversation "
        "memory constraints.\nThe following is a summary of the previous 8 messages:\n Greetings.",
    }
    b = {**a, "messages": [a["messages"][0], summary, *a["messages"][9:]]}
    diff = diff_requests(a, b)

    ops = [(op.op, op.message.is_summary) for op in flat(diff)]
    assert ops[:9] == [("removed", False)] * 8 + [("added", True)]
    assert diff.summary.headline == "1 message added (summary) · 8 messages summarized away"


def test_missing_trace_on_one_side_still_lists_the_messages():
    b = samples.openai_request()
    diff = diff_requests(None, b)
    assert diff.missing == "a" and diff.a is None
    assert diff.messages.added == 13
    assert diff.summary.headline == "no trace for A"
    assert diff_requests(None, None).summary.headline == "no trace on either side"


def test_unknown_shape_gets_the_generic_json_diff():
    diff = diff_requests({"prompt": "hi", "n": 1}, {"prompt": "hello", "n": 1})
    assert (diff.shape_a, diff.shape_b) == ("unknown", "unknown")
    assert [(c.path, c.a, c.b) for c in diff.json] == [("prompt", "hi", "hello")]
    assert diff.messages.entries == () and diff.tools == ()
    assert diff.summary.headline == "1 JSON change"


def test_across_providers_the_same_conversation_matches():
    diff = diff_requests(samples.anthropic_request(), samples.google_request())
    assert diff.summary.items[0] == "format Anthropic messages → Google generateContent"
    assert diff.system.op == "unchanged"
    kinds = [(op.op, op.message.kind) for op in flat(diff)]
    assert ("unchanged", "text") in kinds  # "What do I like?" lines up


def test_identical_requests_and_to_dict():
    diff = diff_requests(samples.openai_request(), samples.openai_request())
    assert diff.summary.identical and diff.summary.headline == "identical requests"
    data = json.loads(json.dumps(to_dict(diff)))  # what the REST API will serve
    assert data["messages"]["entries"][0]["op"] == "unchanged"
    assert data["summary"]["headline"] == "identical requests"
    assert isinstance(diff.messages.entries[0].items[0], MessageOp)


def test_an_unrelated_message_in_the_same_place_is_removed_and_added_not_changed():
    a = {"messages": [{"role": "user", "content": "Please book a table for two at seven tonight."}]}
    edited = {"messages": [{"role": "user", "content": "Please book a table for four at seven tonight."}]}
    other = {
        "messages": [{"role": "user", "content": "What is the capital of Australia, and why not Sydney?"}]
    }
    assert [op.op for op in flat(diff_requests(a, edited))] == ["changed"]
    assert [op.op for op in flat(diff_requests(a, other))] == ["removed", "added"]


def test_past_the_word_diff_budget_changed_messages_show_old_and_new_text():
    words = ["alpha", "beta", "gamma", "delta"]
    a = {"messages": [{"role": "user", "content": " ".join(words * 2_000) + f" {i}"} for i in range(20)]}
    b = {"messages": [{"role": "user", "content": " ".join(words * 2_000) + f" {i}!"} for i in range(20)]}
    ops = flat(diff_requests(a, b))
    assert [op.op for op in ops] == ["changed"] * 20
    assert not ops[0].text.coarse and ops[-1].text.coarse
    assert all((op.text.a, op.text.b) == (op.a.text, op.b.text) for op in ops)


def test_a_large_memory_edit_is_named_but_not_quoted():
    a = {"messages": [{"role": "system", "content": samples.letta_system()}]}
    b = {
        "messages": [{"role": "system", "content": samples.letta_system(human="Bob. " + "Likes tea. " * 20)}]
    }
    assert diff_requests(a, b).summary.headline == "block `human` changed"


def test_compact_json_folds_unchanged_runs_to_their_positions():
    a = samples.openai_request()
    b = next_call(a, *samples.openai_tool_turn())
    diff = diff_requests(a, b)
    full, compact = to_dict(diff), to_dict(diff, compact=True)
    assert full["messages"]["entries"][0]["count"] == 13
    assert len(full["messages"]["entries"][0]["items"]) == 13
    assert compact["messages"]["entries"][0] == {
        "op": "unchanged",
        "count": 13,
        "a_indexes": list(range(1, 14)),
        "b_indexes": list(range(1, 14)),
    }
    assert compact["messages"]["entries"][1] == full["messages"]["entries"][1]
    assert len(json.dumps(compact)) < len(json.dumps(full)) / 2


def test_a_letta_heartbeat_reads_as_a_heartbeat_not_as_user_input():
    # the user message Letta writes after a tool call (tests/letta_samples/step_messages_tool_call.json)
    heartbeat = body("step_messages_tool_call")[-1]["content"]
    a = samples.openai_request()
    b = next_call(a, *samples.openai_tool_turn(), {"role": "user", "content": heartbeat})
    diff = diff_requests(a, b)

    assert diff.summary.headline == "3 messages appended (tool call + tool return + heartbeat)"
    assert flat(diff)[-1].b.event == "heartbeat"
    typed = next_call(a, {"role": "user", "content": '{"type": "not_an_event", "time": "now"}'})
    assert diff_requests(a, typed).summary.headline == "1 message appended (user)"
