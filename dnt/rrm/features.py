"""The RRM policy's node features and cell graph, computed from live KPI records and twin forecasts.

The policy is trained in :class:`dnt.rl.env.SliceEnv`, which builds its observation inside the env;
:data:`FEATURES` is the env's ``NODE_FEATURES`` (same names, same order, a unit test keeps them equal) and
:func:`node_features` computes each column from what the rrm observes in the RAN:

=========================  ======================================================  =========================
feature                    live value                                              env (training)
=========================  ======================================================  =========================
``demand_<slice>``         ``DNT.OfferedLoadDl.<slice>`` / nominal capacity        demand of step t-1
``forecast_<slice>``       eMBB: the H-twin's forecast (SDL ``htwin`` /            twin forecast of step t
                           ``forecast:<cell>``, mean of its first values); voice,
                           messaging and cells without forecast: the current load
``share_<slice>``          shares the rrm decided last for the cell (1/3 first)    shares applied at t-1
``served_frac_<slice>``    ``DRB.UEThpDl`` / offered (1 without demand)            served / demand at t-1
``sync_share``             the policy's last sync share output (0 first)           sync share / max share
``h_mode``                 the policy's last sync mode (0 first)                   1 = horizontal mapping
``twin_error``             running estimate of the twin's log-error σ (from the    σ_c / twin_noise_max
                           last forecast vs the load then reported) / σ_max
``tod_sin``, ``tod_cos``   local (Milan) time of day of the step after the report  of step t
``weekend``                that step is a Saturday or Sunday                       same
``outage``                 the cell reports no PRBs (``RRU.PrbAvailDl`` = 0)       cell out of service at t
=========================  ======================================================  =========================

Loads are fractions of the cell's nominal capacity, ``RRU.PrbAvailDl`` x ``kbps_per_prb`` (the radio's
kbit/s per PRB, 928.8 for the default 40 MHz / 30 kHz carrier), clipped to the env's [-1, 10].
:func:`adjacency` is the env's graph: grid neighbours (8-neighbourhood) among the cells, normalised
``D^-1/2 (A + I) D^-1/2`` (Kipf & Welling 2017).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from dnt.data import grid
from dnt.data.frame import local_calendar
from dnt.ran.capacity import CellRadioConfig
from dnt.ran.slices import SLICE_NAMES
from dnt.ric.sdl import Store

__all__ = ["FEATURES", "KPM_MEASUREMENTS", "DEFAULT_KBPS_PER_PRB", "TWIN_NOISE_MIN", "TWIN_NOISE_MAX", "STEP_MS",
           "CellObservation", "CellMemory", "observation", "read_forecasts", "capacity_kbps", "predicted_kbps",
           "node_features", "update_memory", "grid_adjacency", "adjacency"]

FEATURES: tuple[str, ...] = (
    *(f"demand_{s}" for s in SLICE_NAMES),
    *(f"forecast_{s}" for s in SLICE_NAMES),
    *(f"share_{s}" for s in SLICE_NAMES),
    *(f"served_frac_{s}" for s in SLICE_NAMES),
    "sync_share", "h_mode", "twin_error", "tod_sin", "tod_cos", "weekend", "outage",
)
"""Names of the node feature columns, in order (= ``dnt.rl.env.NODE_FEATURES``)."""

_SUFFIX = {"embb": "1-000001", "voice": "2-000002", "messaging": "3-000003"}
KPM_MEASUREMENTS: tuple[str, ...] = (
    *(f"{m}.{_SUFFIX[s]}" for m in ("DNT.OfferedLoadDl", "DRB.UEThpDl", "RRU.PrbUsedDl") for s in SLICE_NAMES),
    "RRU.PrbAvailDl",
)
"""The KPM measurements an observation needs (per-slice subcounters and the carrier's PRBs)."""

DEFAULT_KBPS_PER_PRB = CellRadioConfig().mbps_per_prb * 1000.0
"""kbit/s one PRB carries with the default radio (40 MHz, 30 kHz SCS, 3 bit/s/Hz, 14 % overhead)."""
TWIN_NOISE_MIN, TWIN_NOISE_MAX = 0.05, 0.6
"""The env's bounds of the twin's log-noise sd (``EnvConfig.twin_noise_min`` / ``twin_noise_max``)."""
STEP_MS = 600_000
"""One decision step of the env (10 minutes of Milan data)."""
OBS_LOW, OBS_HIGH = -1.0, 10.0
_ERROR_GAIN = 0.2  # EWMA weight of the newest twin error sample
_ABS_TO_SD = math.sqrt(math.pi / 2)  # E|N(0, σ)| = σ·sqrt(2/π)


@dataclass(frozen=True)
class CellObservation:
    """What the rrm knows of one cell at decision time (loads kbit/s, PRBs; tuples in SLICES order)."""

    cell: int
    ran_name: str
    offered_kbps: tuple[float, ...]
    served_kbps: tuple[float, ...]
    prb_used: tuple[float, ...]
    prb_avail: float
    time_ms: int | None = None
    forecast_kbps: float | None = None
    """The H-twin's eMBB forecast of the next step, None without one."""


@dataclass(frozen=True)
class CellMemory:
    """What the rrm remembers of a cell between decisions (the env's state of step t-1)."""

    shares: tuple[float, ...] = (1 / 3, 1 / 3, 1 / 3)
    sync_share: float = 0.0
    h_mode: float = 0.0
    twin_sigma: float = TWIN_NOISE_MIN
    last_forecast_kbps: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"shares": list(self.shares), "sync_share": self.sync_share, "h_mode": self.h_mode,
                "twin_sigma": self.twin_sigma, "last_forecast_kbps": self.last_forecast_kbps}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> CellMemory:
        return cls(tuple(float(x) for x in d.get("shares", (1 / 3,) * 3)), float(d.get("sync_share", 0.0)),
                   float(d.get("h_mode", 0.0)), float(d.get("twin_sigma", TWIN_NOISE_MIN)),
                   None if d.get("last_forecast_kbps") is None else float(d["last_forecast_kbps"]))


