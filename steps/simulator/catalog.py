"""Fixed ingredients of the simulated Letta world: ids, models, agents, tools and conversation texts.

Everything random is drawn from the world's seeded ``random.Random`` so one seed always yields one world.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

# Letta's auto-created default organization and user (the recorded samples carry exactly these ids).
ORG_ID = "org-00000000-0000-4000-8000-000000000000"
USER_ID = "user-00000000-0000-4000-8000-000000000000"


def new_uuid(rng: random.Random) -> str:
    # uuid4-shaped but drawn from the seeded RNG, so ids are reproducible (uuid.uuid4() would not be).
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def new_id(rng: random.Random, prefix: str) -> str:
    return f"{prefix}-{new_uuid(rng)}"


def derived_otid(message_id: str, index: int) -> str:
    """Letta's generate_otid_from_id: the item's sub-index goes into the low 7 bits of the message uuid (§1.6)."""
    value = uuid.UUID(message_id.split("-", 1)[1]).int
    return str(uuid.UUID(int=(value & ~0x7F) | (index & 0x7F)))


def iso_z(moment: datetime) -> str:
    # pydantic writes UTC datetimes with a Z and drops a zero microsecond part.
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def iso_naive(moment: datetime) -> str:
    # Run.completed_at comes back without any offset (list_runs_asc.json).
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat()


def iso_seconds(moment: datetime) -> str:
    # LettaMessage.date is serialized to whole seconds with an explicit offset.
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def epoch_ns(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000) * 1000


@dataclass(frozen=True)
class ModelConfig:
    provider_name: str
    provider_category: str
    model: str
    handle: str
    endpoint: str
    endpoint_type: str  # "openai" or "anthropic": decides the provider trace format
    context_window: int
    max_tokens: int = 16384

    def llm_config(self) -> dict:
        return {
            "model": self.model,
            "display_name": None,
            "model_endpoint_type": self.endpoint_type,
            "model_endpoint": self.endpoint,
            "provider_name": self.provider_name,
            "provider_category": self.provider_category,
            "model_wrapper": None,
            "context_window": self.context_window,
            "put_inner_thoughts_in_kwargs": False,
            "handle": self.handle,
            "temperature": 1.0 if self.endpoint_type == "openai" else 0.7,
            "max_tokens": self.max_tokens,
            "enable_reasoner": self.endpoint_type == "anthropic",
            "reasoning_effort": None,
            "max_reasoning_tokens": 1024 if self.endpoint_type == "anthropic" else 0,
            "effort": None,
            "frequency_penalty": None,
            "compatibility_type": None,
            "verbosity": None,
            "tier": None,
            "parallel_tool_calls": False,
            "response_format": None,
            "strict": False,
            "return_logprobs": False,
            "top_logprobs": None,
            "return_token_ids": False,
            "tool_call_parser": None,
        }


GPT_4O_MINI = ModelConfig(
    "openai", "base", "gpt-4o-mini", "openai/gpt-4o-mini", "https://api.openai.com/v1", "openai", 128000
)
GPT_41 = ModelConfig(
    "openai", "base", "gpt-4.1", "openai/gpt-4.1", "https://api.openai.com/v1", "openai", 1047576
)
CLAUDE_SONNET_4 = ModelConfig(
    "anthropic",
    "byok",
    "claude-sonnet-4-20250514",
    "anthropic/claude-sonnet-4-20250514",
    "https://api.anthropic.com/v1",
    "anthropic",
    200000,
    8192,
)
PROXY_GPT_4O_MINI = ModelConfig(
    "openai", "base", "gpt-4o-mini", "openai-proxy/gpt-4o-mini", "http://127.0.0.1:8399/v1", "openai", 128000
)


@dataclass(frozen=True)
class AgentTemplate:
    name: str
    agent_type: str  # letta_v1_agent answers as reasoning_message, memgpt_v2_agent through send_message
    model: ModelConfig
    tools: tuple[str, ...]
    otel: bool  # steps of OTel-instrumented servers carry a 32-hex trace_id


AGENT_TEMPLATES = (
    AgentTemplate(
        "demo-support-bot",
        "letta_v1_agent",
        GPT_4O_MINI,
        ("conversation_search", "memory_insert", "memory_replace", "web_search"),
        otel=False,
    ),
    AgentTemplate(
        "demo-research-assistant",
        "letta_v1_agent",
        CLAUDE_SONNET_4,
        ("conversation_search", "web_search", "fetch_webpage", "archival_memory_search"),
        otel=True,
    ),
    AgentTemplate(
        "demo-ops-agent",
        "memgpt_v2_agent",
        GPT_41,
        (
            "send_message",
            "conversation_search",
            "core_memory_append",
            "archival_memory_insert",
            "run_code",
            "send_email",
        ),
        otel=True,
    ),
    AgentTemplate(
        "demo-polyglot",
        "letta_v1_agent",
        PROXY_GPT_4O_MINI,
        ("conversation_search", "memory_insert", "memory_replace", "send_email", "run_code"),
        otel=False,
    ),
)


@dataclass
class Agent:
    id: str
    name: str
    agent_type: str
    model: ModelConfig
    tools: tuple[str, ...]
    otel: bool
    tags: list[str]
    # The in-context conversation the next run starts from (provider-format turns), like a real context
    # window: it grows run after run until a summary replaces its oldest part.
    history: list[dict] = field(default_factory=list)
    # Core memory blocks by label, compiled into the system prompt; memory tools edit them.
    memory: dict[str, str] = field(default_factory=dict)
    # Letta recompiles the system prompt only when memory changes: the timestamp and the recall count
    # it prints stay the same between recompiles.
    recompiled_at: datetime | None = None
    recall_count: int = 0


def make_agents(rng: random.Random, count: int) -> list[Agent]:
    agents = []
    for index in range(count):
        template = AGENT_TEMPLATES[index % len(AGENT_TEMPLATES)]
        name = template.name if index < len(AGENT_TEMPLATES) else f"{template.name}-{index}"
        agents.append(
            Agent(
                id=new_id(rng, "agent"),
                name=name,
                agent_type=template.agent_type,
                model=template.model,
                tools=template.tools,
                otel=template.otel,
                tags=["letta-demo", name, template.agent_type],
                memory={
                    "human": f"The human is a tester of {name}.\nTimezone: UTC",
                    "persona": f"I am {name}, a helpful assistant. I keep answers short.",
                },
            )
        )
    return agents


def _schema(properties: dict, required: list[str]) -> dict:
    return {"type": "object", "properties": properties, "required": required}


def _string(description: str) -> dict:
    return {"type": "string", "description": description}


TOOL_SCHEMAS: dict[str, tuple[str, dict]] = {
    "send_message": (
        "Sends a message to the human user.",
        _schema(
            {"message": _string("Message contents. All unicode (including emojis) are supported.")},
            ["message"],
        ),
    ),
    "conversation_search": (
        "Search prior conversation history using hybrid search (text + semantic similarity).",
        _schema({"query": _string("String to search for."), "limit": {"type": "integer"}}, []),
    ),
    "memory_insert": (
        "The memory_insert command allows you to insert text at a specific location in a memory block.",
        _schema(
            {"label": _string("Block label."), "new_string": _string("Text to insert.")},
            ["label", "new_string"],
        ),
    ),
    "core_memory_append": (
        "Append to the contents of core memory.",
        _schema(
            {
                "label": _string("Section of the memory to be edited."),
                "content": _string("Content to write."),
            },
            ["label", "content"],
        ),
    ),
    "memory_replace": (
        "The memory_replace command allows you to replace a specific string in a memory block with a new string.",
        _schema(
            {
                "label": _string("Block label."),
                "old_string": _string("Text to replace."),
                "new_string": _string(""),
            },
            ["label", "old_string", "new_string"],
        ),
    ),
    "web_search": (
        "Search the web and return the top results with title, url and snippet.",
        _schema({"query": _string("The search query."), "num_results": {"type": "integer"}}, ["query"]),
    ),
    "fetch_webpage": (
        "Fetch a web page and return its readable text.",
        _schema({"url": _string("The URL to fetch.")}, ["url"]),
    ),
    "archival_memory_search": (
        "Search archival memory using semantic (embedding-based) search.",
        _schema({"query": _string("String to search for."), "top_k": {"type": "integer"}}, ["query"]),
    ),
    "archival_memory_insert": (
        "Add information to long-term archival memory for later search.",
        _schema(
            {"content": _string("Content to write to the memory."), "tags": {"type": "array"}}, ["content"]
        ),
    ),
    "run_code": (
        "Run code in a sandbox. Supports Python, JavaScript, TypeScript, R, and Java.",
        _schema(
            {"code": _string("The code to run."), "language": _string("Language of the code.")}, ["code"]
        ),
    ),
    "send_email": (
        "Send an email on behalf of the user. Requires human approval.",
        _schema(
            {"to": _string("Recipient."), "subject": _string(""), "body": _string("")},
            ["to", "subject", "body"],
        ),
    ),
}

# Tools an agent gains or loses now and then (someone attaches or detaches them in the ADE).
OPTIONAL_TOOLS = ("fetch_webpage", "archival_memory_search", "web_search", "run_code")
MEMORY_TOOLS = frozenset({"memory_insert", "memory_replace", "core_memory_append"})

# Tools that stop the agent loop with stop_reason=requires_approval until a human answers (§5).
APPROVAL_TOOLS = frozenset({"send_email"})


@dataclass(frozen=True)
class ToolOutcome:
    text: str
    status: str = "success"
    stdout: list[str] | None = None
    stderr: list[str] | None = None


@dataclass(frozen=True)
class Topic:
    """One user request with the tools it tends to use and the final answer."""

    prompt: str | list  # a list is multi-part content (text + image)
    tools: tuple[str, ...]
    answer: str
    reasoning: str
    memory: str = ""  # what a memory tool writes into the human block


_IMAGE_PROMPT = [
    {"type": "text", "text": "What does this error screenshot say?"},
    {"type": "image", "source": {"type": "url", "url": "https://example.com/uploads/error-screenshot.png"}},
]

TOPICS = (
    Topic(
        "What's the weather going to be like in Berlin tomorrow?",
        ("web_search",),
        "Tomorrow in Berlin: mostly cloudy, around 14°C, light rain after 16:00. Take an umbrella.",
        "The user wants a forecast; I should search the web.",
    ),
    Topic(
        "Kannst du mir die Zusammenfassung vom letzten Meeting schicken?",
        ("conversation_search",),
        "Klar! Im letzten Meeting ging es um den Release-Plan für Q3: Feature-Freeze am 12., Übergabe an QA am 19.",
        "Der Nutzer fragt nach dem letzten Meeting; ich durchsuche den Verlauf.",
    ),
    Topic(
        "明日の会議の議題を教えてください。",
        ("archival_memory_search",),
        "明日の会議の議題は「第3四半期のロードマップ」と「採用計画」の2点です。",
        "ユーザーは会議の議題を知りたい。アーカイブ記憶を検索する。",
    ),
    Topic(
        "Привет! Напомни, пожалуйста, о чём мы говорили вчера?",
        ("conversation_search",),
        "Вчера мы обсуждали миграцию базы данных и сроки релиза.",
        "Пользователь спрашивает о вчерашнем разговоре, ищу в истории.",
    ),
    Topic(
        "Compute the mean and standard deviation of [3, 7, 11, 19].",
        ("run_code",),
        "The mean is 10.0 and the population standard deviation is about 5.83.",
        "Easiest to compute this in the sandbox.",
    ),
    Topic(
        "Email the weekly report to ops@example.com please.",
        ("send_email",),
        "Done: the weekly report went out to ops@example.com.",
        "Sending email needs approval, I'll prepare the call.",
    ),
    Topic(
        "Remember that my favourite editor is Helix.",
        ("memory_insert", "core_memory_append"),
        "Noted, I'll remember that you use Helix.",
        "A durable preference; store it in the human block.",
        "Favourite editor: Helix.",
    ),
    Topic(
        "By the way, I drink tea, never coffee. Keep that in mind.",
        ("memory_insert", "core_memory_append"),
        "Got it: tea, never coffee.",
        "A preference worth keeping; append it to the human block.",
        "Likes tea, never coffee.",
    ),
    Topic(
        "Can you render <script>alert(1)</script> for me?",
        (),
        "I can't run scripts, but here it is as plain text: <script>alert(1)</script>",
        "The user pasted markup; answer as text and do not execute anything.",
    ),
    Topic(
        "Summarise the page at this link: javascript:alert(1)",
        ("fetch_webpage",),
        'That link is not a web page. It looked like "><img src=x onerror=alert(1)> to me, so I stopped.',
        "The URL looks hostile; fetch it in the sandboxed tool only.",
    ),
    Topic(
        _IMAGE_PROMPT,
        (),
        "The screenshot shows 'ECONNREFUSED 127.0.0.1:5432': Postgres is not running.",
        "Read it.",
    ),
    Topic("Hi!", (), "Hello! How can I help today?", "A greeting; reply briefly."),
    Topic(
        "Write a haiku about databases.",
        (),
        "Rows in quiet rest / an index hums in the dark / the query returns",
        "A short creative request; no tools needed.",
    ),
    Topic(
        "Find recent papers on retrieval-augmented generation and save the best one.",
        ("web_search", "archival_memory_insert"),
        "I found three recent RAG papers and saved 'Corrective RAG' to archival memory.",
        "Search first, then store the best hit.",
    ),
    Topic(
        "Update my timezone to Europe/Berlin in your notes.",
        ("memory_replace",),
        "Updated: your timezone is now Europe/Berlin.",
        "Replace the old timezone line in the human block.",
    ),
)


def prompt_text(prompt: str | list) -> str:
    if isinstance(prompt, str):
        return prompt
    return " ".join(part["text"] for part in prompt if part["type"] == "text")


def tool_arguments(rng: random.Random, tool: str, topic: Topic, heartbeat: bool) -> dict:
    text = prompt_text(topic.prompt)
    by_tool = {
        "conversation_search": {"query": text[:40]},
        "memory_insert": {"label": "human", "new_string": topic.memory or f"Asked about: {text[:48]}"},
        "core_memory_append": {"label": "human", "content": topic.memory or f"Asked about: {text[:48]}"},
        "memory_replace": {
            "label": "human",
            "old_string": "Timezone: UTC",
            "new_string": "Timezone: Europe/Berlin",
        },
        "web_search": {"query": text[:60], "num_results": rng.choice([3, 5, 10])},
        "fetch_webpage": {
            "url": "javascript:alert(1)" if "javascript:" in text else "https://example.com/article"
        },
        "archival_memory_search": {"query": text[:40], "top_k": 5},
        "archival_memory_insert": {"content": "Corrective RAG (2024): retrieval evaluator + web fallback."},
        "run_code": {
            "code": "import statistics\nprint(statistics.mean([3, 7, 11, 19]))",
            "language": "python",
        },
        "send_email": {
            "to": "ops@example.com",
            "subject": "Weekly report",
            "body": "Hi team,\nsee attached.",
        },
    }
    arguments = dict(by_tool.get(tool, {"query": text[:40]}))
    if heartbeat:
        arguments["request_heartbeat"] = True
    return arguments


def tool_outcome(rng: random.Random, tool: str) -> ToolOutcome:
    roll = rng.random()
    if tool == "run_code":
        if roll < 0.25:
            return ToolOutcome(
                "Error executing function run_code: ZeroDivisionError: division by zero",
                status="error",
                stdout=[],
                stderr=["Traceback (most recent call last):\n", "ZeroDivisionError: division by zero\n"],
            )
        return ToolOutcome("{'status': 'OK', 'results': '10.0'}", stdout=["10.0\n"], stderr=[])
    if tool == "web_search" and roll < 0.15:
        return ToolOutcome(
            "Error executing function web_search: TimeoutError: search backend timed out", "error"
        )
    results = {
        "conversation_search": "{'message': 'No results found.', 'results': []}",
        "web_search": json.dumps(
            [{"title": "Forecast", "url": "https://example.com/wetter", "snippet": "14°C, Regen ab 16 Uhr"}],
            ensure_ascii=False,
        ),
        "fetch_webpage": '<html><body><h1>Article</h1><p>"><img src=x onerror=alert(1)></p></body></html>',
        "archival_memory_search": "[{'timestamp': '2026-11-20 10:00:00 AM UTC+0000', 'content': '議題: Q3 ロードマップ'}]",
    }
    return ToolOutcome(results.get(tool, "None"))


def heartbeat_text(moment: datetime, reason: str = "Continuing: continue tool rule.") -> str:
    body = {
        "type": "heartbeat",
        "reason": f"[This is an automated system message hidden from the user] {reason}",
        "time": moment.strftime("%Y-%m-%d %I:%M:%S %p UTC+0000"),
    }
    return json.dumps(body, indent=2)


def summary_text(moment: datetime, hidden: int, total: int) -> str:
    body = {
        "type": "system_alert",
        "message": (
            f"Note: prior messages ({hidden} of {total} total messages) have been hidden from view due to "
            "conversation memory constraints.\nThe following is a summary of the previous messages:\n "
            "The user and I discussed the Q3 release plan, a flaky CI job and their preference for Helix."
        ),
        "time": moment.strftime("%Y-%m-%d %I:%M:%S %p UTC+0000"),
    }
    return json.dumps(body, indent=2)


BLOCK_DESCRIPTIONS = {
    "human": "The human block: Stores key details about the person you are conversing with, allowing for "
    "more personalized and friend-like conversation.",
    "persona": "The persona block: Stores details about your current persona, guiding how you behave and "
    "respond.",
}


def edit_memory(agent: Agent, tool: str, arguments: dict, moment: datetime) -> str | None:
    """Apply a memory tool call to the agent's blocks; the error text when it cannot be applied."""
    label = arguments.get("label", "human")
    value = agent.memory.get(label, "")
    if tool == "memory_replace":
        old = arguments["old_string"]
        if old not in value:
            return (
                f"Error executing function memory_replace: ValueError: No replacement was performed, "
                f"old_string `{old}` did not appear verbatim in memory block with label `{label}`."
            )
        value = value.replace(old, arguments["new_string"], 1)
    else:
        value = f"{value}\n{arguments.get('new_string') or arguments.get('content')}"
    agent.memory[label] = value
    agent.recompiled_at = moment
    agent.recall_count = len(agent.history)
    return None


