"""Provider request/response shapes (OpenAI chat, Anthropic, Google, OpenAI Responses) normalized."""

from __future__ import annotations

from typing import Any

from .model import NormalizedRequest, NormalizedResponse


def normalize_request(request_json: Any) -> NormalizedRequest:
    """Recognise the provider shape and normalize; anything else gives shape "unknown"."""
    raise NotImplementedError


def normalize_response(response_json: Any) -> NormalizedResponse:
    """Text, tool calls, finish reason and usage of a provider response."""
    raise NotImplementedError
