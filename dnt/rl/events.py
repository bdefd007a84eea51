"""Rare events for the resource-decision environment: flash crowds, cell outages, holidays.

The RRM policy must stay safe when the twin's forecast is wrong, and the twin is most wrong on rare
events. :func:`sample_events` draws them for a window of ``T`` 10-minute steps of a ``C``-cell cluster
and returns *multiplicative* modifiers of the cluster's demand and capacity, both (C, T):

* **flash crowd** — a cell's demand × U(2, 4) for U(30, 120) minutes (a concert, a match), at
  ``flash_rate`` events per cell per day;
* **cell outage** — a cell's capacity × 0 for U(30, 180) minutes, at ``outage_rate`` per cell per day.
  Its users re-attach to the neighbouring cells: a fraction ``outage_spill`` of its demand is shared
  equally among its in-service neighbours (their demand grows), the rest stays on the dead cell and is
  lost (its capacity is 0). With no in-service neighbour in the cluster nothing moves;
* **holiday** — a weekday (Mon–Fri) turned into a public holiday with probability ``holiday_rate`` per
  weekday in the window: every cell's demand follows the Sunday/holiday shape and level of the
  calibration (``ratio = level_holiday·P_sunday(h) / (level_weekday·P_weekday(h))`` of the internet
  channel, which carries ~94 % of the load).

The neighbour spill is multiplicative only given the demand it moves: pass ``base_demand`` (C, T) so a
neighbour ``j`` of an out cell ``i`` gets ``1 + spill·D_i / (k_i·D_j)``; without it the loads are taken
as equal (``1 + spill/k_i``). A neighbour with zero demand cannot carry a multiplicative share: the
spill onto it is lost. Deterministic for a given generator state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dnt.data.frame import STEP_10MIN_MS, local_calendar
from dnt.data.synth import load_calibration
from dnt.errors import ConfigError

__all__ = ["EventConfig", "Event", "EventSchedule", "sample_events", "holiday_ratio"]

_KINDS = ("flash", "outage", "holiday")


@dataclass(frozen=True)
class EventConfig:
    """Rates and sizes of the rare events (rates are per cell per day unless noted)."""

    flash_rate: float = 0.1
    """Flash crowds per cell per day (≥ 0)."""
    flash_mult: tuple[float, float] = (2.0, 4.0)
    """Range of the flash-crowd demand multiplier (≥ 1)."""
    flash_minutes: tuple[int, int] = (30, 120)
    """Range of a flash crowd's duration in minutes (multiples of the 10-minute step are drawn)."""
    outage_rate: float = 0.02
    """Outages per cell per day (≥ 0)."""
    outage_minutes: tuple[int, int] = (30, 180)
    """Range of an outage's duration in minutes."""
    outage_spill: float = 0.5
    """Fraction (0..1) of an out cell's demand taken over by its in-service neighbours."""
    holiday_rate: float = 0.0
    """Probability (0..1) that a weekday in the window is a public holiday."""

    def __post_init__(self) -> None:
        for name in ("flash_rate", "outage_rate"):
            v = getattr(self, name)
            if not np.isfinite(v) or v < 0:
                raise ConfigError(f"EventConfig.{name} must be finite and ≥ 0 per cell per day, got {v!r}")
        for name in ("outage_spill", "holiday_rate"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise ConfigError(f"EventConfig.{name} must be in [0, 1], got {v!r}")
        lo, hi = self.flash_mult
        if not 1 <= lo <= hi:
            raise ConfigError(f"EventConfig.flash_mult must be a range 1 ≤ lo ≤ hi, got {self.flash_mult}")
        for name in ("flash_minutes", "outage_minutes"):
            lo, hi = getattr(self, name)
            if not 10 <= lo <= hi:
                raise ConfigError(f"EventConfig.{name} must be a range 10 ≤ lo ≤ hi minutes, got {(lo, hi)}")


@dataclass(frozen=True)
class Event:
    """One sampled event over window steps ``start`` (inclusive) .. ``stop`` (exclusive)."""

    kind: str
    """``flash``, ``outage`` or ``holiday``."""
    cell: int
    """Row of the cell in the cluster; -1 for a holiday (all cells)."""
    start: int
    stop: int
    factor: float
    """Demand multiplier of a flash crowd; 0 (capacity) for an outage; 1 for a holiday (per-step ratio)."""


@dataclass(frozen=True)
class EventSchedule:
    """Modifiers over a window: ``demand = base · demand_mult``, ``capacity = nominal · capacity_mult``."""

    demand_mult: np.ndarray
    """(C, T) multiplier of every slice's demand."""
    capacity_mult: np.ndarray
    """(C, T) multiplier of the cell's PRBs (0 during an outage)."""
    events: tuple[Event, ...] = field(default=())

    def of_kind(self, kind: str) -> tuple[Event, ...]:
        """The events of one kind."""
        if kind not in _KINDS:
            raise ConfigError(f"unknown event kind {kind!r}; known: {_KINDS}")
        return tuple(e for e in self.events if e.kind == kind)


def holiday_ratio(hours: np.ndarray, weekdays: np.ndarray) -> np.ndarray:
    """(T,) demand ratio of a holiday to an ordinary day at local ``hours`` on ``weekdays`` (Mon=0).

    Weekends return 1 (they already have the weekend shape).
    """
    cal = load_calibration()
    prof = cal["profiles"]["internet"]
    sun, wd = np.asarray(prof["sunday"], float), np.asarray(prof["weekday"], float)
    weekly = np.asarray(cal["weekly_factors"], float)
    level = weekly[6] * float(cal["holidays"]["holiday_factor"])
    tod = np.clip((np.asarray(hours, float) * 6).astype(np.int64), 0, sun.size - 1)
    weekdays = np.asarray(weekdays, dtype=np.int64)
    ratio = level * sun[tod] / (weekly[np.clip(weekdays, 0, 6)] * np.maximum(wd[tod], 1e-9))
    return np.where(weekdays < 5, ratio, 1.0)


def _duration(rng: np.random.Generator, minutes: tuple[int, int]) -> int:
    lo, hi = (max(1, m // 10) for m in minutes)
    return int(rng.integers(lo, hi + 1))


def sample_events(cfg: EventConfig, n_cells: int, n_steps: int, rng: np.random.Generator,
                  adjacency: np.ndarray | None = None, base_demand: np.ndarray | None = None,
                  times_ms: np.ndarray | None = None) -> EventSchedule:
    """Draw the rare events of a window and their demand/capacity modifiers.

    Parameters
    ----------
    cfg : rates and sizes.
    n_cells, n_steps : window size C × T (10-minute steps).
    rng : generator the events are drawn from (same state, same events).
    adjacency : (C, C) bool neighbour matrix without self-loops; None means no neighbours (no spill).
    base_demand : (C, T) total demand the spill moves (any unit); None takes equal loads.
    times_ms : (T,) step start times (UTC ms) for the holiday calendar; None starts on a Monday at midnight.

    Returns
    -------
    EventSchedule with (C, T) ``demand_mult`` and ``capacity_mult``.
    """
    if n_cells < 1 or n_steps < 1:
        raise ConfigError(f"an event window needs ≥ 1 cell and ≥ 1 step, got {n_cells} × {n_steps}")
    adj = np.zeros((n_cells, n_cells), bool) if adjacency is None else np.asarray(adjacency, bool).copy()
    if adj.shape != (n_cells, n_cells):
        raise ConfigError(f"adjacency must be ({n_cells}, {n_cells}), got {adj.shape}")
    np.fill_diagonal(adj, False)
    days = n_steps / 144.0
    demand = np.ones((n_cells, n_steps))
    capacity = np.ones((n_cells, n_steps))
    events: list[Event] = []

    # holidays first: they change the level every other event is relative to
    if cfg.holiday_rate > 0:
        if times_ms is None:
            times_ms = np.arange(n_steps, dtype=np.int64) * STEP_10MIN_MS + 4 * 86_400_000 - 3_600_000
        hours, weekdays, day = local_calendar(np.asarray(times_ms, dtype=np.int64))
        for d in np.unique(day):
            steps = np.flatnonzero(day == d)
            if weekdays[steps[0]] < 5 and rng.random() < cfg.holiday_rate:
                demand[:, steps] *= holiday_ratio(hours[steps], weekdays[steps])[None, :]
                events.append(Event("holiday", -1, int(steps[0]), int(steps[-1]) + 1, 1.0))

    for c in range(n_cells):
        for _ in range(int(rng.poisson(cfg.flash_rate * days))):
            s0 = int(rng.integers(0, n_steps))
            s1 = min(n_steps, s0 + _duration(rng, cfg.flash_minutes))
            mult = float(rng.uniform(*cfg.flash_mult))
            demand[c, s0:s1] *= mult
            events.append(Event("flash", c, s0, s1, mult))
    out = np.zeros((n_cells, n_steps), bool)
    for c in range(n_cells):
        for _ in range(int(rng.poisson(cfg.outage_rate * days))):
            s0 = int(rng.integers(0, n_steps))
            s1 = min(n_steps, s0 + _duration(rng, cfg.outage_minutes))
            out[c, s0:s1] = True
            events.append(Event("outage", c, s0, s1, 0.0))
    capacity[out] = 0.0

    if out.any() and cfg.outage_spill > 0:
        load = np.ones((n_cells, n_steps)) if base_demand is None else np.nan_to_num(
            np.asarray(base_demand, float)).reshape(n_cells, n_steps)
        load = load * demand  # after holidays and flash crowds
        extra = np.zeros((n_cells, n_steps))
        keep = np.ones((n_cells, n_steps))
        for t in np.flatnonzero(out.any(axis=0)):
            for i in np.flatnonzero(out[:, t]):
                recv = np.flatnonzero(adj[i] & ~out[:, t])
                if recv.size == 0:
                    continue
                extra[recv, t] += cfg.outage_spill * load[i, t] / recv.size
                keep[i, t] = 1.0 - cfg.outage_spill
        with np.errstate(divide="ignore", invalid="ignore"):
            grow = np.where(load > 0, 1.0 + extra / np.where(load > 0, load, 1.0), 1.0)
        demand *= grow * keep
    return EventSchedule(demand, capacity, tuple(events))
