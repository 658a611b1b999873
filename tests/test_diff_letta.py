"""Letta's system prompt split into sections: base instructions, memory blocks by label, rules, metadata."""

from steps.diff import parse_letta_system
from tests import diff_samples as samples


def test_recorded_system_prompt_sections():
    text = samples.openai_request()["messages"][0]["content"]
    sections = [s for s in parse_letta_system(text) if s.kind != "glue"]

    assert [(s.kind, s.label) for s in sections] == [
        ("base_instructions", "base_instructions"),
        ("text", "memory_blocks"),
        ("memory_block", "human"),
        ("memory_block", "persona"),
        ("memory_metadata", "memory_metadata"),
    ]
    human = sections[2]
    assert human.value == "The human is dashboard tester #2."
    assert human.description.startswith("The human block: Stores key details")
    assert human.metadata == "- chars_current=33\n- chars_limit=100000"
    assert "<memory>" in sections[0].body  # nested tags stay inside base instructions
    assert "".join(s.raw for s in parse_letta_system(text)) == text


def test_tool_rules_section():
    sections = parse_letta_system(
        samples.letta_system(rules="<tool_rule>\nsend_message ends the turn\n</tool_rule>")
    )
    rules = next(s for s in sections if s.kind == "tool_rules")
    assert rules.label == "tool_usage_rules"
    assert "send_message ends the turn" in rules.body


def test_memgpt_era_prompt_with_untagged_instructions_and_top_level_blocks():
    text = (
        "You are MemGPT.\n### Memory [last modified: 2024-01-01]\n"
        '<persona characters="10/5000">\nI am Sam.\n</persona>\n<human characters="9/5000">\nName: Bob\n</human>'
    )
    sections = [s for s in parse_letta_system(text) if s.kind != "glue"]
    assert [(s.kind, s.label) for s in sections] == [
        ("base_instructions", "base_instructions"),
        ("memory_block", "persona"),
        ("memory_block", "human"),
    ]
    assert sections[1].value == "I am Sam."
    assert sections[2].value == "Name: Bob"


def test_prompt_without_tags_is_one_section_and_unclosed_tags_stay_text():
    assert [(s.kind, s.raw) for s in parse_letta_system("Be brief.")] == [("base_instructions", "Be brief.")]
    text = "Hello <b>unclosed and <script>alert(1)</script> tail"
    sections = parse_letta_system(text)
    assert "".join(s.raw for s in sections) == text
    assert [s.label for s in sections if s.kind == "tag"] == ["script"]
    assert parse_letta_system("") == [] and parse_letta_system(None) == []
