"""Word diff, JSON tree diff and the unified JSON view."""

import difflib
import json

from steps.diff import diff_json, unified_json_diff, word_diff
from steps.diff.text import WORD_LIMIT


def ops(diff):
    return [(s.op, s.text) for s in diff.segments]


def test_word_diff_marks_only_the_words_that_changed():
    diff = word_diff("The human likes coffee and cake.", "The human likes tea and cake.")
    assert ops(diff) == [
        ("equal", "The human likes "),
        ("delete", "coffee"),
        ("insert", "tea"),
        ("equal", " and cake."),
    ]
    assert (diff.a, diff.b) == ("The human likes coffee and cake.", "The human likes tea and cake.")
    assert (diff.inserted, diff.deleted) == (3, 6)


def test_neighbouring_changed_words_read_as_one_phrase():
    diff = word_diff("one two three four", "one deux trois four")
    assert ops(diff) == [
        ("equal", "one "),
        ("delete", "two three"),
        ("insert", "deux trois"),
        ("equal", " four"),
    ]


def test_equal_and_empty_texts():
    assert not word_diff("same", "same").changed
    assert word_diff(None, None).segments == ()
    assert ops(word_diff(None, "new")) == [("insert", "new")]
    assert ops(word_diff("old", "")) == [("delete", "old")]


def test_huge_texts_fall_back_to_lines_and_keep_both_sides():
    a = "\n".join(f"line {i} word word word" for i in range(WORD_LIMIT // 4))
    b = a.replace("line 7 word", "line seven word").replace("line 4000 ", "line 4000 extra ")
    diff = word_diff(a, b)
    assert diff.coarse
    assert (diff.a, diff.b) == (a, b)
    assert ("delete", "line 7 word word word\n") in ops(diff)


def test_json_tree_diff_by_path():
    a = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}
    b = {
        "type": "object",
        "properties": {"query": {"type": "integer"}, "n": {"type": "integer"}},
        "required": [],
    }
    changes = [(c.path, c.op, c.a, c.b) for c in diff_json(a, b)]
    assert changes == [
        ("properties.n", "added", None, {"type": "integer"}),
        ("properties.query.type", "changed", "string", "integer"),
        ("required[0]", "removed", "query", None),
    ]
    assert diff_json(a, a) == ()
    assert [c.path for c in diff_json({"a b": 1}, {"a b": 2})] == ['["a b"]']
    assert [c.op for c in diff_json(1, 1.0)] == ["changed"]


def test_unified_json_diff_matches_difflib_and_counts_folded_lines():
    a = {"messages": [f"message {i}" for i in range(40)], "model": "gpt-4o-mini"}
    b = {"messages": [f"message {i}" for i in range(40)] + ["message 40"], "model": "gpt-4.1"}
    diff = unified_json_diff(a, b)

    a_text = json.dumps(a, indent=2, sort_keys=True).splitlines()
    b_text = json.dumps(b, indent=2, sort_keys=True).splitlines()
    expected = list(difflib.unified_diff(a_text, b_text, lineterm="", n=3))[2:]
    ours = []
    for hunk in diff.hunks:
        ours.append(hunk.header)
        ours += [line.op + line.text for line in hunk.lines]
    assert ours == expected
    assert (diff.added, diff.removed) == (3, 2)
    shown = sum(1 for h in diff.hunks for line in h.lines if line.a_line is not None)
    assert sum(h.skipped_before for h in diff.hunks) + diff.skipped_after + shown == diff.a_lines


def test_unified_json_diff_of_equal_or_missing_documents():
    same = unified_json_diff({"a": 1}, {"a": 1})
    assert not same.changed and same.skipped_after == 3
    assert [line.op for h in unified_json_diff(None, {"a": 1}).hunks for line in h.lines] == ["+", "+", "+"]


def test_long_unrelated_texts_still_get_a_word_diff():
    # Thousands of repeated words: SequenceMatcher would take seconds, so the LCS path takes over.
    words = ["the", "agent", "memory", "block", "user", "tool", "search", "a", "of", "to", "in"]
    a = " ".join(words[(i * 7) % 11] for i in range(3000))
    b = " ".join(words[(i * 5) % 11] for i in range(3000))
    diff = word_diff(a, b)
    assert not diff.coarse
    assert (diff.a, diff.b) == (a, b)
    assert any(s.op == "equal" and s.text.strip() for s in diff.segments)
