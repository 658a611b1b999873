"""Seeded data as Letta would have returned it: agents, runs, steps, messages, metrics, traces,
plus the team's votes and reviews. Pure Python, no Django: `load` turns these into rows.

Everything comes from one `random.Random(seed)`, so a seed and an end time give the same data
byte for byte. Steps are laid out oldest first, evenly over `days`, run after run.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ..messages import message_text, message_tool
from ..simulator.catalog import ORG_ID, USER_ID, ModelConfig
from ..simulator.traces import ERROR_KINDS, error_fields, usage, zero_usage
from . import catalog

# How often things happen, per step (the 1 M-step measurements: ~2.5 messages a step,
# ~1 trace per 8 steps, ~2 % votes)
TRACE_SHARE = 1 / 8
FEEDBACK_SHARE = 0.02
TAGGED_SHARE = 0.03
FAILED_SHARE = 0.025
CANCELLED_SHARE = 0.004
HIDDEN_SHARE = 0.002
NOTED_PREFIX = "step-00"  # 1 step in 256 has a reviewer's note (see SEEDED_NOTES_SQL)
NOTE = "Looked at this one: fine."
NO_METRICS_SHARE = 0.01  # legacy agent loops: metrics 404 upstream
RUN_LENGTHS = (1, 2, 3, 4, 5, 6)
RUN_LENGTH_WEIGHTS = (30, 30, 18, 10, 7, 5)
AGENT_COUNT = 48
REVIEWERS = 4


def fast_uuid(rng: random.Random) -> str:
    """uuid4-shaped, from the seeded generator (uuid.UUID(...) costs several times more)."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def iso_z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


@dataclass
class SeedAgent:
    id: str
    name: str
    agent_type: str
    model: ModelConfig
    tools: tuple[str, ...]
    metrics_time: bool  # newer servers fill metrics step_start_ns; 0.16.8 leaves it null
    otel: bool
    system: str
    tool_schemas: list[dict]
    payload: dict


@dataclass
class Batch:
    """One batch of steps with everything that belongs to them."""

    runs: list[dict] = field(default_factory=list)
    # (payload, derived columns the sync computes: run_position, step_time, ...)
    steps: list[tuple[dict, dict]] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)  # ready columns, payload included
    metrics: list[tuple[str, dict, datetime]] = field(default_factory=list)  # (step id, payload, seen)
    traces: list[tuple[str, dict, datetime]] = field(default_factory=list)  # (step id, payload, seen)
    votes: list[dict] = field(default_factory=list)
    pushes: list[dict] = field(default_factory=list)
    reviews: list[dict] = field(default_factory=list)

    def row_count(self) -> int:
        return sum(
            len(x)
            for x in (
                self.runs,
                self.steps,
                self.messages,
                self.metrics,
                self.traces,
                self.votes,
                self.pushes,
                self.reviews,
            )
        )


def _pick_weighted(rng: random.Random, pairs):
    items, weights = zip(*pairs, strict=True)
    return rng.choices(items, weights)[0]


def _schema(name: str) -> dict:
    properties = {"query": {"type": "string", "description": "What to look for."}}
    if name not in ("conversation_search", "archival_memory_search", "web_search"):
        properties = {
            "input": {"type": "string", "description": f"The input of {name}."},
            "options": {"type": "object", "description": "Optional settings."},
        }
    properties["request_heartbeat"] = {
        "type": "boolean",
        "description": "Request an immediate heartbeat after function execution.",
    }
    return {"type": "object", "properties": properties, "required": list(properties)[:1]}


