"""Which price applies to a step's model. Pure: no Django import.

Letta reports a model two ways: `Step.model` ("gpt-4o-mini", "claude-sonnet-4-20250514") and
`Step.model_handle` ("openai/gpt-4o-mini", "openai-proxy/gpt-4o-mini"). Names are compared in
lower case, and the first rule that finds a price wins:

1. the whole handle, exactly: a price named "openai-proxy/gpt-4o-mini" prices only that route;
2. the model, exactly: "gpt-4o-2024-05-13" has its own (older, higher) price;
3. the handle's last part (after the last "/"), exactly;
4. the longest price name that is a prefix of the model *followed only by a version suffix*:
   dates and numbers ("-2024-08-06", "-20250514", "-001", "@20240620"), "-latest",
   "-preview", "-exp", "-v1:0". So "gpt-4o-2024-08-06" is priced as "gpt-4o", but
   "gpt-4o-mini" is never priced as "gpt-4o", nor "gemini-2.5-flash-lite" as "gemini-2.5-flash":
   a different word after the prefix is a different model, which gets "no price" until
   someone adds it;
5. the same prefix rule on the handle's last part.

Nothing found: no price (None), never 0.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

VERSION_SUFFIX = re.compile(r"(?:[-@:](?:\d+|latest|preview|exp|v\d+))+")
_BOUNDARY = "-@:"


def normalize(name: str) -> str:
    return name.strip().lower()


def _versioned_prefix[T](prices: Mapping[str, T], name: str) -> T | None:
    # right to left: the longest prefix that is a price name wins
    for i in range(len(name) - 1, 0, -1):
        if name[i] in _BOUNDARY and name[:i] in prices and VERSION_SUFFIX.fullmatch(name[i:]):
            return prices[name[:i]]
    return None


def candidates(model: str, handle: str) -> tuple[str, str, str]:
    model, handle = normalize(model or ""), normalize(handle or "")
    return handle, model, handle.rsplit("/", 1)[-1]


def match[T](prices: Mapping[str, T], model: str, handle: str = "") -> T | None:
    """The price for a step's model and handle; `prices` is keyed by normalized name."""
    whole_handle, model, tail = candidates(model, handle)
    for name in (whole_handle, model, tail):
        if name and name in prices:
            return prices[name]
    for name in (model, tail):
        if name and (found := _versioned_prefix(prices, name)) is not None:
            return found
    return None
