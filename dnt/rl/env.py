"""``SliceEnv``: joint twin-mapping selection and per-slice PRB allocation for a cluster of cells.

Description
-----------
A cluster of ``C`` cells (Milan squares, neighbours on the grid), each with three slices (eMBB, voice,
messaging; :data:`dnt.ran.slices.SLICES`). Every 10-minute step the controller (the RRM xApp's policy)
decides, per cell, how the cell's PRBs are split between the slices and how the cell's digital twin is
kept in sync: horizontal (H-twin, local model updates) or vertical (V-twin, raw KPIs to the central
twin), and how much of the cell's capacity the sync may use. This is the decision of Yu et al.,
"Optimizing Wireless Resource Management and Synchronization in Digital Twin Networks" (GRU + VDN),
here as one graph-structured policy (a GNN over the cluster). Built on Gymnasium 1.x.

Demand
------
``slice_demand(traffic)`` (Milan activity per slice) × ``radio.mbps_per_unit`` gives Mbit/s. Raw
Milan demand sits far below a 40 MHz NR cell (≈ 98 Mbit/s; busy-hour peaks ≈ 30–50 %), so no split
would matter. **Calibration:** each cell's demand is scaled so that its ``busy_quantile`` (0.95) of
total demand over the *train* days equals ``busy_load`` (1.25) × its capacity: the busiest 5 % of
steps overload the cell by ≥ 25 %. On the default cluster (9 synthetic cells, 7 days from 2013-11-01,
2 test days) 18 % of train steps overload a cell (12–24 % per cell), by 19 % on average when they do;
the weekday test days are busier (38 %, q95 load 1.44); rare events add outages and flash crowds
(22 % of episode steps over capacity). :meth:`SliceEnv.calibration` reports these numbers.
``calibration="global"`` uses one factor for the cluster (the median of the per-cell factors) and keeps
the cells' relative loads (7–44 % overloaded steps per cell). Rare events (:mod:`dnt.rl.events`) multiply
demand and capacity per episode.

Forecast
--------
The next-step demand forecast is a twin's ``forecast`` array (C, T, H, 3) in activity units, where
``forecast[c, t, 0]`` predicts step ``t`` from data up to ``t − 1`` (NaN entries fall back), or else
seasonal-naive (same step yesterday; persistence on the first day). It is multiplied by the event
modifier of step ``t − 1`` (ongoing events are known) and by the twin's staleness noise
``exp(σ_c·ε − σ_c²/2)``, ε ~ N(0, 1) per cell and slice.

Twin synchronisation model
--------------------------
Each cell's twin has an error ``σ_c`` (log-sd of the forecast noise), starting at ``twin_noise_min``.
Each step it drifts, ``σ ← min(σ_max, σ + twin_drift)``, and the chosen sync pulls it back,
``σ ← σ_min + (σ − σ_min)·(1 − eff_m·q)`` with ``q = sync_share / max_sync_share``. The sync uses
``sync_share·cost_m`` of the cell's PRBs. Vertical: ``cost = v_cost_factor`` (1.0), ``eff =
v_efficiency`` (1.0, full data); horizontal: ``cost = h_cost_factor`` (0.4, model updates are small),
``eff = h_efficiency`` (0.6): cheaper, but the error keeps growing when syncs are skipped or small.

Action Space
------------
``Box(-10, 10, (N, 5), float32)`` per cell: 3 slice logits → softmax → shares of the cell's *user* PRBs
(feasible by construction); 1 mapping logit (> 0: horizontal/H-twin, else vertical); 1 sync logit →
``sigmoid × max_sync_share``. Rows of padding cells (``pad_to``) are ignored.
:func:`shares_to_action` builds an action from shares.

PRB allocation
--------------
User PRBs of cell ``c`` = ``n_prb·capacity_mult·(1 − sync_share·cost_m)``. ``prb_mode="dedicated"``
(default, hard slicing): the shares are ``dedicated_ratio = max_ratio`` of
:func:`dnt.ran.capacity.allocate_prbs` — a slice gets at most its share, idle PRBs are not lent, so a
wrong split wastes capacity. ``prb_mode="min"``: the shares are ``min_ratio`` (prioritised, idle PRBs
shared): only the split under overload matters. The PRBs lost to sync/outage are a reserved fourth
column. ``served = min(demand, prb·mbps_per_prb)``.

Observation Space
-----------------
``Dict(nodes=Box(-1, 10, (N, F)), adj=Box(0, 1, (N, N)), mask=Box(0, 1, (N,)))`` float32, ``N = pad_to``
or ``C``. ``nodes`` columns are :data:`NODE_FEATURES` (demand and forecasts as fractions of the cell's
nominal capacity, clipped to 10); ``adj`` is ``D^-1/2 (A + I) D^-1/2`` of the grid neighbours
(``neighbour_radius``, 8-neighbourhood) inside the cluster; ``mask`` is 1 for real cells.

Reward
------
``r = U − sla_penalty·V/C − sync_cost_weight·mean_c(sync_share·cost_m) − churn_weight·mean_c Σ_s|Δshare|
− intervention_penalty·I/C`` where

* ``U = mean_c Σ_s w_s·min(1, served/demand)`` (weighted satisfaction, ``w = slice_weights`` normalised
  to 1; a slice without demand is satisfied), in [0, 1];
* ``V`` = number of (cell, slice) SLA violations: ``served_s < sla_floor_s · min(demand_s,
  g_s·capacity_mbps)`` — each slice must get the fraction ``sla_floor_s`` of its demand up to its
  guaranteed share ``g_s = guaranteed_ratio_s`` of the cell's nominal capacity (cells in outage are
  exempt);
* ``I`` = cells where the shield changed the shares (``shield=True``) or, with the worst-case shield,
  lowered the sync share.

Shield
------
``shield=True`` passes the shares through :class:`~dnt.rl.shield.SafetyShield` before they are applied.
``shield_floor="auto"`` (default) picks the worst-case ``guaranteed`` floors with ``prb_mode="min"``:
each slice's share of the user PRBs is raised to ``g_s / user_c`` and the sync reservation is bounded so
``user_c ≥ Σ g`` (a no-op for in-service cells under the config check ``Σ g + max_sync_share·cost ≤ 1``).
Then a violation is impossible in a live cell: the slice's min ratio is ``≥ g_s`` of the cell's PRBs,
so :func:`~dnt.ran.capacity.allocate_prbs` gives it ``min(need_s, g_s·n_prb)`` PRBs before any water
filling (the min ratios and the sync's reserved column add up to ≤ 100 %), hence ``served_s ≥
min(demand_s, g_s·capacity) ≥ sla_floor_s·min(demand_s, g_s·capacity)`` — whatever the demand (flash
crowds, outage spill) and the policy's proposal. (Events only switch a cell's capacity between 0 and 1;
a cell out of service is exempt.) With ``prb_mode="dedicated"`` the default is the ``forecast`` floor,
``min(forecast·(1 + margin), g)``: an unforecast demand spike can still violate.

Episode
-------
``episode_steps`` (144 = a day) from a random step in the train days (the first ``days − test_days``
days) or, with ``reset(options={"split": "test"})``, in the held-out test days; ``options={"start": t}``
fixes the start step. The episode ends with ``truncated=True`` (a time limit, not a terminal state).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from dnt.data.frame import Traffic, local_calendar
from dnt.data.grid import neighbours
from dnt.data.synth import SynthConfig, generate
from dnt.errors import ConfigError
from dnt.ran.capacity import CellRadioConfig, allocate_prbs
from dnt.ran.slices import SLICES, slice_demand
from dnt.rl.events import EventConfig, EventSchedule, sample_events
from dnt.rl.shield import SafetyShield

__all__ = ["NODE_FEATURES", "EnvConfig", "SliceEnv", "shares_to_action", "normalized_adjacency"]

_S = len(SLICES)
_NAMES = tuple(s.name for s in SLICES)
NODE_FEATURES: tuple[str, ...] = (
    *(f"demand_{n}" for n in _NAMES),       # demand of step t-1 (last measured) / nominal capacity
    *(f"forecast_{n}" for n in _NAMES),     # twin forecast of step t (noisy) / nominal capacity
    *(f"share_{n}" for n in _NAMES),        # shares applied at t-1 (after the shield)
    *(f"served_frac_{n}" for n in _NAMES),  # served / demand at t-1 (1 without demand)
    "sync_share",                           # sync share at t-1 / max_sync_share
    "h_mode",                               # 1 if the twin used horizontal (H) mapping at t-1
    "twin_error",                           # twin error σ_c / twin_noise_max
    "tod_sin", "tod_cos",                   # local time of day of step t
    "weekend",                              # 1 on Saturday/Sunday
    "outage",                               # 1 if the cell is out of service at step t
)
"""Names of the per-cell node feature columns of ``obs["nodes"]``, in order."""
_F = {name: i for i, name in enumerate(NODE_FEATURES)}
OBS_LOW, OBS_HIGH = -1.0, 10.0
ACTION_BOUND = 10.0


@dataclass(frozen=True)
class EnvConfig:
    """Settings of :class:`SliceEnv` (shares and ratios are fractions 0..1)."""

    n_cells: int = 9
    """Cluster size when the env generates its own synthetic traffic (the block around the Duomo)."""
    days: int = 7
    """Days of synthetic traffic generated when no ``traffic`` is given."""
    test_days: int = 2
    """The last ``test_days`` days of the traffic are held out (``split="test"``)."""
    data_seed: int = 0
    """Seed of the generated synthetic traffic."""
    episode_steps: int = 144
    """Steps per episode (10 minutes each; 144 = one day)."""
    radio: CellRadioConfig = field(default_factory=CellRadioConfig)
    """Cell radio settings: PRBs, Mbit/s per PRB, Mbit/s per activity unit."""
    busy_load: float = 1.25
    """Demand / capacity at each cell's ``busy_quantile`` of train-day demand (calibration target)."""
    busy_quantile: float = 0.95
    """Quantile of the train-day total demand that is calibrated to ``busy_load``."""
    calibration: str = "cell"
    """``cell`` (one scale per cell) or ``global`` (one scale for the cluster)."""
    prb_mode: str = "dedicated"
    """``dedicated`` (shares are dedicated = max ratios) or ``min`` (shares are prioritised min ratios)."""
    slice_weights: tuple[float, ...] = (0.5, 0.3, 0.2)
    """Utility weight per slice (normalised to sum 1)."""
    guaranteed_ratio: tuple[float, ...] = (0.3, 0.15, 0.05)
    """Guaranteed fraction of a cell's nominal PRBs per slice (the SLA's reach and the shield's floor)."""
    sla_floor: tuple[float, ...] = (0.95, 0.99, 0.99)
    """Fraction of demand (up to the guarantee) each slice must be served."""
    sla_penalty: float = 0.1
    """Reward penalty per (cell, slice) SLA violation, divided by C."""
    max_sync_share: float = 0.1
    """Largest fraction of a cell's capacity the twin sync may use."""
    sync_cost_weight: float = 1.0
    """Reward penalty per unit of mean sync capacity share."""
    h_cost_factor: float = 0.4
    """PRBs used per unit sync share with horizontal (H-twin) mapping."""
    v_cost_factor: float = 1.0
    """PRBs used per unit sync share with vertical (V-twin) mapping."""
    h_efficiency: float = 0.6
    """Fraction of the twin error above the floor a full H sync removes."""
    v_efficiency: float = 1.0
    """Fraction of the twin error above the floor a full V sync removes."""
    twin_noise_min: float = 0.05
    """Floor of the twin's forecast log-noise sd (a perfectly synced twin)."""
    twin_noise_max: float = 0.6
    """Cap of the twin's forecast log-noise sd."""
    twin_drift: float = 0.05
    """Growth of the twin's log-noise sd per step without sync."""
    churn_weight: float = 0.05
    """Reward penalty per unit of mean L1 change of the shares."""
    shield: bool = False
    """Pass the shares through :class:`~dnt.rl.shield.SafetyShield` before they are applied."""
    shield_margin: float = 0.1
    """The shield's relative margin on the forecast need (``shield_floor="forecast"`` only)."""
    shield_floor: str = "auto"
    """The shield's floors: ``forecast`` (``min(forecast·(1 + margin), g)``), ``guaranteed`` (the worst
    case: ``g`` whatever the forecast, and the sync reservation bounded so the user PRBs cover ``Σ g``) or
    ``auto`` = ``guaranteed`` with ``prb_mode="min"`` (where it holds every SLA floor at no cost) and
    ``forecast`` with ``prb_mode="dedicated"`` (where idle floor PRBs would be wasted)."""
    intervention_penalty: float = 0.0
    """Reward penalty per shielded cell, divided by C (PPO may use a Lagrange multiplier instead)."""
    events: EventConfig = field(default_factory=EventConfig)
    """Rare-event rates (use ``EventConfig(flash_rate=0, outage_rate=0)`` to switch them off)."""
    neighbour_radius: int = 1
    """Grid neighbourhood (Chebyshev radius, squares) of the adjacency."""
    pad_to: int | None = None
    """Pad the graph to this many nodes (≥ C; mask marks real cells); None = exactly C."""

    def __post_init__(self) -> None:
        def need(ok: bool, msg: str) -> None:
            if not ok:
                raise ConfigError("EnvConfig." + msg)

        for name in ("n_cells", "days", "episode_steps", "neighbour_radius"):
            v = getattr(self, name)
            need(isinstance(v, int) and not isinstance(v, bool) and v >= 1, f"{name} must be an integer ≥ 1, got {v!r}")
        need(isinstance(self.test_days, int) and 0 <= self.test_days < self.days,
             f"test_days must be an integer in 0..days-1 ({self.days - 1}), got {self.test_days!r}")
        need(isinstance(self.data_seed, int) and self.data_seed >= 0, f"data_seed must be ≥ 0, got {self.data_seed!r}")
        need(np.isfinite(self.busy_load) and self.busy_load > 0, f"busy_load must be > 0, got {self.busy_load!r}")
        need(0 < self.busy_quantile <= 1, f"busy_quantile must be in (0, 1], got {self.busy_quantile!r}")
        need(self.calibration in ("cell", "global"),
             f"calibration must be 'cell' or 'global', got {self.calibration!r}")
        need(self.prb_mode in ("dedicated", "min"), f"prb_mode must be 'dedicated' or 'min', got {self.prb_mode!r}")
        for name in ("slice_weights", "guaranteed_ratio", "sla_floor"):
            v = np.asarray(getattr(self, name), dtype=float)
            need(v.shape == (_S,) and bool(np.all(np.isfinite(v))) and v.min() >= 0,
                 f"{name} needs {_S} finite values ≥ 0, got {getattr(self, name)}")
        need(sum(self.slice_weights) > 0, "slice_weights must not all be 0")
        need(max(self.sla_floor) <= 1, f"sla_floor values must be ≤ 1, got {self.sla_floor}")
        need(0 <= self.max_sync_share < 1, f"max_sync_share must be in [0, 1), got {self.max_sync_share!r}")
        need(sum(self.guaranteed_ratio) + self.max_sync_share * max(self.h_cost_factor, self.v_cost_factor) <= 1,
             f"guaranteed_ratio {self.guaranteed_ratio} plus the largest sync share "
             f"({self.max_sync_share} × cost factor) must fit in the cell (≤ 1)")
        for name in ("h_cost_factor", "v_cost_factor"):
            need(0 <= getattr(self, name) <= 1, f"{name} must be in [0, 1], got {getattr(self, name)!r}")
        for name in ("h_efficiency", "v_efficiency"):
            need(0 <= getattr(self, name) <= 1, f"{name} must be in [0, 1], got {getattr(self, name)!r}")
        need(0 <= self.twin_noise_min <= self.twin_noise_max <= 3,
             f"need 0 ≤ twin_noise_min ≤ twin_noise_max ≤ 3, got {self.twin_noise_min}, {self.twin_noise_max}")
        for name in ("sla_penalty", "sync_cost_weight", "churn_weight", "intervention_penalty", "twin_drift",
                     "shield_margin"):
            v = getattr(self, name)
            need(np.isfinite(v) and v >= 0, f"{name} must be finite and ≥ 0, got {v!r}")
        need(self.shield_floor in ("auto", "forecast", "guaranteed"),
             f"shield_floor must be 'auto', 'forecast' or 'guaranteed', got {self.shield_floor!r}")
        need(self.pad_to is None or (isinstance(self.pad_to, int) and self.pad_to >= 1),
             f"pad_to must be None or an integer ≥ 1, got {self.pad_to!r}")

    @property
    def shield_floor_mode(self) -> str:
        """``shield_floor`` with ``auto`` resolved: ``guaranteed`` for ``prb_mode="min"``, else ``forecast``."""
        if self.shield_floor != "auto":
            return self.shield_floor
        return "guaranteed" if self.prb_mode == "min" else "forecast"

    @property
    def weights(self) -> np.ndarray:
        """(3,) slice utility weights normalised to sum 1."""
        w = np.asarray(self.slice_weights, dtype=np.float64)
        return w / w.sum()