def _system_prompt(name: str, agent_id: str, rng: random.Random) -> str:
    """About 7 KB, like a real compiled system message with filled memory blocks."""
    persona = ", ".join(rng.choice(catalog.THINGS) for _ in range(80))
    human = "\n".join(
        f"- {rng.choice(catalog.PEOPLE)} prefers {rng.choice(catalog.CITIES)} time and short answers."
        for _ in range(70)
    )
    return (
        "<base_instructions>\nYou are a helpful self-improving agent with advanced memory and file system "
        "capabilities.\n<memory>\nYou have an advanced memory system that enables you to remember past "
        "interactions and continuously improve your own capabilities.\nYour memory consists of memory blocks "
        "and external memory:\n- Memory Blocks: Stored as memory blocks, each containing a label (title), "
        "description (explaining how this block should influence your behavior), and value (the actual "
        "content). Memory blocks have size limits. Memory blocks are embedded within your system instructions "
        "and remain constantly available in-context.\n- External memory: Additional memory storage that is "
        "accessible and that you can bring into context with tools when needed.\n</memory>\nContinue "
        "executing and calling tools until the current task is complete or you need user input.\nBase "
        "instructions complete.\n</base_instructions>\n\n<memory_blocks>\n<persona>\n<value>\n"
        f"I am {name}. I work on: {persona}.\n</value>\n</persona>\n\n<human>\n<value>\n{human}\n"
        f"</value>\n</human>\n</memory_blocks>\n\n<memory_metadata>\n- AGENT_ID: {agent_id}\n"
        "- CONVERSATION_ID: default\n</memory_metadata>"
    )


def make_agents(rng: random.Random, created_at: datetime) -> list[SeedAgent]:
    agents = []
    for index in range(AGENT_COUNT):
        prefix, agent_type, tools = catalog.AGENT_KINDS[index % len(catalog.AGENT_KINDS)]
        model = _pick_weighted(rng, catalog.MODELS)
        agent_id = f"agent-{fast_uuid(rng)}"
        name = f"{prefix}-{index // len(catalog.AGENT_KINDS) + 1:02d}"
        tools = tools if agent_type == "letta_v1_agent" else ("send_message", *tools)
        system = _system_prompt(name, agent_id, rng)
        schemas = [
            {"name": t, "description": catalog.TOOL_DESCRIPTIONS[t], "parameters": _schema(t)} for t in tools
        ]
        payload = {
            "created_by_id": USER_ID,
            "last_updated_by_id": USER_ID,
            "created_at": iso_z(created_at),
            "updated_at": iso_z(created_at),
            "id": agent_id,
            "name": name,
            "tool_rules": [],
            "message_ids": [],
            "system": system,
            "agent_type": agent_type,
            "llm_config": model.llm_config(),
            "model": model.handle,
            "embedding": "openai/text-embedding-3-small",
            "description": f"{prefix.replace('-', ' ').capitalize()} seeded for benchmarks.",
            "metadata": None,
            "tools": [{"name": t, "description": catalog.TOOL_DESCRIPTIONS[t]} for t in tools],
            "tags": ["seeded", prefix, agent_type],
            "project_id": None,
        }
        agents.append(
            SeedAgent(
                agent_id,
                name,
                agent_type,
                model,
                tools,
                metrics_time=rng.random() < 0.4,
                otel=rng.random() < 0.5,
                system=system,
                tool_schemas=schemas,
                payload=payload,
            )
        )
    return agents


