"""Verdict conditions: "verdict = positive, accuracy >= 4". Pure code, no Django import.

A condition is clauses joined by commas (or "and"), each ``<rubric item> <op> <value>``; a step's
verdict passes when every clause holds. Values are read per the item's kind:

- thumbs: ``positive`` / ``negative`` (also ``up`` / ``down``, ``good`` / ``bad``), ``=`` and ``!=``;
- labels: one of the item's labels, ``=`` and ``!=``;
- scale: a point, any of ``= != >= <= > <``;
- yes/no: ``true`` / ``false`` (also ``yes`` / ``no``), ``=`` and ``!=``;
- free text cannot be compared.

``parse`` checks a condition against the rubric's items and says what is wrong in a sentence; the
SQL form is built from the clauses by ``steps.review.export``; ``passes`` evaluates one verdict.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_CONDITION = 500
CLAUSE = re.compile(r"\s*(?P<name>[^=!<>]+?)\s*(?P<op>>=|<=|!=|==|=|>|<)\s*(?P<value>.*?)\s*")
SEPARATOR = re.compile(r"\s*(?:,|;|\band\b)\s*", re.IGNORECASE)
OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
THUMBS = {"positive": "positive", "up": "positive", "good": "positive", "+": "positive"}
THUMBS |= {"negative": "negative", "down": "negative", "bad": "negative", "-": "negative"}
BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


class ConditionError(ValueError):
    """A condition that cannot be applied; the message is written for the person who typed it."""


@dataclass(frozen=True, slots=True)
class Clause:
    name: str
    op: str  # one of OPS
    value: Any  # as stored in a verdict: "positive", 4, True, a label

    def holds(self, verdict: Mapping[str, Any]) -> bool:
        if self.name not in verdict:
            return False
        got = verdict[self.name]
        if self.op in ("=", "!="):
            return OPS[self.op](got, self.value)
        # an order needs two numbers; a value that is none (a hand-edited verdict) never passes
        if not _number(got):
            return False
        return OPS[self.op](got, self.value)

    def __str__(self) -> str:
        value = str(self.value).lower() if isinstance(self.value, bool) else self.value
        return f"{self.name} {self.op} {value}"


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """What parsing needs of a rubric item (a plain record, so this module needs no model)."""

    name: str
    kind: str
    choices: tuple = ()


def parse(text: str, items: list[ItemSpec]) -> list[Clause]:
    """The clauses of `text`, checked against the rubric's items; ConditionError says why not."""
    text = (text or "").strip()
    if not text:
        return []
    if len(text) > MAX_CONDITION:
        raise ConditionError(f"The condition has {len(text)} characters; at most {MAX_CONDITION}.")
    by_name = {item.name: item for item in items}
    clauses = []
    for part in SEPARATOR.split(text):
        if not part:
            continue
        match = CLAUSE.fullmatch(part)
        if not match:
            raise ConditionError(
                f"“{part[:60]}” is not a clause: write item, comparison, value, e.g. “accuracy >= 4”."
            )
        name, op, raw = match["name"], match["op"], match["value"]
        op = "=" if op == "==" else op
        item = by_name.get(name) or next((i for i in items if i.name.lower() == name.lower()), None)
        if item is None:
            known = ", ".join(i.name for i in items if i.kind != "text") or "none"
            raise ConditionError(f"The rubric has no item “{name[:60]}” (it has {known}).")
        clauses.append(Clause(item.name, op, _value(item, op, raw)))
    return clauses


def passes(verdict: Any, clauses: list[Clause]) -> bool:
    """Whether a verdict (item name -> value) meets every clause; no verdict passes nothing."""
    if not isinstance(verdict, Mapping):
        return False
    return all(clause.holds(verdict) for clause in clauses)


def describe(clauses: list[Clause]) -> str:
    return " and ".join(str(c) for c in clauses)


def _value(item: ItemSpec, op: str, raw: str) -> Any:
    raw = raw.strip().strip("\"'")
    where = f"“{item.name}”"
    if not raw:
        raise ConditionError(f"{where}: give a value after “{op}”.")
    if item.kind == "text":
        raise ConditionError(f"{where} is free text: it cannot be compared.")
    if item.kind == "scale":
        try:
            value = int(raw)
        except ValueError:
            raise ConditionError(
                f"{where} is a scale: compare it with a whole number, e.g. “{item.name} >= 4”."
            ) from None
        return value
    if op not in ("=", "!="):
        raise ConditionError(f"{where} has no order: use = or !=.")
    if item.kind == "thumbs":
        if raw.lower() not in THUMBS:
            raise ConditionError(f"{where} is a thumb: positive or negative.")
        return THUMBS[raw.lower()]
    if item.kind == "boolean":
        if raw.lower() not in BOOLEANS:
            raise ConditionError(f"{where} is yes or no: true or false.")
        return BOOLEANS[raw.lower()]
    if item.kind == "categorical":
        if raw in item.choices:
            return raw
        folded = {str(c).lower(): c for c in item.choices}
        if raw.lower() in folded:
            return folded[raw.lower()]
        raise ConditionError(
            f"{where} has no label “{raw[:60]}” (it has {', '.join(map(str, item.choices))})."
        )
    raise ConditionError(f"{where} cannot be compared.")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
