"""Models of the steps app, one module per concern; import them from here."""

from .agents import Agent
from .api_tokens import ApiToken
from .facets import FacetCount
from .feedback import FeedbackBatch, FeedbackPush, StepVote
from .mirrored import (
    RUN_DELETED,
    RUN_TERMINAL_STATUSES,
    STEP_TERMINAL_STATUSES,
    Message,
    MirroredModel,
    ProviderTrace,
    Run,
    Step,
    StepMetrics,
    datetime_from_ns,
    message_item_key,
    parse_upstream_datetime,
)
from .pricing import ModelPrice
from .review import ShareLink, StepReview
from .rollups import (
    DailyRollup,
    DailyToolRollup,
    DirtyDay,
    DirtyHour,
    DirtyWeek,
    HourlyRollup,
    RollupEpoch,
    ToolRollup,
    WeeklyRollup,
    mark_dirty,
)
from .syncing import SyncCursor, SyncRun, stale_after, unclaimed
from .tools import StepTool

__all__ = [
    "RUN_DELETED",
    "RUN_TERMINAL_STATUSES",
    "STEP_TERMINAL_STATUSES",
    "Agent",
    "ApiToken",
    "FacetCount",
    "DailyRollup",
    "DailyToolRollup",
    "DirtyDay",
    "DirtyWeek",
    "DirtyHour",
    "FeedbackBatch",
    "FeedbackPush",
    "HourlyRollup",
    "RollupEpoch",
    "Message",
    "ModelPrice",
    "MirroredModel",
    "ProviderTrace",
    "Run",
    "ShareLink",
    "Step",
    "StepMetrics",
    "StepReview",
    "StepTool",
    "StepVote",
    "SyncCursor",
    "SyncRun",
    "ToolRollup",
    "WeeklyRollup",
    "datetime_from_ns",
    "mark_dirty",
    "message_item_key",
    "parse_upstream_datetime",
    "stale_after",
    "unclaimed",
]
