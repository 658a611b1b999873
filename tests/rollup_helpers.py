"""What the rollups should hold, computed in Python from the steps themselves (not from SQL)."""

from collections import Counter, defaultdict
from datetime import UTC, timedelta

from steps.models import HourlyRollup, Message, Step, ToolRollup
from steps.models.rollups import DURATION_BUCKETS, HISTOGRAM_BOUNDS_NS, LLM_BUCKETS


def bucket(ns: int) -> int:
    return sum(1 for bound in HISTOGRAM_BOUNDS_NS if ns >= bound)


def expected_rollups() -> dict:
    rows: dict = defaultdict(Counter)
    steps = Step.objects.select_related("metrics", "review", "vote")
    for step in steps:
        hour = step.step_time.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        review = getattr(step, "review", None)
        key = (
            hour,
            step.agent_id,
            step.model,
            step.provider_name,
            step.status,
            step.error_type,
            bool(review and review.hidden),
        )
        row = rows[key]
        row["steps"] += 1
        row["prompt_tokens"] += step.prompt_tokens or 0
        row["completion_tokens"] += step.completion_tokens or 0
        row["cached_tokens"] += step.cached_input_tokens or 0
        if step.duration_ns is not None:
            row["duration_ns"] += step.duration_ns
            row["duration_count"] += 1
            row[DURATION_BUCKETS[bucket(step.duration_ns)]] += 1
        metrics = getattr(step, "metrics", None)
        if metrics and metrics.llm_request_ns is not None:
            row["llm_ns"] += metrics.llm_request_ns
            row["llm_count"] += 1
            row[LLM_BUCKETS[bucket(metrics.llm_request_ns)]] += 1
        vote = getattr(step, "vote", None)
        feedback = vote.feedback if vote else step.feedback
        row["positive"] += feedback == "positive"
        row["negative"] += feedback == "negative"
    return {key: +counts for key, counts in rows.items()}  # + drops zero counts


def stored_rollups() -> dict:
    return _stored(HourlyRollup)


def expected_tools() -> Counter:
    calls = Counter()
    for m in (
        Message.objects.filter(message_type="tool_call_message").exclude(tool_name="").select_related("step")
    ):
        hour = m.step.step_time.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        calls[(hour, m.step.agent_id, m.tool_name)] += 1
    return calls


def stored_tools() -> Counter:
    calls = Counter()
    for r in ToolRollup.objects.all():
        calls[(r.hour, r.agent_id, r.tool_name)] += r.calls
    return calls


def expected_daily() -> dict:
    days: dict = defaultdict(Counter)
    for (hour, *dims), counts in expected_rollups().items():
        days[(hour.replace(hour=0), *dims)].update(counts)
    return dict(days)


def expected_weekly() -> dict:
    weeks: dict = defaultdict(Counter)
    for (day, *dims), counts in expected_daily().items():
        weeks[(day - timedelta(days=day.weekday()), *dims)].update(counts)
    return dict(weeks)


def expected_daily_tools() -> Counter:
    days = Counter()
    for (hour, agent, tool), n in expected_tools().items():
        days[(hour.replace(hour=0), agent, tool)] += n
    return days


def stored_daily_tools() -> Counter:
    from steps.models import DailyToolRollup

    calls = Counter()
    for r in DailyToolRollup.objects.all():
        calls[(r.hour, r.agent_id, r.tool_name)] += r.calls
    return calls


def stored_weekly() -> dict:
    from steps.models import WeeklyRollup

    return _stored(WeeklyRollup)


def stored_daily() -> dict:
    from steps.models import DailyRollup

    return _stored(DailyRollup)


# the summed columns, named here rather than taken from the models under test
COUNTED = ["steps", "prompt_tokens", "completion_tokens", "cached_tokens", "duration_ns", "duration_count"]
COUNTED += ["llm_ns", "llm_count", "positive", "negative", *DURATION_BUCKETS, *LLM_BUCKETS]


def _stored(model) -> dict:
    """A rollup table's rows by (period, dimensions), their counts without zeros."""
    stored = {}
    for r in model.objects.all():
        key = (r.hour, r.agent_id, r.model, r.provider_name, r.status, r.error_type, r.hidden)
        assert key not in stored, f"two {model.__name__} rows for {key}"
        stored[key] = +Counter({name: getattr(r, name) for name in COUNTED})
    return stored