def _num(value: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return 0.0
    return x if np.isfinite(x) and x > 0 else 0.0


def observation(record: Mapping[str, Any], forecast: Mapping[str, Any] | None = None,
                forecast_steps: int = 1) -> CellObservation:
    """The observation of the cell ``record`` reports; ``forecast`` (JSON of a Forecast) when there is one.

    Missing or malformed values count as 0; the forecast is the mean of its first ``forecast_steps`` values.
    """
    slices = record.get("slices") or {}

    def per_slice(name: str) -> tuple[float, ...]:
        return tuple(_num((slices.get(s) or {}).get(name)) for s in SLICE_NAMES)

    fc = None
    if forecast is not None:
        values = [_num(v) for v in list(forecast.get("values") or [])[:max(1, forecast_steps)]]
        fc = float(np.mean(values)) if values else None
    t = record.get("time_ms")
    return CellObservation(int(record["cell"]), str(record.get("ran_name", "")), per_slice("DNT.OfferedLoadDl"),
                           per_slice("DRB.UEThpDl"), per_slice("RRU.PrbUsedDl"),
                           _num((record.get("cell_kpis") or {}).get("RRU.PrbAvailDl")),
                           int(t) if isinstance(t, int | float) and not isinstance(t, bool) else None, fc)


def read_forecasts(store: Store, cells: Sequence[int], ns: str = "htwin") -> dict[int, dict[str, Any]]:
    """The H-twin's forecasts (``forecast:<cell>``) of ``cells`` that are in SDL and readable."""
    out: dict[int, dict[str, Any]] = {}
    wanted = {int(c) for c in cells}
    for key, blob in store.find(ns, "forecast:").items():
        try:
            cell = int(key.split(":", 1)[1])
            if cell in wanted:
                f = json.loads(blob)
                if isinstance(f, dict):
                    out[cell] = f
        except (ValueError, IndexError):
            continue
    return out


def capacity_kbps(obs: CellObservation, kbps_per_prb: float = DEFAULT_KBPS_PER_PRB) -> float:
    """Nominal capacity of the cell: its PRBs (the default carrier's when it reports none) x kbit/s per PRB."""
    prbs = obs.prb_avail if obs.prb_avail > 0 else CellRadioConfig().n_prb
    return prbs * kbps_per_prb


def predicted_kbps(obs: CellObservation) -> np.ndarray:
    """(3,) next-step load per slice: the twin's eMBB forecast where there is one, else the current load."""
    p = np.asarray(obs.offered_kbps, dtype=np.float64).copy()
    if obs.forecast_kbps is not None:
        p[0] = obs.forecast_kbps
    return p


def node_features(observations: Sequence[CellObservation], memory: Mapping[int, CellMemory] | None = None,
                  kbps_per_prb: float = DEFAULT_KBPS_PER_PRB, now_ms: int | None = None) -> np.ndarray:
    """(C, F) float32 node features of the cells, columns in :data:`FEATURES` order."""
    memory = memory or {}
    out = np.zeros((len(observations), len(FEATURES)), dtype=np.float64)
    wall = int(time.time() * 1000) if now_ms is None else now_ms
    times = np.asarray([(o.time_ms if o.time_ms is not None else wall) + STEP_MS for o in observations], np.int64)
    hours, weekday, _ = local_calendar(times)
    for i, o in enumerate(observations):
        m = memory.get(o.cell) or CellMemory()
        cap = capacity_kbps(o, kbps_per_prb)
        offered = np.asarray(o.offered_kbps, dtype=np.float64)
        served = np.asarray(o.served_kbps, dtype=np.float64)
        frac = np.where(offered > 0, np.minimum(served / np.where(offered > 0, offered, 1.0), 1.0), 1.0)
        ang = 2 * np.pi * hours[i] / 24.0
        out[i] = [*(offered / cap), *(predicted_kbps(o) / cap), *m.shares, *frac, m.sync_share, m.h_mode,
                  m.twin_sigma / TWIN_NOISE_MAX, np.sin(ang), np.cos(ang), float(weekday[i] >= 5),
                  float(o.prb_avail <= 0)]
    return np.clip(out, OBS_LOW, OBS_HIGH).astype(np.float32)


def update_memory(m: CellMemory, obs: CellObservation, shares: Sequence[float], sync_mode: float = 0.0,
                  sync_share: float = 0.0) -> CellMemory:
    """The cell's memory after a decision: its shares and sync outputs, the twin error folded in.

    The twin error sample compares the forecast remembered at the previous decision with the eMBB load
    reported now, ``|ln((load + 1) / (forecast + 1))|``; σ is an exponential average of samples scaled to
    a Gaussian sd, kept within the env's bounds.
    """
    sigma = m.twin_sigma
    if m.last_forecast_kbps is not None:
        err = abs(math.log((obs.offered_kbps[0] + 1.0) / (m.last_forecast_kbps + 1.0))) * _ABS_TO_SD
        sigma = min(TWIN_NOISE_MAX, max(TWIN_NOISE_MIN, (1 - _ERROR_GAIN) * sigma + _ERROR_GAIN * err))
    return replace(m, shares=tuple(float(x) for x in shares), sync_share=float(sync_share), h_mode=float(sync_mode),
                   twin_sigma=float(sigma), last_forecast_kbps=obs.forecast_kbps)


def grid_adjacency(cells: Sequence[int]) -> np.ndarray:
    """(C, C) float32 0/1: cells that are grid neighbours (8-neighbourhood), no self loops."""
    ids = np.asarray(list(cells), dtype=np.int64)
    if ids.size == 0:
        return np.zeros((0, 0), dtype=np.float32)
    rows, cols = grid.cell_to_rc(ids)
    a = ((np.abs(rows[:, None] - rows[None, :]) <= 1) & (np.abs(cols[:, None] - cols[None, :]) <= 1))
    a = a.astype(np.float32)
    np.fill_diagonal(a, 0.0)
    return a


def adjacency(cells: Sequence[int]) -> np.ndarray:
    """(C, C) float32 normalised adjacency ``D^-1/2 (A + I) D^-1/2`` of the cells' grid graph."""
    a = grid_adjacency(cells) + np.eye(len(cells), dtype=np.float32)
    d = 1.0 / np.sqrt(a.sum(axis=1))
    return (a * d[:, None] * d[None, :]).astype(np.float32)