class Seeder:
    """Steps `start`..`start + count` of the seed `seed`, ending at `until`, over `days`.

    `start` lets `--append` add more with the same seed and get new ids: the generator is seeded
    from (seed, start)."""

    def __init__(self, *, seed: int, count: int, days: float, until: datetime, start: int = 0):
        self.seed, self.count, self.start = seed, count, start
        self.until = until.astimezone(UTC)
        self.span = timedelta(days=days)
        self.rng = random.Random(f"letta-seed:{seed}:{start}")
        # agents depend on the seed only: an append with the same seed reuses them
        self.agents = make_agents(random.Random(f"letta-seed-agents:{seed}"), self.until - self.span)
        self.tags = catalog.all_tags()
        self.tag_weights = [1 / (i + 1) ** 0.8 for i in range(len(self.tags))]
        self.made = 0
        self._last_date = ("", None)

    # --- steps ----------------------------------------------------------------------------

    def batches(self, batch_steps: int) -> Iterator[Batch]:
        batch = Batch()
        while self.made < self.count:
            self._run(batch)
            if len(batch.steps) >= batch_steps:
                yield batch
                batch = Batch()
        if batch.steps:
            yield batch

    def _moment(self) -> datetime:
        """Where the next run starts: evenly over the span, in order, a little jitter."""
        fraction = self.made / max(self.count, 1)
        jitter = timedelta(milliseconds=self.rng.randint(0, 900))
        return self.until - self.span + self.span * fraction + jitter

    def _fill(self, text: str) -> str:
        rng = self.rng
        return text.format(
            city=rng.choice(catalog.CITIES),
            person=rng.choice(catalog.PEOPLE),
            thing=rng.choice(catalog.THINGS),
            n=rng.randint(2, 99),
        )

    def _run(self, batch: Batch) -> None:
        rng = self.rng
        agent = rng.choice(self.agents)
        length = min(rng.choices(RUN_LENGTHS, RUN_LENGTH_WEIGHTS)[0], self.count - self.made)
        absolute = self.start + self.made
        if (
            absolute + length
        ) // catalog.RARE_EVERY > absolute // catalog.RARE_EVERY:  # one run in each block
            topic = catalog.RARE_TOPICS[(absolute // catalog.RARE_EVERY) % len(catalog.RARE_TOPICS)]
        else:
            topic = rng.choice(catalog.TOPICS)
        prompt, reasoning, answer = (self._fill(t) for t in topic)
        run_id = f"run-{fast_uuid(rng)}"
        created = self._moment()
        # the run's outcome decides its last step's
        roll = rng.random()
        outcome = (
            "failed" if roll < FAILED_SHARE else "cancelled" if roll < FAILED_SHARE + CANCELLED_SHARE else ""
        )
        moment = created
        transcript: list[dict] = [{"role": "user", "content": prompt}]
        pending_return: dict | None = None
        last_status, last_stop = "success", "end_turn"
        for position in range(length):
            last = position == length - 1
            status = outcome if last and outcome else "success"
            tool = None if last else rng.choice(agent.tools)
            step_id = f"step-{fast_uuid(rng)}"
            step_ns = (
                rng.randint(400_000_000, 9_000_000_000)
                if status == "success"
                else rng.randint(50, 900) * 10**6
            )
            items, pending_return = self._messages(
                agent,
                step_id,
                run_id,
                moment,
                position,
                status,
                tool,
                prompt,
                reasoning,
                answer,
                pending_return,
            )
            stop_reason = None
            error_type = None
            error_data = None
            if status == "failed":
                error_type = _pick_weighted(rng, catalog.ERRORS)
                stop_reason, error_data = _error(error_type, agent.model)
            elif status == "cancelled":
                stop_reason = "cancelled"
            elif last:
                stop_reason = "end_turn"
            elif tool == "send_email":
                stop_reason = "requires_approval"
            tokens = usage(rng, agent.model, 2000 + 600 * position) if status == "success" else zero_usage()
            feedback, tags = self._feedback()
            payload = {
                "id": step_id,
                "origin": None,
                "organization_id": ORG_ID,
                "provider_id": None,
                "run_id": run_id,
                "agent_id": agent.id,
                "provider_name": agent.model.provider_name,
                "provider_category": agent.model.provider_category,
                "model": agent.model.model,
                "model_handle": agent.model.handle,
                "model_endpoint": agent.model.endpoint,
                "context_window_limit": agent.model.context_window,
                **tokens,
                "stop_reason": stop_reason,
                "tags": tags,
                "tid": None,
                "trace_id": f"{rng.getrandbits(128):032x}" if agent.otel else None,
                "request_id": None,
                "messages": [],
                "feedback": feedback,
                "project_id": None,
                "error_type": error_type,
                "error_data": error_data,
                "status": status,
            }
            step_time = moment if agent.metrics_time else created + timedelta(microseconds=position)
            seen = moment + timedelta(seconds=rng.randint(2, 40))
            has_trace = rng.random() < TRACE_SHARE
            derived = {
                "run_position": position,
                "step_time": step_time,
                "step_time_source": "metrics" if agent.metrics_time else "run",
                "duration_ns": None,
                "first_seen_at": seen,
                "last_synced_at": seen,
                "details_synced_at": seen,
                "trace_state": "found" if has_trace else "absent",
            }
            if rng.random() >= NO_METRICS_SHARE:
                llm_ns = int(step_ns * 0.8)
                start_ns = ns(moment)
                batch.metrics.append(
                    (
                        step_id,
                        {
                            "id": step_id,
                            "organization_id": ORG_ID,
                            "provider_id": None,
                            "run_id": run_id,
                            "agent_id": agent.id,
                            "step_start_ns": start_ns if agent.metrics_time else None,
                            "llm_request_start_ns": start_ns + 2_000_000 if agent.metrics_time else None,
                            "llm_request_ns": llm_ns,
                            "tool_execution_ns": step_ns - llm_ns - 1_000_000 if tool else None,
                            "step_ns": step_ns,
                            "base_template_id": None,
                            "template_id": None,
                            "project_id": None,
                        },
                        seen,
                    )
                )
                derived["duration_ns"] = step_ns
            batch.steps.append((payload, derived))
            for index, item in enumerate(items):
                batch.messages.append(self._message_row(step_id, index, item, seen))
            if has_trace:
                trace = self._trace(agent, payload, transcript, moment, tool, answer)
                batch.traces.append((step_id, trace, seen))
            if feedback:
                self._vote(batch, step_id, feedback, tags, seen)
            if rng.random() < HIDDEN_SHARE:
                batch.reviews.append(
                    {
                        "step_id": step_id,
                        "notes": "Duplicate of an earlier step; archived.",
                        "labels": ["duplicate"],
                        "hidden": True,
                        "updated_at": seen,
                    }
                )
            elif step_id.startswith(NOTED_PREFIX):
                # most reviews are notes, not archiving: a list query must not be planned for
                # a review table where every row is hidden (draws nothing from the generator)
                batch.reviews.append(
                    {
                        "step_id": step_id,
                        "notes": NOTE,
                        "labels": [],
                        "hidden": False,
                        "updated_at": derived["step_time"] + timedelta(hours=1),
                    }
                )
            transcript.append({"role": "assistant", "content": answer if last else f"[calls {tool}]"})
            last_status, last_stop = status, stop_reason or "end_turn"
            moment += timedelta(microseconds=step_ns // 1000) + timedelta(milliseconds=rng.randint(5, 80))
            self.made += 1
            if status != "success":
                break
        run_status = {"failed": "failed", "cancelled": "cancelled"}.get(last_status, "completed")
        batch.runs.append(
            {
                "id": run_id,
                "status": run_status,
                "created_at": iso_z(created),
                "completed_at": moment.replace(tzinfo=None).isoformat(),
                "agent_id": agent.id,
                "conversation_id": None,
                "base_template_id": None,
                "background": False,
                "metadata": {"run_type": "send_message_streaming"},
                "request_config": {
                    "use_assistant_message": True,
                    "assistant_message_tool_name": "send_message",
                    "assistant_message_tool_kwarg": "message",
                    "include_return_message_types": None,
                },
                "stop_reason": last_stop,
                "callback_url": None,
                "callback_sent_at": None,
                "callback_status_code": None,
                "callback_error": None,
                "ttft_ns": None,
                "total_duration_ns": int((moment - created).total_seconds() * 1e9),
            }
        )

    def _feedback(self) -> tuple[str | None, list[str]]:
        rng = self.rng
        feedback, tags = None, []
        if rng.random() < FEEDBACK_SHARE:
            feedback = "positive" if rng.random() < 0.65 else "negative"
            if rng.random() < 0.5:
                tags = [rng.choice(catalog.FEEDBACK_TAGS)]
        if rng.random() < TAGGED_SHARE:
            tags = sorted({*tags, *rng.choices(self.tags, self.tag_weights, k=rng.randint(1, 3))})
        return feedback, tags

    def _vote(self, batch: Batch, step_id: str, feedback: str, tags: list[str], seen: datetime) -> None:
        reviewer = self.rng.randrange(REVIEWERS)
        voted_at = seen + timedelta(minutes=self.rng.randint(1, 600))
        batch.votes.append(
            {
                "step_id": step_id,
                "feedback": feedback,
                "tags": tags,
                "reviewer": reviewer,
                "voted_at": voted_at,
            }
        )
        batch.pushes.append(
            {
                "step_id": step_id,
                "feedback": feedback,
                "tags": tags,
                "reviewer": reviewer,
                "created_at": voted_at,
                "source": "click",
                "status": "done",
                "attempts": 1,
                "not_before": voted_at,
                "done_at": voted_at + timedelta(milliseconds=40),
                "sent_at": voted_at + timedelta(milliseconds=10),
            }
        )

    # --- messages -------------------------------------------------------------------------

    def _item(self, kind: str, message_id: str, index: int, step_id: str, run_id: str, when: str, **extra):
        otid = message_id[8:-2] + f"{index:02x}"
        return {
            "id": message_id,
            "date": when,
            "name": extra.pop("name", None),
            "message_type": kind,
            "otid": otid,
            "sender_id": None,
            "step_id": step_id,
            "is_err": extra.pop("is_err", None),
            "seq_id": None,
            "run_id": run_id,
            **extra,
        }

    def _message_id(self) -> str:
        return f"message-{fast_uuid(self.rng)}"

    def _messages(
        self, agent, step_id, run_id, moment, position, status, tool, prompt, reasoning, answer, pending
    ):
        """Items of one step in natural order, and the tool return the next step starts with
        (approvals: the tool runs only once a human said yes)."""
        rng = self.rng
        when = moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")  # Letta's message dates: whole seconds
        items = []
        if position == 0:
            items.append(
                self._item("user_message", self._message_id(), 0, step_id, run_id, when, content=prompt)
            )
        elif agent.agent_type == "memgpt_v2_agent":
            heartbeat = json.dumps(
                {
                    "type": "heartbeat",
                    "reason": "[This is an automated system message hidden from the user] Function called using request_heartbeat=true, returning control",
                    "time": moment.strftime("%Y-%m-%d %I:%M:%S %p UTC+0000"),
                }
            )
            items.append(
                self._item("user_message", self._message_id(), 0, step_id, run_id, when, content=heartbeat)
            )
        if pending is not None:
            approval_id = self._message_id()
            items.append(
                self._item(
                    "approval_response_message", approval_id, 0, step_id, run_id, when,
                    approve=True, approval_request_id=pending["request_id"], reason=None,
                    approvals=[{"type": "approval", "tool_call_id": pending["call_id"], "approve": True, "reason": None}],
                )
            )  # fmt: skip
            items.append(self._tool_return(pending["tool"], pending["call_id"], step_id, run_id, when))
            pending = None
        if status != "success":
            return items, None
        assistant_id = self._message_id()
        source = "reasoner_model" if agent.model.endpoint_type == "anthropic" else "non_reasoner_model"
        items.append(
            self._item(
                "reasoning_message", assistant_id, 0, step_id, run_id, when,
                source=source, reasoning=reasoning, signature=None,
            )
        )  # fmt: skip
        if tool is None:
            items.append(
                self._item("assistant_message", assistant_id, 1, step_id, run_id, when, content=answer)
            )
            return items, None
        call_id = f"call_{rng.getrandbits(96):024x}"
        arguments = json.dumps(
            {"query": prompt[:60], "request_heartbeat": True}
            if "search" in tool
            else {"input": prompt[:80], "options": {"n": rng.randint(1, 9)}, "request_heartbeat": True},
            ensure_ascii=False,
        )
        call = {"name": tool, "arguments": arguments, "tool_call_id": call_id}
        if tool == "send_email":
            items.append(
                self._item(
                    "approval_request_message", assistant_id, 1, step_id, run_id, when,
                    tool_call=call, tool_calls=[call],
                )
            )  # fmt: skip
            return items, {"tool": tool, "call_id": call_id, "request_id": assistant_id}
        items.append(
            self._item(
                "tool_call_message", assistant_id, 1, step_id, run_id, when, tool_call=call, tool_calls=[call]
            )
        )
        items.append(self._tool_return(tool, call_id, step_id, run_id, when))
        return items, None

    def _tool_return(self, tool: str, call_id: str, step_id: str, run_id: str, when: str) -> dict:
        text = self._fill(catalog.TOOL_RETURNS.get(tool, catalog.DEFAULT_TOOL_RETURN))
        failed = self.rng.random() < 0.02
        status = "error" if failed else "success"
        if failed:
            text = f"Error executing function {tool}: TimeoutError: the tool did not answer within 30 s"
        ret = {
            "type": "tool",
            "tool_return": text,
            "status": status,
            "tool_call_id": call_id,
            "stdout": None,
            "stderr": None,
        }
        return self._item(
            "tool_return_message", self._message_id(), 0, step_id, run_id, when,
            name=tool, tool_return=text, status=status, tool_call_id=call_id, stdout=None, stderr=None,
            tool_returns=[ret],
        )  # fmt: skip

    def _date(self, text: str) -> datetime:
        if text != self._last_date[0]:
            self._last_date = (text, datetime.fromisoformat(text))
        return self._last_date[1]

    def _message_row(self, step_id: str, position: int, item: dict, seen: datetime) -> dict:
        tool_name, tool_call_id = message_tool(item)
        return {
            "step_id": step_id,
            "message_id": item["id"],
            "item_key": item["otid"],
            "position": position,
            "message_type": item["message_type"],
            "date": self._date(item["date"]),
            "name": item["name"] or "",
            "otid": item["otid"],
            "run_id": item["run_id"],
            "is_err": False,
            "tool_name": tool_name,
            "tool_call_id": tool_call_id,
            "text": message_text(item),
            "payload": item,
            "first_seen_at": seen,
            "last_synced_at": seen,
        }

    # --- provider traces ------------------------------------------------------------------

    def _trace(
        self, agent: SeedAgent, step: dict, transcript: list[dict], when: datetime, tool, answer
    ) -> dict:
        rng = self.rng
        model = agent.model
        history = [
            {
                "role": "user" if i % 2 == 0 else "assistant",
                "content": self._fill(rng.choice(catalog.TOPICS)[i % 2 * 2]),
            }
            for i in range(14)
        ]  # earlier turns in context
        turns = history + transcript
        if model.endpoint_type == "anthropic":
            request = {
                "model": model.model,
                "max_tokens": model.max_tokens,
                "system": agent.system,
                "messages": [
                    {"role": t["role"], "content": [{"type": "text", "text": t["content"]}]} for t in turns
                ],
                "tools": [
                    {"name": s["name"], "description": s["description"], "input_schema": s["parameters"]}
                    for s in agent.tool_schemas
                ],
                "tool_choice": {"type": "auto"},
            }
        elif model.endpoint_type == "google_ai":
            request = {
                "contents": [
                    {"role": "user" if t["role"] == "user" else "model", "parts": [{"text": t["content"]}]}
                    for t in turns
                ],
                "systemInstruction": {"parts": [{"text": agent.system}]},
                "tools": [{"functionDeclarations": agent.tool_schemas}],
                "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
                "generationConfig": {"temperature": 0.7, "maxOutputTokens": 8192},
            }
        else:
            request = {
                "model": model.model,
                "messages": [{"role": "system", "content": agent.system}, *turns],
                "max_completion_tokens": model.max_tokens,
                "temperature": 1.0,
                "user": USER_ID,
                "parallel_tool_calls": False,
                "tools": [{"type": "function", "function": s} for s in agent.tool_schemas],
                "tool_choice": "auto",
            }
        response = self._response(model, step, tool, answer, when)
        return {
            "created_by_id": USER_ID,
            "last_updated_by_id": USER_ID,
            "created_at": iso_z(when),
            "updated_at": iso_z(when),
            "id": f"provider_trace-{fast_uuid(rng)}",
            "request_json": request,
            "response_json": response,
            "step_id": step["id"],
            "agent_id": step["agent_id"],
            "agent_tags": ["seeded"],
            "call_type": "agent_step",
            "run_id": step["run_id"],
            "source": None,
            "org_id": ORG_ID,
            "user_id": USER_ID,
            "compaction_settings": None,
            "llm_config": model.llm_config(),
            "billing_context": None,
        }

    def _response(self, model: ModelConfig, step: dict, tool, answer: str, when: datetime) -> dict:
        """1–2 KB, in the provider's own shape."""
        rng = self.rng
        if step["status"] == "failed":
            kind = ERROR_KINDS.get(step["error_type"]) or catalog.EXTRA_ERROR_KINDS[step["error_type"]]
            return {"error": f"Error code: {kind[1]} - {kind[3]}", "error_type": kind[2]}
        thinking = " ".join(self._fill(rng.choice(catalog.TOPICS)[1 + i % 2]) for i in range(10))
        arguments = {"input": answer[:80], "request_heartbeat": True}
        if model.endpoint_type == "anthropic":
            content = [
                {"type": "thinking", "thinking": thinking, "signature": f"EqQB{rng.getrandbits(256):064x}"}
            ]
            if tool:
                content.append(
                    {
                        "type": "tool_use",
                        "id": f"toolu_{rng.getrandbits(96):024x}",
                        "name": tool,
                        "input": arguments,
                    }
                )
            else:
                content.append({"type": "text", "text": answer})
            return {
                "id": f"msg_01{rng.getrandbits(96):024x}",
                "type": "message",
                "role": "assistant",
                "model": model.model,
                "content": content,
                "stop_reason": "tool_use" if tool else "end_turn",
                "stop_sequence": None,
                "usage": {
                    "input_tokens": step["prompt_tokens"],
                    "cache_creation_input_tokens": step["cache_write_tokens"] or 0,
                    "cache_read_input_tokens": step["cached_input_tokens"] or 0,
                    "output_tokens": step["completion_tokens"],
                    "service_tier": "standard",
                },
            }
        if model.endpoint_type == "google_ai":
            part = {"functionCall": {"name": tool, "args": arguments}} if tool else {"text": answer}
            return {
                "candidates": [
                    {
                        "content": {"role": "model", "parts": [{"text": thinking, "thought": True}, part]},
                        "finishReason": "STOP",
                        "index": 0,
                        "safetyRatings": [
                            {"category": c, "probability": "NEGLIGIBLE"}
                            for c in (
                                "HARM_CATEGORY_HATE_SPEECH",
                                "HARM_CATEGORY_DANGEROUS_CONTENT",
                                "HARM_CATEGORY_HARASSMENT",
                            )
                        ],
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": step["prompt_tokens"],
                    "candidatesTokenCount": step["completion_tokens"],
                    "totalTokenCount": step["total_tokens"],
                    "thoughtsTokenCount": rng.randint(20, 300),
                },
                "modelVersion": model.model,
                "responseId": f"{rng.getrandbits(96):024x}",
            }
        tool_calls = None
        if tool:
            function = {"arguments": json.dumps(arguments, ensure_ascii=False), "name": tool}
            tool_calls = [
                {"id": f"call_{rng.getrandbits(96):024x}", "function": function, "type": "function"}
            ]
        return {
            "id": f"chatcmpl-{rng.getrandbits(96):024x}",
            "choices": [
                {
                    "finish_reason": "tool_calls" if tool else "stop",
                    "index": 0,
                    "logprobs": None,
                    "message": {
                        "content": None if tool else f"{answer}\n\n{thinking}",
                        "refusal": None,
                        "role": "assistant",
                        "annotations": [],
                        "audio": None,
                        "function_call": None,
                        "tool_calls": tool_calls,
                    },
                }
            ],
            "created": int(when.timestamp()),
            "model": model.model,
            "object": "chat.completion",
            "service_tier": "default",
            "system_fingerprint": f"fp_{rng.getrandbits(40):010x}",
            "usage": {
                "completion_tokens": step["completion_tokens"],
                "prompt_tokens": step["prompt_tokens"],
                "total_tokens": step["total_tokens"],
                "completion_tokens_details": {
                    "accepted_prediction_tokens": 0,
                    "audio_tokens": 0,
                    "reasoning_tokens": step["reasoning_tokens"] or 0,
                    "rejected_prediction_tokens": 0,
                },
                "prompt_tokens_details": {
                    "audio_tokens": 0,
                    "cached_tokens": step["cached_input_tokens"] or 0,
                },
            },
        }


def _error(error_type: str, model: ModelConfig) -> tuple[str, dict]:
    if error_type in ERROR_KINDS:
        return error_fields(error_type, model)
    stop_reason, status, exception, text = catalog.EXTRA_ERROR_KINDS[error_type]
    message = f"{model.provider_name} error {status}: {text}"
    traceback = (
        'Traceback (most recent call last):\n  File "/srv/letta/venv/lib/python3.11/site-packages/letta/'
        f'agents/letta_agent_v3.py", line 1167, in _step\n    async for chunk in invocation:\n{exception}: {text}\n'
    )
    return stop_reason, {"message": message, "traceback": traceback, "details": None}
