"""The simulated Letta server's data: a deterministic, thread-safe, in-memory world of agents, runs and steps."""

from __future__ import annotations

import bisect
import copy
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from .agents import agent_payload
from .catalog import APPROVAL_TOOLS, OPTIONAL_TOOLS, TOPICS, Agent, iso_z, make_agents, new_id
from .lifecycle import StepFinisher, carry_history, finish_run, new_run_payload, new_step, resolve_approval
from .messages import render_items
from .records import InternalMessage, SimRun, SimStep, StepPlan
from .traces import ERROR_KINDS, clickhouse_view

LIST_MODES = ("patched", "unpatched")
TRACE_BACKENDS = ("postgres", "clickhouse")
OUTCOMES = ("success", "failed", "cancelled", "requires_approval")


class NotFound(Exception):
    """Maps to 404 {"detail": str(exc)}."""


class BadRequest(Exception):
    """Maps to 400 {"detail": str(exc)}, as Letta does for ValueError."""


@dataclass(frozen=True)
class AddedRun:
    run_id: str
    # Every step the run will have; while the run is still in progress only the first ones exist.
    step_ids: list[str]


def _after(key: tuple, cursor: tuple, order: str) -> bool:
    # The id tie-break is "id > cursor" in both directions, which is only right for asc (§1.8 tie-break bug).
    if order == "asc":
        return key > cursor
    return key[0] < cursor[0] or (key[0] == cursor[0] and key[1] > cursor[1])


def _before(key: tuple, cursor: tuple, order: str) -> bool:
    if order == "asc":
        return key < cursor
    return key[0] > cursor[0] or (key[0] == cursor[0] and key[1] < cursor[1])


class AscendingIndex:
    """Rows of a dict in ascending (created_at, id) order, for `after=<cursor>` pages in
    O(log n) instead of a scan and sort of every row: what lets one simulator serve a sync of
    100 k steps (the bench). Rebuilt on the next read after the World adds a row; rows put
    into the dict from outside the World (some tests do) are not seen, so it is opt-in."""

    def __init__(self, rows: dict):
        self.rows = rows
        self.sorted: list | None = None
        self.keys: list[tuple] = []

    def invalidate(self) -> None:
        self.sorted = None

    def page_after(self, after: tuple | None, limit: int) -> list:
        if self.sorted is None:
            self.sorted = sorted(self.rows.values(), key=lambda row: row.sort_key)
            self.keys = [row.sort_key for row in self.sorted]
        start = 0 if after is None else bisect.bisect_right(self.keys, after)
        return self.sorted[start : start + max(limit, 0)]


def paginate(rows: Iterable, order: str, after: tuple | None, before: tuple | None, limit: int) -> list:
    """Letta's list_async over rows with a ``sort_key`` of (created_at, id) (§1.8)."""
    selected = [
        row
        for row in rows
        if (after is None or _after(row.sort_key, after, order))
        and (before is None or _before(row.sort_key, before, order))
    ]
    selected.sort(key=lambda row: row.sort_key, reverse=order == "desc")
    return selected[:limit]


def utc_now() -> datetime:
    return datetime.now(UTC)


