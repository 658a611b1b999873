"""Query, path and body validation with the error shapes a real Letta 0.16.8 answers (§6)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

STEP_ID_PATTERN = "^step-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
AGENT_ID_PATTERN = re.compile("^agent-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


class ApiError(Exception):
    def __init__(self, status: int, body: dict, headers: dict | None = None):
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}


def detail(status: int, text: str) -> ApiError:
    return ApiError(status, {"detail": text})


def validation_error(errors: list[dict], examples: list[str] | None = None) -> ApiError:
    # Letta's own 422 handler: detail is the repr() of pydantic's error list, not a JSON array (§6).
    body: dict = {"trace_id": "", "detail": repr(errors)}
    if examples is not None:
        body["examples"] = examples
    return ApiError(422, body)


def check_step_id(step_id: str) -> None:
    if len(step_id) != 41 or not re.match(STEP_ID_PATTERN, step_id):
        error = {
            "type": "string_pattern_mismatch",
            "loc": ("path", "step_id"),
            "msg": "String should match pattern 'step-{uuid4}'",
            "input": step_id,
            "ctx": {"pattern": STEP_ID_PATTERN},
        }
        raise validation_error([error], examples=["step-123e4567-e89b-42d3-8456-426614174000"])


def _choices(values: tuple[str, ...]) -> str:
    quoted = [f"'{value}'" for value in values]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


class QueryReader:
    """Reads query parameters the way FastAPI does and collects every validation error before failing."""

    def __init__(self, query: dict[str, list[str]]):
        self.query = query
        self.errors: list[dict] = []

    def raw(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None  # a repeated scalar key: the last one wins

    def string(self, name: str) -> str | None:
        return self.raw(name)

    def strings(self, name: str) -> list[str] | None:
        return self.query.get(name) or None

    def integer(self, name: str, default: int | None) -> int | None:
        value = self.raw(name)
        if value is None:
            return default
        try:
            return int(value.strip())
        except ValueError:
            self.errors.append(
                {
                    "type": "int_parsing",
                    "loc": ("query", name),
                    "msg": "Input should be a valid integer, unable to parse string as an integer",
                    "input": value,
                }
            )
            return default

    def boolean(self, name: str) -> bool | None:
        value = self.raw(name)
        if value is None:
            return None
        if value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        self.errors.append(
            {
                "type": "bool_parsing",
                "loc": ("query", name),
                "msg": "Input should be a valid boolean, unable to interpret input",
                "input": value,
            }
        )
        return None

    def choice(self, name: str, values: tuple[str, ...], default: str | None, kind: str = "literal_error"):
        value = self.raw(name)
        if value is None:
            return default
        if value in values:
            return value
        expected = _choices(values)
        self.errors.append(
            {
                "type": kind,
                "loc": ("query", name),
                "msg": f"Input should be {expected}",
                "input": value,
                "ctx": {"expected": expected},
            }
        )
        return default

    def raise_if_invalid(self) -> None:
        if self.errors:
            raise validation_error(self.errors)


def page_params(reader: QueryReader, default_limit: int, default_order: str) -> dict:
    params = {
        "before": reader.string("before"),
        "after": reader.string("after"),
        "limit": reader.integer("limit", default_limit),
        "order": reader.choice("order", ("asc", "desc"), default_order),
    }
    reader.choice("order_by", ("created_at",), "created_at")  # validated, then ignored (§1.1)
    if params["limit"] is None:
        params["limit"] = default_limit
    return params


def check_limit(limit: int) -> None:
    # A negative LIMIT is a database error, which the server reports as a generic 500 (§1.1).
    if limit < 0:
        raise detail(500, "An unknown error occurred")


def parse_date(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise detail(400, str(exc)) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_agent_id(agent_id: str | None) -> None:
    if agent_id is not None and not AGENT_ID_PATTERN.match(agent_id):
        raise detail(400, f"INVALID_ARGUMENT: Invalid agent ID format: {agent_id}")


def feedback_body(raw: bytes) -> tuple[str | None, list[str] | None]:
    """ModifyFeedbackRequest {feedback, tags}; extra keys are ignored (§1.5)."""
    if not raw:
        raise validation_error(
            [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
        )
    try:
        body = json.loads(raw)
    except ValueError as exc:
        error = {"type": "json_invalid", "loc": ("body", getattr(exc, "pos", 0)), "msg": "JSON decode error"}
        raise validation_error(
            [{**error, "input": {}, "ctx": {"error": getattr(exc, "msg", str(exc))}}]
        ) from None
    if not isinstance(body, dict):
        message = "Input should be a valid dictionary or object to extract fields from"
        raise validation_error(
            [{"type": "model_attributes_type", "loc": ("body",), "msg": message, "input": body}]
        )
    errors = []
    feedback = body.get("feedback")
    if feedback is not None and feedback not in ("positive", "negative"):
        expected = "'positive' or 'negative'"
        errors.append(
            {
                "type": "enum",
                "loc": ("body", "feedback"),
                "msg": f"Input should be {expected}",
                "input": feedback,
                "ctx": {"expected": expected},
            }
        )
    tags = body.get("tags")
    if tags is not None and not isinstance(tags, list):
        errors.append(
            {
                "type": "list_type",
                "loc": ("body", "tags"),
                "msg": "Input should be a valid list",
                "input": tags,
            }
        )
    elif tags is not None:
        for index, tag in enumerate(tags):
            if not isinstance(tag, str):
                message = "Input should be a valid string"
                errors.append(
                    {"type": "string_type", "loc": ("body", "tags", index), "msg": message, "input": tag}
                )
    if errors:
        raise validation_error(errors)
    return feedback, tags
