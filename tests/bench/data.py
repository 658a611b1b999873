"""The values bench cases name ({agent}, {run}, {deep_cursor}, ...), read from the seeded data once.

Setup, not measured: the deep cursor is found with one OFFSET query here, so the page itself is
asked for the way a user reaches it, by its keyset cursor.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet

from steps.filters import StepFilterForm, encode_cursor
from steps.models import Agent, Step
from steps.seeding import catalog

DEEP = 500_000


def _newest(qs: QuerySet) -> Step | None:
    return qs.order_by("-step_time", "-id").first()


def _cursor_at(sort: str, depth: int) -> str:
    qs = StepFilterForm({"sort": sort}).filter(Step.objects.for_list()).ordered(sort)
    row = qs[depth : depth + 1].first()
    return encode_cursor(sort, row) if row else ""


def bench_data(step_count: int) -> dict[str, str]:
    depth = min(DEEP, step_count // 2)
    step = _newest(Step.objects.filter(trace_state="found", status="success", run_position=1))
    step = step or _newest(Step.objects.all())
    if step is None:
        raise SystemExit("The bench database has no steps: seed it first (manage.py seed_steps --count N).")
    other = _newest(
        Step.objects.filter(trace_state="found", status="success", model=step.model).exclude(
            run_id=step.run_id
        )
    )
    failed = _newest(Step.objects.exclude(error_type="")) or step
    agent = Agent.objects.filter(pk=step.agent_id).first()
    newest = _newest(Step.objects.all())
    day = newest.step_time - timedelta(days=30)
    return {
        "step": step.id,
        "other_step": (other or step).id,
        "failed_step": failed.id,
        "run": step.run_id or "",
        "other_run": (other or step).run_id or "",
        "agent": step.agent_id,
        "agent_name": agent.name if agent and agent.name else step.agent_id,
        "model": "gpt-4o-mini",
        "rare_tag": catalog.all_tags()[-1],
        "deep_label": f"{depth // 1000:,} k deep",
        "deep_cursor": _cursor_at("-time", depth),
        "deep_tokens_cursor": _cursor_at("-tokens", depth),
        "since": (day - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "until": day.strftime("%Y-%m-%dT%H:%M"),
        # the overview's longest ranges, ending at the newest step
        "newest": newest.step_time.strftime("%Y-%m-%dT%H:%M"),
        "since_90d": (newest.step_time - timedelta(days=90)).strftime("%Y-%m-%dT%H:%M"),
        "since_400d": (newest.step_time - timedelta(days=400)).strftime("%Y-%m-%dT%H:%M"),
        "common_word": catalog.COMMON_WORD,
        "rare_word": catalog.RARE_WORD,
        "common_word_cjk": catalog.COMMON_WORD_CJK,
        "rare_word_cyrillic": catalog.RARE_WORD_CYRILLIC,
    }