class World:
    def __init__(
        self,
        seed: int = 7,
        agents: int = 4,
        initial_runs: int = 60,
        list_mode: str = "patched",
        trace_backend: str = "postgres",
        clock: Callable[[], datetime] | None = None,
        *,
        new_runs_per_tick: int = 1,
        late_trace_rate: float = 0.25,
        late_trace_ticks: int = 2,
        metrics_start_missing_rate: float = 0.15,
        agent_seed: int | None = None,
        indexed_lists: bool = False,
    ):
        if list_mode not in LIST_MODES or trace_backend not in TRACE_BACKENDS:
            raise ValueError(f"list_mode must be one of {LIST_MODES}, trace_backend one of {TRACE_BACKENDS}")
        self.lock = threading.RLock()
        self.rng = random.Random(seed)
        self.clock = clock or utc_now
        self.list_mode = list_mode
        self.trace_backend = trace_backend
        self.new_runs_per_tick = new_runs_per_tick
        self.late_trace_rate = late_trace_rate
        self.late_trace_ticks = late_trace_ticks
        # A real 0.16.8 server left step_start_ns null on every recorded step (step_metrics.json):
        # 1.0 plays that, and every step of a run then has only the run's time.
        self.metrics_start_missing_rate = metrics_start_missing_rate
        self.ticks = 0
        self.base_time = self.clock()
        self.user_updated_at = self.base_time - timedelta(days=30)
        self._last_time = self.base_time - timedelta(days=4)
        # agent_seed keeps the agents (ids, names) of a world whose runs and steps are new: `make run`
        # starts a fresh world each time against the same mirror, and the agents should stay the same
        agent_rng = self.rng if agent_seed is None else random.Random(agent_seed)
        self.agents: list[Agent] = make_agents(agent_rng, max(1, agents))
        # agent id -> (created_at, updated_at); agents predate the history
        self.agent_times = {
            agent.id: (self.base_time - timedelta(days=30 - i), self.base_time - timedelta(days=10 - i))
            for i, agent in enumerate(self.agents)
        }
        self.runs: dict[str, SimRun] = {}
        self.steps: dict[str, SimStep] = {}
        # unfiltered ascending pages from an index (AscendingIndex): off, every page scans
        self.indexed_lists = indexed_lists
        self._run_index, self._step_index = AscendingIndex(self.runs), AscendingIndex(self.steps)
        self.messages: dict[str, InternalMessage] = {}
        self._generate_history(initial_runs)
        self._index_messages()

    # -- persistence (steps/simulator/state.py) -------------------------------------------------------------

    def __getstate__(self) -> dict:
        # the lock and the list indexes are rebuilt; a clock given for a test is not kept
        state = dict(self.__dict__)
        for transient in ("lock", "clock", "_run_index", "_step_index"):
            del state[transient]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.lock = threading.RLock()
        self.clock = utc_now
        self._run_index, self._step_index = AscendingIndex(self.runs), AscendingIndex(self.steps)

    # -- time ---------------------------------------------------------------------------------------------

    def _stamp(self, at: datetime | None = None) -> datetime:
        """A strictly increasing timestamp, so (created_at, id) ties only happen if a test makes them."""
        moment = at if at is not None else self.clock()
        if moment <= self._last_time:
            moment = self._last_time + timedelta(microseconds=137)
        self._last_time = moment
        return moment

    # -- generation ---------------------------------------------------------------------------------------

    def _generate_history(self, count: int) -> None:
        span = timedelta(days=3)
        for index in range(count):
            at = self.base_time - span + span * (index + self.rng.random() * 0.5) / max(count, 1)
            run = self._create_run(self.rng.randrange(len(self.agents)), None, None, at, live=False)
            while not run.finished:
                at = at + timedelta(milliseconds=self.rng.randint(400, 4000))
                self._advance(run, at)
            if index == 0 and count >= 10:
                self._make_legacy(run)

    def _make_legacy(self, run: SimRun) -> None:
        # Rows from before the status column existed: status null, no metrics, no trace (§2.1).
        for step_id in run.step_ids:
            step = self.steps[step_id]
            step.payload["status"] = None
            step.metrics = None
            step.traces = []

    def _plan(self, agent: Agent, topic_index: int, steps: int | None, outcome: str | None, live: bool):
        rng = self.rng
        topic = TOPICS[topic_index]
        if outcome is None:
            roll = rng.random()
            outcome = "success"
            if roll < 0.08:
                outcome = "failed"
            elif roll < 0.11:
                outcome = "cancelled"
            elif roll < 0.15 or (set(topic.tools) & APPROVAL_TOOLS and roll < 0.6):
                outcome = "requires_approval"
        usable = [tool for tool in agent.tools if tool != "send_message"]
        tools = [tool for tool in topic.tools if tool in agent.tools and tool not in APPROVAL_TOOLS]
        if steps is None:
            steps = len(tools) + 1 if rng.random() < 0.8 else rng.randint(1, 5)
        steps = max(1, min(steps, 5))
        tools = (tools or [rng.choice(usable)]) if steps > 1 else []
        plans = [self._tool_plan(tools[i % len(tools)], live) for i in range(steps - 1)]
        if outcome == "success":
            plans.append(self._final_plan(StepPlan("answer"), live))
        elif outcome == "requires_approval":
            plans.append(self._final_plan(StepPlan("approval", tool="send_email"), live))
        elif outcome == "cancelled":
            plans.append(StepPlan("cancelled"))
        else:
            error_type = rng.choice(sorted(ERROR_KINDS))
            # Only a first step has input rows of its own to persist with is_err=true (§1.6 point 5).
            errored = len(plans) == 0 and rng.random() < 0.3
            plans.append(
                self._final_plan(StepPlan("failed", error_type=error_type, errored_messages=errored), live)
            )
        return plans

    def _tool_plan(self, tool: str, live: bool) -> StepPlan:
        return self._final_plan(StepPlan("tool", tool=tool), live)

    def _final_plan(self, plan: StepPlan, live: bool) -> StepPlan:
        rng = self.rng
        plan.tracing = rng.random() >= 0.04
        if plan.kind != "failed":
            plan.summarized = rng.random() < 0.05
            plan.retried = rng.random() < 0.04
        if live and rng.random() < self.late_trace_rate:
            plan.trace_delay_ticks = self.late_trace_ticks
        return plan

    def _toggle_tool(self, agent: Agent) -> None:
        # Someone attaches or detaches a tool now and then, so consecutive requests differ in their tools.
        if self.rng.random() >= 0.08:
            return
        tool = self.rng.choice(OPTIONAL_TOOLS)
        if tool in agent.tools:
            agent.tools = tuple(name for name in agent.tools if name != tool)
        else:
            agent.tools = (*agent.tools, tool)

    def _create_run(self, agent_index: int, steps, outcome, at: datetime, live: bool) -> SimRun:
        agent = self.agents[agent_index]
        self._toggle_tool(agent)
        topic_index = self.rng.randrange(len(TOPICS))
        plans = self._plan(agent, topic_index, steps, outcome, live)
        created = self._stamp(at)
        payload = new_run_payload(new_id(self.rng, "run"), agent, iso_z(created), self.rng.random() < 0.7)
        run = SimRun(payload, created, agent_index, topic_index, plans)
        run.planned_step_ids = [new_id(self.rng, "step") for _ in plans]
        run.trace_id = f"{self.rng.getrandbits(128):032x}" if agent.otel else None
        run.transcript = list(agent.history)
        self.runs[run.id] = run
        self._run_index.invalidate()
        return run

    def _advance(self, run: SimRun, at: datetime | None) -> None:
        """One move of a run: start its next step, or finish the pending one (and the run after its last)."""
        agent = self.agents[run.agent_index]
        current = self.steps[run.step_ids[-1]] if run.step_ids else None
        if current is not None and current.payload["status"] == "pending":
            finished_at = self._stamp(at)
            StepFinisher(self.rng, self._stamp, self.ticks).finish(current, run, agent, finished_at)
            if len(run.step_ids) == len(run.plans) or current.payload["status"] in ("failed", "cancelled"):
                finish_run(run, current, finished_at)
                carry_history(agent, run, finished_at)
            return
        index = len(run.step_ids)
        step = new_step(
            self.rng,
            run.planned_step_ids[index],
            run,
            agent,
            run.plans[index],
            self._stamp(at),
            self.metrics_start_missing_rate,
        )
        run.step_ids.append(step.id)
        run.payload["status"] = "running"
        self.steps[step.id] = step
        self._step_index.invalidate()

    def _index_messages(self) -> None:
        for step in self.steps.values():
            for message in step.messages:
                self.messages[message.id] = message

    # -- public: moving the world ---------------------------------------------------------------------------

    def tick(self) -> None:
        """Live progress: pending steps finish, runs move on, approvals arrive, late traces appear, new runs start."""
        with self.lock:
            self.ticks += 1
            for run in self._unfinished_runs():
                self._advance(run, None)
            for step in list(self.steps.values()):
                if step.approval_due_tick is not None and step.approval_due_tick <= self.ticks:
                    resolve_approval(self.rng, step, self._stamp)
            for _ in range(self.new_runs_per_tick):
                run = self._create_run(self.rng.randrange(len(self.agents)), None, None, None, live=True)
                if self.rng.random() < 0.5:  # the other half stays "created" until the next tick
                    self._advance(run, None)
            self._index_messages()

    def add_run(
        self,
        agent: int | str | None = None,
        steps: int | None = None,
        pending: bool = True,
        outcome: str | None = None,
    ) -> AddedRun:
        """A new run; with ``pending`` its first step is left pending (tokens 0, partial metrics)."""
        if outcome is not None and outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}")
        with self.lock:
            agent_index = self._agent_index(agent)
            run = self._create_run(agent_index, steps, outcome, None, live=True)
            self._advance(run, None)
            if not pending:
                self._run_to_end(run)
            self._index_messages()
            return AddedRun(run.id, list(run.planned_step_ids))

    def finish_pending(self) -> None:
        """Play every unfinished run to its end right now."""
        with self.lock:
            for run in self._unfinished_runs():
                self._run_to_end(run)
            self._index_messages()

    def resolve_approvals(self) -> None:
        with self.lock:
            for step in self.steps.values():
                if step.approval_due_tick is not None:
                    resolve_approval(self.rng, step, self._stamp)
            self._index_messages()

    def rename_agent(self, agent: int | str, name: str) -> None:
        with self.lock:
            target = self.agents[self._agent_index(agent)]
            target.name = name
            self.agent_times[target.id] = (self.agent_times[target.id][0], self.clock())

    def set_feedback(self, step_id: str, feedback: str | None, tags: list[str] | None = None) -> dict:
        """PATCH /feedback semantics: feedback always overwritten, tags replaced only when non-empty (§1.5)."""
        with self.lock:
            step = self.steps.get(step_id)
            if step is None:
                raise NotFound(self.not_found_detail("Step", step_id))
            step.payload["feedback"] = feedback
            if tags:
                step.payload["tags"] = list(tags)
            return copy.deepcopy(step.payload)

    def delete_step(self, step_id: str) -> SimStep:
        """Someone deletes the step in Letta: every route answers 404 for it from now on.
        Returns the row, which put_back_step restores."""
        with self.lock:
            step = self.steps.pop(step_id)
            self._step_index.invalidate()
            return step

    def put_back_step(self, step: SimStep) -> None:
        with self.lock:
            self.steps[step.id] = step
            self._step_index.invalidate()

    def _run_to_end(self, run: SimRun) -> None:
        while not run.finished:
            self._advance(run, None)

    def _unfinished_runs(self) -> list[SimRun]:
        # a run whose latest step was deleted (delete_step) goes no further
        unfinished = (
            run
            for run in self.runs.values()
            if not run.finished and all(step_id in self.steps for step_id in run.step_ids[-1:])
        )
        return sorted(unfinished, key=lambda run: run.sort_key)

    def _agent_index(self, agent: int | str | None) -> int:
        if agent is None:
            return self.rng.randrange(len(self.agents))
        if isinstance(agent, int):
            return agent % len(self.agents)
        for index, candidate in enumerate(self.agents):
            if agent in (candidate.id, candidate.name):
                return index
        raise ValueError(f"unknown agent {agent!r}")

    # -- public: reading ----------------------------------------------------------------------------------

    def step_ids(self) -> list[str]:
        """Every step id, oldest first (the hidden created_at order)."""
        with self.lock:
            return [step.id for step in sorted(self.steps.values(), key=lambda step: step.sort_key)]

    def step_payload(self, step_id: str) -> dict:
        with self.lock:
            return copy.deepcopy(self.steps[step_id].payload)

    def agent_type_of(self, step_id: str) -> str:
        return self.agents[self.runs[self.steps[step_id].payload["run_id"]].agent_index].agent_type

    def not_found_detail(self, kind: str, identifier: str) -> str:
        # The read-access NoResultFound text of a real server (error_404_step.json).
        stamp = self.user_updated_at
        updated = (
            f"datetime.datetime({stamp.year}, {stamp.month}, {stamp.day}, {stamp.hour}, {stamp.minute}, "
            f"{stamp.second}, {stamp.microsecond}, tzinfo=datetime.timezone.utc)"
        )
        actor = (
            "id='user-00000000-0000-4000-8000-000000000000' organization_id='org-00000000-0000-4000-8000-000000000000'"
            f" name='default_user' created_at=None updated_at={updated} is_deleted=False"
        )
        return f"{kind} not found with id='['{identifier}']', access level in ['read'] for actor='{actor}'"

    def get_step(self, step_id: str) -> dict:
        with self.lock:
            step = self.steps.get(step_id)
            if step is None:
                raise NotFound(self.not_found_detail("Step", step_id))
            return copy.deepcopy(step.payload)

    def get_metrics(self, step_id: str) -> dict:
        with self.lock:
            step = self.steps.get(step_id)
            if step is None or step.metrics is None:
                raise NotFound(self.not_found_detail("StepMetrics", step_id))
            return copy.deepcopy(step.metrics)

    def get_trace(self, step_id: str) -> dict | None:
        """null for unknown steps, tracing off, not yet written, or (Postgres) more than one row (§1.4)."""
        with self.lock:
            step = self.steps.get(step_id)
            if step is None:
                return None
            rows = [row for row in step.traces if row.visible_from_tick <= self.ticks]
            if self.trace_backend == "clickhouse":
                return clickhouse_view(max(rows, key=lambda row: row.created_at).row) if rows else None
            return copy.deepcopy(rows[0].row) if len(rows) == 1 else None

    def _step_cursor(self, step_id: str | None) -> tuple | None:
        if step_id is None:
            return None
        step = self.steps.get(step_id)
        if step is None:
            raise NotFound(f"No Step found with id {step_id}")
        return step.sort_key

    @staticmethod
    def _check_window(after: tuple | None, before: tuple | None) -> None:
        if after is not None and before is not None and before[0] < after[0]:
            raise BadRequest("'before' reference must be later than 'after' reference")

    def list_steps(
        self,
        *,
        order: str = "desc",
        limit: int = 50,
        before: str | None = None,
        after: str | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        model: str | None = None,
        agent_id: str | None = None,
        trace_ids: list[str] | None = None,
        feedback: str | None = None,
        has_feedback: bool | None = None,
        project_id: str | None = None,
        run_id: str | None = None,
    ) -> list[dict]:
        with self.lock:
            after_key, before_key = self._step_cursor(after), self._step_cursor(before)
            self._check_window(after_key, before_key)

            def matches(step: SimStep) -> bool:
                payload = step.payload
                return (
                    (start_date is None or step.created_at > start_date)
                    and (end_date is None or step.created_at < end_date)
                    and (model is None or payload["model"] == model)
                    and (agent_id is None or payload["agent_id"] == agent_id)
                    and (trace_ids is None or payload["trace_id"] in trace_ids)
                    and (feedback is None or payload["feedback"] == feedback)
                    and (has_feedback is None or (payload["feedback"] is not None) == has_feedback)
                    and (project_id is None or payload["project_id"] == project_id)
                    and (run_id is None or payload["run_id"] == run_id)
                )

            unfiltered = all(
                value is None
                for value in (start_date, end_date, model, agent_id, trace_ids, feedback, has_feedback)
            ) and (project_id, run_id, before_key) == (None, None, None)
            if self.indexed_lists and unfiltered and order == "asc":
                page = self._step_index.page_after(after_key, limit)
            else:
                page = paginate(filter(matches, self.steps.values()), order, after_key, before_key, limit)
            return [copy.deepcopy(step.payload) for step in page]

    def get_agent(self, agent_id: str) -> dict:
        with self.lock:
            for agent in self.agents:
                if agent.id == agent_id:
                    return agent_payload(agent, *self.agent_times[agent.id])
            raise NotFound(f"Agent with id {agent_id} not found")

    def list_agents(self, *, order: str = "desc", limit: int = 50, after: str | None = None) -> list[dict]:
        """Sorted by (created_at, id) like every Letta list; `after` is an agent id."""
        with self.lock:
            keyed = sorted(((self.agent_times[a.id][0], a.id), a) for a in self.agents)
            if order == "desc":
                keyed.reverse()
            if after is not None:
                ids = [key[1] for key, _ in keyed]
                if after not in ids:
                    raise NotFound(f"Agent with id {after} not found")
                keyed = keyed[ids.index(after) + 1 :]
            return [agent_payload(a, *self.agent_times[a.id]) for _, a in keyed[:limit]]

    def get_run(self, run_id: str) -> dict:
        with self.lock:
            run = self.runs.get(run_id)
            if run is None:
                raise NotFound(self.not_found_detail("Run", run_id))
            return copy.deepcopy(run.payload)

    def list_runs(
        self, *, order: str = "desc", limit: int = 100, before=None, after=None, agent_id=None
    ) -> list[dict]:
        with self.lock:
            keys = []
            for cursor in (after, before):
                run = self.runs.get(cursor) if cursor else None
                if cursor and run is None:
                    raise NotFound(f"No Run found with id {cursor}")
                keys.append(run.sort_key if run else None)
            if self.indexed_lists and order == "asc" and agent_id is None and keys[1] is None:
                page = self._run_index.page_after(keys[0], limit)
            else:
                rows = (
                    run
                    for run in self.runs.values()
                    if agent_id is None or run.payload["agent_id"] == agent_id
                )
                page = paginate(rows, order, keys[0], keys[1], limit)
            return [copy.deepcopy(run.payload) for run in page]

    def list_run_steps(self, run_id: str, **params) -> list[dict]:
        with self.lock:
            if run_id not in self.runs:
                raise NotFound(self.not_found_detail("Run", run_id))
            return self.list_steps(run_id=run_id, **params)

    def list_messages(
        self, step_id: str, *, order: str = "asc", limit: int = 100, before=None, after=None
    ) -> list[dict]:
        """``limit`` counts internal rows, not returned items (§1.6 point 1). Unknown step: []."""
        with self.lock:
            keys = []
            for cursor in (after, before):
                message = self.messages.get(cursor) if cursor else None
                if cursor and message is None:
                    raise NotFound(f"No Message found with id {cursor}")
                keys.append((message.created_at, message.id) if message else None)
            step = self.steps.get(step_id)
            rows = step.messages if step else []
            return copy.deepcopy(render_items(paginate(rows, order, keys[0], keys[1], limit)))

    def state(self) -> dict:
        with self.lock:
            statuses: dict[str, int] = {}
            for step in self.steps.values():
                key = str(step.payload["status"])
                statuses[key] = statuses.get(key, 0) + 1
            return {
                "ticks": self.ticks,
                "agents": len(self.agents),
                "runs": len(self.runs),
                "steps": len(self.steps),
                "step_statuses": statuses,
                "pending_approvals": sum(step.approval_due_tick is not None for step in self.steps.values()),
                "list_mode": self.list_mode,
                "trace_backend": self.trace_backend,
            }

    def snapshot(self) -> dict:
        """Everything, hidden columns included, as plain data: two worlds are equal iff their snapshots are."""
        with self.lock:
            steps = {}
            for step in self.steps.values():
                steps[step.id] = {
                    "created_at": step.created_at.isoformat(),
                    "payload": step.payload,
                    "metrics": step.metrics,
                    "messages": [asdict(message) for message in step.messages],
                    "traces": [asdict(row) for row in step.traces],
                }
            runs = {
                run.id: {"created_at": run.created_at.isoformat(), **run.payload}
                for run in self.runs.values()
            }
            return copy.deepcopy({"ticks": self.ticks, "runs": runs, "steps": steps})
