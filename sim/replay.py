"""The pure traffic model of the simulator: replay clock, per-step slice activity, served traffic per cell.

No sockets and no timers here: callers pass the time. A :class:`ReplayClock` maps a (monotonic, seconds)
time to a data step: at ``speed`` × real time a step of ``step_ms`` lasts ``step_ms / 1000 / speed`` s.
A :class:`TrafficModel` holds the (cells, steps, 3) slice activity of :func:`dnt.ran.slice_demand`, one
:class:`dnt.ran.SlicePolicy` per cell (changed by E2SM-RC controls) and turns a step into a
:class:`dnt.ran.CellReport` with :class:`dnt.ran.CapacityModel` (offered = activity × Mbit/s per unit;
served = what the slice's PRB share carries). The report of a step is computed once for all cells and
cached until the step or a policy changes.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from dnt.data.frame import Traffic
from dnt.errors import ConfigError, DataError
from dnt.ran import SLICES, CapacityModel, CellRadioConfig, CellReport, SlicePolicy, slice_demand

__all__ = ["ReplayConfig", "ReplayClock", "TrafficModel", "load_replay_traffic"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplayConfig:
    """What traffic is replayed, and how fast."""

    data: str = "synthetic"
    """``"synthetic"`` (the embedded generator) or a path :func:`dnt.data.io.load_traffic` reads (raw daily
    file or folder, converted CSV, ``.npz`` cache)."""
    days: int = 1
    """Days of synthetic traffic to draw (synthetic data only)."""
    seed: int = 0
    """Seed of the synthetic generator."""
    speed: float = 600.0
    """Replay speed, × real time: 1 is real time, 600 replays a 10-minute step in 1 s."""
    start_step: int = 0
    """Data step the replay starts at."""
    loop: bool = True
    """Start again from step 0 after the last step (else the replay ends there)."""
    duration_sim_s: float | None = None
    """Stop after this much simulated time (seconds of data time); None runs until stopped."""
    radio: CellRadioConfig = field(default_factory=CellRadioConfig)
    """Carrier, spectral efficiency and Mbit/s per unit of Milan activity (:mod:`dnt.ran.capacity`)."""
    policy: SlicePolicy = field(default_factory=SlicePolicy)
    """Initial slice PRB policy of every cell (min / max / dedicated percent per slice)."""

    def __post_init__(self) -> None:
        if not isinstance(self.speed, int | float) or not math.isfinite(self.speed) or self.speed <= 0:
            raise ConfigError(f"replay.speed must be a positive number (× real time), got {self.speed!r}")
        if isinstance(self.days, bool) or not isinstance(self.days, int) or self.days < 1:
            raise ConfigError(f"replay.days must be an integer ≥ 1, got {self.days!r}")
        if self.start_step < 0:
            raise ConfigError(f"replay.start_step must be ≥ 0, got {self.start_step}")
        if self.duration_sim_s is not None and not self.duration_sim_s > 0:
            raise ConfigError(f"replay.duration_sim_s must be positive or null, got {self.duration_sim_s}")
        if not self.data:
            raise ConfigError("replay.data must be 'synthetic' or a path")


class ReplayClock:
    """Maps time (s, any monotonic origin) to a data step of the replayed traffic."""

    def __init__(self, step_ms: int, n_steps: int, speed: float, *, start_step: int = 0, loop: bool = True,
                 t0: float = 0.0) -> None:
        if n_steps < 1:
            raise DataError("the replayed traffic has no steps")
        if not 0 <= start_step < n_steps:
            raise ConfigError(f"replay.start_step {start_step} outside the data's 0..{n_steps - 1}")
        self.step_ms, self.n_steps, self.speed = step_ms, n_steps, float(speed)
        self.start_step, self.loop, self.t0 = start_step, loop, t0

    @property
    def step_wall_s(self) -> float:
        """Wall seconds one data step lasts."""
        return self.step_ms / 1000.0 / self.speed

    def sim_elapsed_s(self, now: float) -> float:
        """Simulated (data) seconds replayed since ``t0``."""
        return max(now - self.t0, 0.0) * self.speed

    def step_at(self, now: float) -> int | None:
        """The data step being replayed at ``now``; None once a non-looping replay has ended."""
        k = self.start_step + int(self.sim_elapsed_s(now) * 1000.0 // self.step_ms)
        if k < self.n_steps:
            return k
        return k % self.n_steps if self.loop else None


@dataclass
class _Cache:
    step: int = -1
    version: int = -1
    report: CellReport | None = None


class TrafficModel:
    """Slice activity of the simulated cells plus their PRB policies → per-step offered/served traffic.

    Parameters
    ----------
    traffic : data covering (some of) ``cell_ids``, all five Milan channels.
    cell_ids : the simulated squares; squares absent from ``traffic`` replay zero activity (with a warning).
    radio, policy : capacity model settings and the initial policy of every cell.
    """

    def __init__(self, traffic: Traffic, cell_ids: np.ndarray | list[int], radio: CellRadioConfig | None = None,
                 policy: SlicePolicy | None = None) -> None:
        ids = np.asarray(cell_ids, dtype=np.int64)
        self.cell_ids = ids
        self.row_of = {int(c): i for i, c in enumerate(ids)}
        demand = slice_demand(traffic)  # (C_data, T, 3)
        activity = np.zeros((ids.size, traffic.n_steps, len(SLICES)), dtype=np.float32)
        data_rows = {int(c): i for i, c in enumerate(traffic.cell_ids)}
        missing = [int(c) for c in ids if int(c) not in data_rows]
        if missing:
            warnings.warn(f"{len(missing)} simulated cells are absent from the data and replay zero traffic "
                          f"(first: {missing[:5]})", stacklevel=2)
        for i, c in enumerate(ids):
            j = data_rows.get(int(c))
            if j is not None:
                activity[i] = np.nan_to_num(demand[j])
        self.activity = activity
        self.start_ms, self.step_ms, self.n_steps = traffic.start_ms, traffic.step_ms, traffic.n_steps
        self.capacity = CapacityModel(radio)
        base = policy or SlicePolicy()
        self._min = np.tile(np.asarray(base.min_ratio, float), (ids.size, 1))
        self._max = np.tile(np.asarray(base.max_ratio, float), (ids.size, 1))
        self._ded = np.tile(np.asarray(base.dedicated_ratio, float), (ids.size, 1))
        self.policy_version = 0
        self._cache = _Cache()

    @property
    def n_prb(self) -> int:
        return self.capacity.radio.n_prb

    def row(self, square_id: int) -> int:
        try:
            return self.row_of[int(square_id)]
        except KeyError:
            raise DataError(f"cell {square_id} is not simulated") from None

    def policy(self, square_id: int) -> SlicePolicy:
        i = self.row(square_id)
        return SlicePolicy(tuple(self._min[i]), tuple(self._max[i]), tuple(self._ded[i]))

    def set_policy(self, square_id: int, slice_index: int, *, min_ratio: float | None = None,
                   max_ratio: float | None = None, dedicated_ratio: float | None = None) -> SlicePolicy:
        """Replace one slice's PRB ratios of one cell; :class:`ConfigError` (policy kept) if invalid."""
        if not 0 <= slice_index < len(SLICES):
            raise ConfigError(f"slice index {slice_index} outside 0..{len(SLICES) - 1}")
        new = self.policy(square_id).with_slice(slice_index, min_ratio=min_ratio, max_ratio=max_ratio,
                                                dedicated_ratio=dedicated_ratio)
        self.apply_policy(square_id, new)
        return new

    def apply_policy(self, square_id: int, policy: SlicePolicy) -> None:
        i = self.row(square_id)
        self._min[i], self._max[i], self._ded[i] = policy.arrays()
        self.policy_version += 1

    def report(self, step: int) -> CellReport:
        """Offered / served / PRBs of every simulated cell at data step ``step`` (rows = ``cell_ids``)."""
        c = self._cache
        if c.report is None or c.step != step or c.version != self.policy_version:
            rep = self.capacity.serve(self.activity[:, step, :], self._min, self._max, self._ded)
            self._cache = _Cache(step, self.policy_version, rep)
            return rep
        return c.report

    def step_start_ms(self, step: int) -> int:
        return self.start_ms + step * self.step_ms


def load_replay_traffic(cfg: ReplayConfig, cell_ids: np.ndarray,
                        progress: object | None = None) -> Traffic:
    """The traffic to replay: synthetic for exactly ``cell_ids``, or a file restricted to them."""
    if cfg.data == "synthetic":
        from dnt.data.synth import SynthConfig, generate

        return generate(SynthConfig(cell_ids=tuple(int(c) for c in cell_ids), days=cfg.days, seed=cfg.seed),
                        progress=progress)  # type: ignore[arg-type]
    from dnt.data.io import load_traffic

    traffic = load_traffic(cfg.data, progress=progress)  # type: ignore[arg-type]
    present = set(traffic.cell_ids.tolist())
    keep = [int(c) for c in cell_ids if int(c) in present]
    if not keep:
        raise DataError(f"none of the {len(cell_ids)} simulated cells is in the data "
                        f"({traffic.n_cells} cells, e.g. {traffic.cell_ids[:5].tolist()}); pick gNBs that own "
                        "them (topology.gnbs) or use 'synthetic'", path=cfg.data)
    return traffic.select_cells(keep)
