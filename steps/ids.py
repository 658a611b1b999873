"""What a Letta id looks like: `step-<uuid>`, `run-<uuid>`, `agent-<uuid>`, `message-<uuid>`.

Ids arrive in URL paths, cursors, live-poll parameters and bulk selections. Anything else is
turned away here (a 404 from the URL resolver, a form error) before it reaches a query: a NUL
byte or a 10 KB "id" is never sent to PostgreSQL. Letta itself only accepts uuid4-shaped ids
(tests/letta_samples/error_bad_step_id.json); any uuid is allowed here so older ids still resolve.
"""

from __future__ import annotations

import re

from django import forms
from django.core.validators import RegexValidator

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def id_pattern(prefix: str) -> str:
    return rf"{prefix}-{UUID}"


def is_letta_id(prefix: str, value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(id_pattern(prefix), value) is not None


class _LettaIdConverter:
    prefix = ""

    def __init__(self):
        self.regex = id_pattern(self.prefix)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class StepIdConverter(_LettaIdConverter):
    prefix = "step"


class RunIdConverter(_LettaIdConverter):
    prefix = "run"


class AgentIdConverter(_LettaIdConverter):
    prefix = "agent"


class LettaIdField(forms.CharField):
    """A form field that only accepts ids of one kind (`prefix`)."""

    def __init__(self, prefix: str, **kwargs):
        kwargs.setdefault("max_length", len(prefix) + 37)
        super().__init__(**kwargs)
        self.validators.append(
            RegexValidator(
                rf"\A{id_pattern(prefix)}\Z", f"Not a {prefix} id (they look like {prefix}-1234abcd-…)."
            )
        )
