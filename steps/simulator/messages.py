"""Internal message rows of a step and their conversion to LettaMessage items (§1.6, §2.3)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import datetime

from .catalog import derived_otid, iso_seconds, new_id, new_uuid
from .records import InternalMessage

REDACTED_SIGNATURE = "EqQBCkYIBxgCKkDmGk3f0b9s1Q9ZJ2xvTn0o1bq0sE8Yy3xU0mWcL9mK2aF3l9s2hT7rQ"


class MessageFactory:
    """Builds the rows one step writes; every row gets a fresh id and a strictly later created_at."""

    def __init__(
        self, rng: random.Random, step_id: str, run_id: str, clock: Callable[[], datetime], is_err: bool
    ):
        self.rng = rng
        self.step_id = step_id
        self.run_id = run_id
        self.clock = clock
        # is_err is true on rows of errored steps and null otherwise; false is never sent (§1.6 point 5).
        self.is_err = True if is_err else None

    def _row(self, make_items: Callable[[str, datetime], list[dict]]) -> InternalMessage:
        message_id = new_id(self.rng, "message")
        moment = self.clock()
        return InternalMessage(message_id, moment, make_items(message_id, moment))

    def _item(
        self, message_id: str, moment: datetime, message_type: str, otid: str | None, name=None
    ) -> dict:
        return {
            "id": message_id,
            "date": iso_seconds(moment),
            "name": name,
            "message_type": message_type,
            "otid": otid,
            "sender_id": None,
            "step_id": self.step_id,
            "is_err": self.is_err,
            "seq_id": None,
            "run_id": self.run_id,
        }

    def user(self, content: str | list, client_otid: bool = True) -> InternalMessage:
        # otid of a user row is whatever the client sent: a uuid for real input, null for system-written rows.
        otid = new_uuid(self.rng) if client_otid else None
        return self._row(lambda mid, at: [{**self._item(mid, at, "user_message", otid), "content": content}])

    def _reasoning(self, mid: str, at: datetime, index: int, text: str, reasoner: bool) -> dict:
        return {
            **self._item(mid, at, "reasoning_message", derived_otid(mid, index)),
            "source": "reasoner_model" if reasoner else "non_reasoner_model",
            "reasoning": text,
            "signature": REDACTED_SIGNATURE if reasoner else None,
        }

    def _thinking(self, mid: str, at: datetime, text: str, reasoner: bool, hidden: str | None) -> dict:
        if hidden is not None:  # "redacted" (provider-encrypted) or "omitted" (thinking not returned)
            return {
                **self._item(mid, at, "hidden_reasoning_message", derived_otid(mid, 0)),
                "state": hidden,
                "hidden_reasoning": None,
            }
        return self._reasoning(mid, at, 0, text, reasoner)

    def tool_call(
        self, thought: str, call: dict, reasoner: bool, hidden: str | None, approval: bool = False
    ) -> InternalMessage:
        message_type = "approval_request_message" if approval else "tool_call_message"

        def items(mid: str, at: datetime) -> list[dict]:
            return [
                self._thinking(mid, at, thought, reasoner, hidden),
                {
                    **self._item(mid, at, message_type, derived_otid(mid, 1)),
                    "tool_call": call,
                    "tool_calls": [call],
                },
            ]

        return self._row(items)

    def tool_return(self, tool: str, call_id: str, text: str, status: str, stdout, stderr) -> InternalMessage:
        def items(mid: str, at: datetime) -> list[dict]:
            tool_return = {
                "tool_return": text,
                "status": status,
                "tool_call_id": call_id,
                "stdout": stdout,
                "stderr": stderr,
            }
            item = self._item(mid, at, "tool_return_message", derived_otid(mid, 0), name=tool)
            return [{**item, **tool_return, "tool_returns": [{"type": "tool", **tool_return}]}]

        return self._row(items)

    def answer(
        self, agent_type: str, thought: str, answer: str, call: dict | None, reasoner: bool
    ) -> InternalMessage:
        """The final turn; its shape depends on the agent type (§1.6 points 3 and 4)."""
        if agent_type == "memgpt_v2_agent" and call is not None:

            def memgpt_items(mid: str, at: datetime) -> list[dict]:
                assistant = self._item(mid, at, "assistant_message", derived_otid(mid, 1))
                return [self._reasoning(mid, at, 0, thought, False), {**assistant, "content": answer}]

            row = self._row(memgpt_items)
            row.send_message_call_id = call["tool_call_id"]
            return row

        def v1_items(mid: str, at: datetime) -> list[dict]:
            # text_is_assistant_message=False: the plain answer comes back as a reasoning_message.
            if reasoner:
                return [
                    self._reasoning(mid, at, 0, thought, True),
                    self._reasoning(mid, at, 1, answer, False),
                ]
            return [self._reasoning(mid, at, 0, answer, False)]

        return self._row(v1_items)

    def send_message_return(self, call_id: str, moment_text: str) -> InternalMessage:
        text = json.dumps({"status": "OK", "message": None, "time": moment_text}, indent=2)
        row = self.tool_return("send_message", call_id, text, "success", None, None)
        row.send_message_return_of = call_id
        return row

    def approval_response(
        self, request_id: str, call_id: str, approve: bool, reason: str | None
    ) -> InternalMessage:
        otid = new_uuid(self.rng)

        def items(mid: str, at: datetime) -> list[dict]:
            approval = {"type": "approval", "tool_call_id": call_id, "approve": approve, "reason": reason}
            return [
                {
                    **self._item(mid, at, "approval_response_message", otid),
                    "approvals": [approval],
                    "approve": approve,
                    "approval_request_id": request_id,
                    "reason": reason,
                }
            ]

        return self._row(items)


def render_items(rows: list[InternalMessage]) -> list[dict]:
    """Convert one page of rows the way to_letta_messages_from_list(reverse=True) does."""
    calls_on_page = {row.send_message_call_id for row in rows if row.send_message_call_id}
    items: list[dict] = []
    for row in rows:
        if row.send_message_return_of in calls_on_page:
            continue
        # reverse=True is hard-coded: the items of one row come out last-first (§1.6 point 2).
        items.extend(reversed(row.items))
    return items