def normalized_adjacency(adjacency: np.ndarray) -> np.ndarray:
    """``D^-1/2 (A + I) D^-1/2`` of a symmetric (C, C) 0/1 adjacency (GCN normalisation, Kipf & Welling 2017)."""
    a = (np.asarray(adjacency, dtype=np.float64) > 0).astype(np.float64)
    a = np.maximum(a, a.T)
    np.fill_diagonal(a, 1.0)
    d = 1.0 / np.sqrt(a.sum(axis=1))
    return a * d[:, None] * d[None, :]


def shares_to_action(shares: np.ndarray, horizontal: bool | np.ndarray = True,
                     sync_fraction: float | np.ndarray = 0.5) -> np.ndarray:
    """(C, 5) action whose softmax gives ``shares`` (C, 3) (zeros get ≈ e^-10 of the largest).

    ``sync_fraction`` in [0, 1] is the fraction of ``max_sync_share`` requested (logit of the sigmoid).
    """
    s = np.nan_to_num(np.asarray(shares, dtype=np.float64), nan=0.0)
    logits = np.log(np.maximum(s, 1e-12))
    logits = np.clip(logits - logits.max(axis=1, keepdims=True), -ACTION_BOUND, ACTION_BOUND)
    c = s.shape[0]
    mode = np.where(np.broadcast_to(np.asarray(horizontal, bool), (c,)), 1.0, -1.0)
    q = np.clip(np.broadcast_to(np.asarray(sync_fraction, dtype=np.float64), (c,)), 1e-4, 1 - 1e-4)
    sync = np.clip(np.log(q / (1 - q)), -ACTION_BOUND, ACTION_BOUND)
    return np.concatenate([logits, mode[:, None], sync[:, None]], axis=1).astype(np.float32)


