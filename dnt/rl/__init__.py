"""Resource decisions: the slice/twin-sync environment, its rare events, the safety shield and baselines."""

from dnt.rl.baselines import (
    EPISODE_METRICS,
    Oracle,
    ProportionalToForecast,
    ProportionalToLoad,
    StaticEqual,
    evaluate,
    mean_ci,
)
from dnt.rl.env import NODE_FEATURES, EnvConfig, SliceEnv, normalized_adjacency, shares_to_action
from dnt.rl.events import Event, EventConfig, EventSchedule, holiday_ratio, sample_events
from dnt.rl.shield import LagrangeMultiplier, SafetyShield

__all__ = [
    "EPISODE_METRICS",
    "Oracle",
    "ProportionalToForecast",
    "ProportionalToLoad",
    "StaticEqual",
    "evaluate",
    "mean_ci",
    "NODE_FEATURES",
    "EnvConfig",
    "SliceEnv",
    "normalized_adjacency",
    "shares_to_action",
    "Event",
    "EventConfig",
    "EventSchedule",
    "holiday_ratio",
    "sample_events",
    "LagrangeMultiplier",
    "SafetyShield",
]