def _block(label: str, value: str) -> str:
    description = BLOCK_DESCRIPTIONS.get(label, f"The {label} block.")
    return (
        f"<{label}>\n<description>\n{description}\n</description>\n<metadata>\n- chars_current={len(value)}\n"
        f"- chars_limit=5000\n</metadata>\n<value>\n{value}\n</value>\n</{label}>\n"
    )


def system_prompt(agent: Agent, moment: datetime) -> str:
    """Letta's compiled system message: base instructions, the memory blocks, then memory metadata."""
    if agent.recompiled_at is None:
        agent.recompiled_at = moment
    blocks = "\n".join(_block(label, value) for label, value in agent.memory.items())
    return (
        "<base_instructions>\nYou are a helpful self-improving agent with advanced memory and file system "
        "capabilities.\nContinue executing and calling tools until the current task is complete or you need "
        "user input.\nBase instructions complete.\n</base_instructions>\n\n<memory_blocks>\nThe following "
        f"memory blocks are currently engaged in your core memory unit:\n\n{blocks}\n</memory_blocks>\n\n"
        f"<memory_metadata>\n- AGENT_ID: {agent.id}\n- CONVERSATION_ID: default\n"
        f"- System prompt last recompiled: {agent.recompiled_at.strftime('%Y-%m-%d %I:%M:%S %p UTC+0000')}\n"
        f"- {agent.recall_count} previous messages between you and the user are stored in recall memory\n"
        "</memory_metadata>"
    )