class SliceEnv(gym.Env[dict[str, np.ndarray], np.ndarray]):
    """Per-cell, per-slice PRB shares + twin sync mode/bandwidth for a cell cluster (see the module docstring).

    Parameters
    ----------
    cfg : environment settings.
    traffic : Milan traffic of the cluster (real or synthetic, 10-minute steps, all 5 channels); None
        generates ``cfg.days`` days of synthetic traffic for ``cfg.n_cells`` cells.
    forecast : optional (C, T, H, 3) twin forecast in activity units (see *Forecast*).
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, cfg: EnvConfig | None = None, traffic: Traffic | None = None,
                 forecast: np.ndarray | None = None) -> None:
        self.cfg = cfg = cfg or EnvConfig()
        if traffic is None:
            traffic = generate(SynthConfig(n_cells=cfg.n_cells, days=cfg.days, seed=cfg.data_seed))
        if traffic.step_ms != 600_000:
            raise ConfigError(f"SliceEnv needs 10-minute traffic, got step {traffic.step_ms} ms; resample first")
        self.traffic = traffic
        self.n_cells = c = traffic.n_cells
        n_nodes = cfg.pad_to or c
        if n_nodes < c:
            raise ConfigError(f"EnvConfig.pad_to ({cfg.pad_to}) is smaller than the cluster ({c} cells)")
        self.n_nodes = n_nodes
        spd = traffic.steps_per_day
        self._t_total = traffic.n_steps
        self._train_end = self._t_total - cfg.test_days * spd
        if self._train_end - 1 < cfg.episode_steps or cfg.test_days and cfg.test_days * spd < cfg.episode_steps:
            raise ConfigError(f"{self._t_total} steps with {cfg.test_days} test days cannot hold train and test "
                              f"episodes of {cfg.episode_steps} steps; give more days or shorter episodes")
        r = cfg.radio
        self.capacity_mbps = r.capacity_mbps
        raw = np.nan_to_num(slice_demand(traffic).astype(np.float64)) * np.asarray(r.mbps_per_unit)
        total = raw[:, : self._train_end].sum(axis=2)
        q = np.quantile(total, cfg.busy_quantile, axis=1)
        scale = np.where(q > 0, cfg.busy_load * self.capacity_mbps / np.where(q > 0, q, 1.0), 1.0)
        if cfg.calibration == "global":
            scale = np.full(c, float(np.median(scale[q > 0])) if (q > 0).any() else 1.0)
        self.demand_scale = scale  # (C,) Mbit/s per raw Mbit/s
        self._demand = raw * scale[:, None, None]  # (C, T, 3) calibrated Mbit/s
        self._base_fc = self._forecast_mbps(forecast, scale)
        hours, weekday, _ = local_calendar(traffic.times_ms)
        ang = 2 * np.pi * hours / 24.0
        self._tod = np.stack([np.sin(ang), np.cos(ang)], axis=1)
        self._weekend = (weekday >= 5).astype(np.float64)
        ids = traffic.cell_ids.astype(np.int64)
        pos = {int(cid): i for i, cid in enumerate(ids)}
        adj = np.zeros((c, c), dtype=bool)
        for i, cid in enumerate(ids):
            for nb in neighbours(int(cid), radius=cfg.neighbour_radius):
                j = pos.get(int(nb))
                if j is not None:
                    adj[i, j] = adj[j, i] = True
        self.adjacency = adj
        self._adj_obs = np.zeros((n_nodes, n_nodes), dtype=np.float32)
        self._adj_obs[:c, :c] = normalized_adjacency(adj)
        self._mask = np.zeros(n_nodes, dtype=np.float32)
        self._mask[:c] = 1.0
        self.shield = SafetyShield(cfg.guaranteed_ratio, cfg.shield_margin, floor=cfg.shield_floor_mode)
        self._w = cfg.weights
        self._g = np.asarray(cfg.guaranteed_ratio, dtype=np.float64)
        self._floor = np.asarray(cfg.sla_floor, dtype=np.float64)
        self.observation_space = gym.spaces.Dict({
            "nodes": gym.spaces.Box(OBS_LOW, OBS_HIGH, (n_nodes, len(NODE_FEATURES)), np.float32),
            "adj": gym.spaces.Box(0.0, 1.0, (n_nodes, n_nodes), np.float32),
            "mask": gym.spaces.Box(0.0, 1.0, (n_nodes,), np.float32),
        })
        self.action_space = gym.spaces.Box(-ACTION_BOUND, ACTION_BOUND, (n_nodes, 5), np.float32)
        self._t0 = 0
        self._k = 0
        self._events: EventSchedule | None = None

    # -- data ------------------------------------------------------------------------------------
    def _forecast_mbps(self, forecast: np.ndarray | None, scale: np.ndarray) -> np.ndarray:
        """(C, T, 3) next-step forecast in calibrated Mbit/s (seasonal-naive where none is given)."""
        spd = self.traffic.steps_per_day
        d = self._demand
        naive = d.copy()
        naive[:, 1:] = d[:, :-1]  # persistence on the first day
        if d.shape[1] > spd:
            naive[:, spd:] = d[:, :-spd]  # same step yesterday
        if forecast is None:
            return naive
        f = np.asarray(forecast, dtype=np.float64)
        if f.ndim != 4 or f.shape[:2] != d.shape[:2] or f.shape[2] < 1 or f.shape[3] != _S:
            raise ConfigError(f"forecast must be (C={d.shape[0]}, T={d.shape[1]}, H≥1, {_S}), got {f.shape}")
        mbps = f[:, :, 0, :] * np.asarray(self.cfg.radio.mbps_per_unit) * scale[:, None, None]
        return np.where(np.isfinite(mbps), np.maximum(mbps, 0.0), naive)

    def calibration(self, split: str = "train") -> dict[str, Any]:
        """How often the calibrated cells overload (no events): ``demand > capacity`` rates and quantiles."""
        lo, hi = (1, self._train_end) if split == "train" else (self._train_end, self._t_total)
        load = self._demand[:, lo:hi].sum(axis=2) / self.capacity_mbps
        return {
            "demand_scale": self.demand_scale.tolist(),
            "overload_step_fraction": float((load > 1).mean()),
            "overload_step_fraction_per_cell": (load > 1).mean(axis=1).tolist(),
            "load_mean": float(load.mean()),
            "load_q95": float(np.quantile(load, 0.95)),
            "load_max": float(load.max()),
            "busy_hour_overload_mean": float(np.mean(np.maximum(load[load > 1] - 1, 0))) if (load > 1).any() else 0.0,
        }

    # -- gym API ---------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Start an episode; ``options``: ``split`` (``train``/``test``) and ``start`` (step index)."""
        super().reset(seed=seed)
        options = options or {}
        split = options.get("split", "train")
        e = self.cfg.episode_steps
        if split == "train":
            lo, hi = 1, self._train_end - e
        elif split == "test":
            if self.cfg.test_days == 0:
                raise ConfigError("split='test' needs EnvConfig.test_days ≥ 1")
            lo, hi = self._train_end, self._t_total - e
        else:
            raise ConfigError(f"reset option split must be 'train' or 'test', got {split!r}")
        if "start" in options:
            t0 = int(options["start"])
            if not 1 <= t0 <= self._t_total - e:
                raise ConfigError(f"start must be in 1..{self._t_total - e}, got {t0}")
        else:
            t0 = int(self.np_random.integers(lo, hi + 1))
        self._t0, self._k = t0, 0
        window = slice(t0 - 1, t0 + e)
        self._events = sample_events(self.cfg.events, self.n_cells, e + 1, self.np_random, self.adjacency,
                                     self._demand[:, window].sum(axis=2), self.traffic.times_ms[window])
        self._dem = self._demand[:, window] * self._events.demand_mult[:, :, None]  # (C, e+1, 3); 0 = t0-1
        self._cap = self._events.capacity_mult  # (C, e+1)
        self._fc = self._base_fc[:, t0: t0 + e] * self._events.demand_mult[:, :-1, None]  # (C, e, 3)
        c = self.n_cells
        self._shares = np.full((c, _S), 1.0 / _S)
        self._served_frac = np.ones((c, _S))
        self._sync = np.zeros(c)
        self._hmode = np.zeros(c)
        self._sigma = np.full(c, self.cfg.twin_noise_min)
        return self._observe(), {"t": t0, "split": split, "events": len(self._events.events)}

    def _observe(self) -> dict[str, np.ndarray]:
        k, c, cfg = self._k, self.n_cells, self.cfg
        t = self._t0 + k
        sig = self._sigma[:, None]
        noise = np.exp(sig * self.np_random.standard_normal((c, _S)) - sig**2 / 2)
        self._obs_fc = self._fc[:, k] * noise  # (C, 3) Mbit/s, what the controller believes
        x = np.zeros((c, len(NODE_FEATURES)))
        x[:, 0:3] = self._dem[:, k] / self.capacity_mbps
        x[:, 3:6] = self._obs_fc / self.capacity_mbps
        x[:, 6:9] = self._shares
        x[:, 9:12] = self._served_frac
        x[:, _F["sync_share"]] = self._sync / cfg.max_sync_share if cfg.max_sync_share > 0 else 0.0
        x[:, _F["h_mode"]] = self._hmode
        x[:, _F["twin_error"]] = self._sigma / cfg.twin_noise_max if cfg.twin_noise_max > 0 else 0.0
        x[:, _F["tod_sin"]], x[:, _F["tod_cos"]] = self._tod[t]
        x[:, _F["weekend"]] = self._weekend[t]
        x[:, _F["outage"]] = (self._cap[:, k + 1] <= 0).astype(np.float64)
        nodes = np.zeros((self.n_nodes, len(NODE_FEATURES)), dtype=np.float32)
        nodes[:c] = np.clip(x, OBS_LOW, OBS_HIGH)
        return {"nodes": nodes, "adj": self._adj_obs.copy(), "mask": self._mask.copy()}

    def decode_action(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(shares (C, 3), horizontal (C,) bool, sync_share (C,)) of an action (padding rows dropped)."""
        a = np.asarray(action, dtype=np.float64)
        if a.shape != (self.n_nodes, 5):
            raise ConfigError(f"action must be ({self.n_nodes}, 5), got {a.shape}")
        a = np.clip(np.nan_to_num(a[: self.n_cells]), -ACTION_BOUND, ACTION_BOUND)
        z = np.exp(a[:, :_S] - a[:, :_S].max(axis=1, keepdims=True))
        shares = z / z.sum(axis=1, keepdims=True)
        sync = self.cfg.max_sync_share / (1.0 + np.exp(-a[:, 4]))
        return shares, a[:, 3] > 0, sync

    def step(self, action: np.ndarray) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        """Apply one step's shares and sync settings; see the module docstring for the reward."""
        if self._events is None:
            raise ConfigError("call reset() before step()")
        cfg, k = self.cfg, self._k
        shares, horiz, sync = self.decode_action(action)
        cost_factor = np.where(horiz, cfg.h_cost_factor, cfg.v_cost_factor)
        cap = self._cap[:, k + 1]
        intervened = np.zeros(self.n_cells, dtype=bool)
        if cfg.shield and self.shield.floor == "guaranteed":  # the sync must leave the guarantees their PRBs
            limit = self.shield.max_sync_cost(cap)  # fraction of the cell's PRBs, as the shield's filter() checks
            intervened = sync * cost_factor > limit + self.shield.tol
            sync = np.where(intervened, limit / np.maximum(cost_factor, 1e-300), sync)
        sync_cost = sync * cost_factor  # fraction of the cell's PRBs used by the twin sync
        user = cap * (1.0 - sync_cost)  # fraction of nominal PRBs left for the users
        if cfg.shield:
            shares, hit = self.shield.project(shares, self._obs_fc / self.capacity_mbps, user)
            intervened = intervened | hit
        demand = self._dem[:, k + 1]
        r = cfg.radio
        n_prb = float(r.n_prb)
        ratio = shares * user[:, None] * 100.0
        reserved = (1.0 - user)[:, None] * 100.0
        need = np.concatenate([demand / r.mbps_per_prb, reserved / 100.0 * n_prb], axis=1)
        zeros = np.zeros_like(ratio)
        if cfg.prb_mode == "dedicated":
            mins, maxs, ded = zeros, ratio, ratio
        else:
            mins, maxs, ded = ratio, np.repeat(user[:, None] * 100.0, _S, axis=1), zeros
        prb = allocate_prbs(need, n_prb, np.concatenate([mins, reserved], 1), np.concatenate([maxs, reserved], 1),
                            np.concatenate([ded, reserved], 1))[:, :_S]
        served = np.minimum(demand, prb * r.mbps_per_prb)
        frac = np.where(demand > 0, served / np.where(demand > 0, demand, 1.0), 1.0)
        utility = float((frac @ self._w).mean())
        floor = self._floor * np.minimum(demand, self._g * self.capacity_mbps)
        violated = (served < floor - 1e-9) & (cap > 0)[:, None]
        churn = np.abs(shares - self._shares).sum(axis=1)
        c = self.n_cells
        n_viol, n_int = int(violated.sum()), int(intervened.sum())
        reward = (utility - cfg.sla_penalty * n_viol / c - cfg.sync_cost_weight * float(sync_cost.mean())
                  - cfg.churn_weight * float(churn.mean()) - cfg.intervention_penalty * n_int / c)
        # twin error: drift, then pull back by the chosen sync
        q = sync / cfg.max_sync_share if cfg.max_sync_share > 0 else np.zeros(c)
        eff = np.where(horiz, cfg.h_efficiency, cfg.v_efficiency)
        sigma = np.minimum(cfg.twin_noise_max, self._sigma + cfg.twin_drift)
        self._sigma = cfg.twin_noise_min + (sigma - cfg.twin_noise_min) * (1.0 - eff * q)
        self._shares, self._served_frac, self._sync, self._hmode = shares, frac, sync, horiz.astype(np.float64)
        self._k = k + 1
        truncated = self._k >= cfg.episode_steps
        obs = self._observe() if not truncated else self._last_obs()
        info = {
            "t": self._t0 + k, "served": served, "unserved": demand - served, "demand": demand, "prb": prb,
            "shares": shares, "utility": utility, "sla_violations": n_viol, "violated": violated,
            "interventions": n_int, "intervened": intervened, "sync_cost": float(sync_cost.mean()),
            "churn": float(churn.mean()), "horizontal": horiz, "sync_share": sync, "twin_error": self._sigma.copy(),
            "outage_cells": int((cap <= 0).sum()),
        }
        return obs, float(reward), False, truncated, info

    def _last_obs(self) -> dict[str, np.ndarray]:
        """Observation after the last step (no next-step forecast exists: the last one is repeated)."""
        self._k -= 1
        obs = self._observe()
        self._k += 1
        x = obs["nodes"]
        x[: self.n_cells, 0:3] = np.clip(self._dem[:, self._k] / self.capacity_mbps, OBS_LOW, OBS_HIGH)
        return obs

    # -- privileged access (baselines) -----------------------------------------------------------
    def true_next_demand(self) -> np.ndarray:
        """(C, 3) true Mbit/s of the step the next action serves (for the Oracle baseline only)."""
        if self._events is None:
            raise ConfigError("call reset() before true_next_demand()")
        return self._dem[:, min(self._k + 1, self.cfg.episode_steps)].copy()

    def next_capacity(self) -> np.ndarray:
        """(C,) fraction of nominal PRBs in service at the step the next action serves (0 = outage)."""
        if self._events is None:
            raise ConfigError("call reset() before next_capacity()")
        return self._cap[:, min(self._k + 1, self.cfg.episode_steps)].copy()

    @property
    def events(self) -> EventSchedule | None:
        """The current episode's rare events (window step 0 is the step before the episode's first)."""
        return self._events
