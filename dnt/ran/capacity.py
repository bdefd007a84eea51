"""Cell capacity model: PRBs per cell, per-slice PRB policy (min / max / dedicated ratios), served traffic.

A cell has ``n_prb`` downlink PRBs (3GPP TS 38.101-1 Table 5.3.2-1 for the bandwidth and sub-carrier
spacing) and each PRB carries ``mbps_per_prb`` (spectral efficiency × 12 sub-carriers × SCS, less
overhead). A slice's offered load (Mbit/s) comes from the Milan activity of its channels times
``mbps_per_unit``; it needs ``offered / mbps_per_prb`` PRBs.

The slice PRB policy follows the RRM policy ratios of 3GPP TS 28.541 §5.3.43 (the same three numbers an
E2SM-RC style 2 action 6 control carries, in percent of the cell's PRBs):

* **dedicated** — reserved for the slice only; idle dedicated PRBs are not lent to others;
* **min** — prioritised: the slice gets up to this share first when it needs it; idle prioritised PRBs
  are shared;
* **max** — the slice never gets more.

Allocation: each slice first gets ``min(need, max(min, dedicated))``; the PRBs left (the cell less
what is consumed, dedicated counted in full) are water-filled among slices with unmet need, capped by
``max``, in proportion to what each still wants. Served traffic is what the allocated PRBs carry, never
more than offered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dnt.errors import ConfigError
from dnt.ran.slices import SLICES

__all__ = ["PRB_TABLE", "CellRadioConfig", "SlicePolicy", "allocate_prbs", "CapacityModel", "CellReport"]

# (bandwidth MHz, SCS kHz) -> N_RB, FR1 (TS 38.101-1 Table 5.3.2-1)
PRB_TABLE: dict[tuple[int, int], int] = {
    (5, 15): 25, (10, 15): 52, (15, 15): 79, (20, 15): 106, (25, 15): 133, (40, 15): 216, (50, 15): 270,
    (10, 30): 24, (15, 30): 38, (20, 30): 51, (25, 30): 65, (40, 30): 106, (50, 30): 133, (60, 30): 162,
    (80, 30): 217, (100, 30): 273,
}


@dataclass(frozen=True)
class CellRadioConfig:
    """Radio and demand settings shared by all cells."""

    bandwidth_mhz: int = 40
    """Channel bandwidth (with ``scs_khz``, a key of :data:`PRB_TABLE`)."""
    scs_khz: int = 30
    """Sub-carrier spacing."""
    spectral_efficiency: float = 3.0
    """Mean bit/s/Hz over the cell."""
    overhead: float = 0.14
    """Fraction of capacity lost to control channels and reference signals (TS 38.306 §4.1.2 uses 0.14 DL)."""
    mbps_per_unit: tuple[float, ...] = (0.04, 0.04, 0.004)
    """Offered Mbit/s per unit of Milan activity, per slice (embb, voice, messaging)."""

    def __post_init__(self) -> None:
        if (self.bandwidth_mhz, self.scs_khz) not in PRB_TABLE:
            raise ConfigError(f"no NR carrier of {self.bandwidth_mhz} MHz at {self.scs_khz} kHz; "
                              f"pick one of {sorted(PRB_TABLE)}")
        if not 0 < self.spectral_efficiency <= 10:
            raise ConfigError(f"spectral_efficiency must be in (0, 10] bit/s/Hz, got {self.spectral_efficiency}")
        if not 0 <= self.overhead < 1:
            raise ConfigError(f"overhead must be in [0, 1), got {self.overhead}")
        if len(self.mbps_per_unit) != len(SLICES) or min(self.mbps_per_unit) <= 0:
            raise ConfigError(f"mbps_per_unit needs {len(SLICES)} positive values, got {self.mbps_per_unit}")

    @property
    def n_prb(self) -> int:
        return PRB_TABLE[(self.bandwidth_mhz, self.scs_khz)]

    @property
    def mbps_per_prb(self) -> float:
        return self.spectral_efficiency * 12 * self.scs_khz * 1e3 * (1 - self.overhead) / 1e6

    @property
    def capacity_mbps(self) -> float:
        return self.n_prb * self.mbps_per_prb


@dataclass(frozen=True)
class SlicePolicy:
    """PRB policy ratios (percent, 0–100) for the slices of one cell, in :data:`SLICES` order."""

    min_ratio: tuple[float, ...] = (0.0, 0.0, 0.0)
    max_ratio: tuple[float, ...] = (100.0, 100.0, 100.0)
    dedicated_ratio: tuple[float, ...] = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        n = len(SLICES)
        for name in ("min_ratio", "max_ratio", "dedicated_ratio"):
            v = getattr(self, name)
            if len(v) != n or any(not 0 <= x <= 100 for x in v):
                raise ConfigError(f"{name} needs {n} values in 0..100 percent, got {v}")
        for i in range(n):
            if not self.dedicated_ratio[i] <= self.max_ratio[i] or not self.min_ratio[i] <= self.max_ratio[i]:
                raise ConfigError(f"slice {SLICES[i].name}: dedicated {self.dedicated_ratio[i]} and min "
                                  f"{self.min_ratio[i]} must not exceed max {self.max_ratio[i]}")
        if sum(self.dedicated_ratio) > 100 or sum(max(a, b) for a, b in zip(self.min_ratio, self.dedicated_ratio,
                                                                              strict=True)) > 100:
            raise ConfigError("the slices' guaranteed shares (max of min and dedicated) add up to more than 100 %")

    def with_slice(self, index: int, *, min_ratio: float | None = None, max_ratio: float | None = None,
                   dedicated_ratio: float | None = None) -> SlicePolicy:
        """A copy with one slice's ratios replaced (validated)."""
        def put(values: tuple[float, ...], v: float | None) -> tuple[float, ...]:
            return values if v is None else tuple(float(v) if i == index else x for i, x in enumerate(values))

        return SlicePolicy(put(self.min_ratio, min_ratio), put(self.max_ratio, max_ratio),
                           put(self.dedicated_ratio, dedicated_ratio))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (np.asarray(self.min_ratio, float), np.asarray(self.max_ratio, float),
                np.asarray(self.dedicated_ratio, float))


def allocate_prbs(need: np.ndarray, n_prb: float, min_ratio: np.ndarray, max_ratio: np.ndarray,
                  dedicated_ratio: np.ndarray) -> np.ndarray:
    """PRBs allocated to each slice (see the module docstring).

    Parameters
    ----------
    need : (..., S) PRBs each slice needs to carry all its offered load (≥ 0).
    n_prb : PRBs of the cell.
    min_ratio, max_ratio, dedicated_ratio : (..., S) or (S,) percent of ``n_prb``.

    Returns
    -------
    (..., S) allocated PRBs, ``0 <= alloc <= need`` and ``alloc <= max``; the sum never exceeds ``n_prb``.
    """
    need = np.maximum(np.nan_to_num(np.asarray(need, dtype=np.float64)), 0.0)
    ded = np.broadcast_to(np.asarray(dedicated_ratio, float) / 100.0 * n_prb, need.shape)
    guar = np.maximum(np.broadcast_to(np.asarray(min_ratio, float) / 100.0 * n_prb, need.shape), ded)
    cap = np.broadcast_to(np.asarray(max_ratio, float) / 100.0 * n_prb, need.shape)
    alloc = np.minimum(need, guar)
    pool = n_prb - np.maximum(ded, alloc).sum(axis=-1)
    want = np.maximum(np.minimum(need, cap) - alloc, 0.0)
    for _ in range(need.shape[-1]):  # water-filling converges in at most S rounds
        total = want.sum(axis=-1)
        active = (total > 1e-12) & (pool > 1e-12)
        if not active.any():
            break
        share = np.where(active[..., None], want * (pool / np.where(active, total, 1.0))[..., None], 0.0)
        give = np.minimum(want, share)
        alloc = alloc + give
        want = want - give
        pool = pool - give.sum(axis=-1)
    return alloc


@dataclass(frozen=True)
class CellReport:
    """One reporting period of a set of cells: arrays (C, S) unless noted; rates are Mbit/s."""

    offered_mbps: np.ndarray
    served_mbps: np.ndarray
    prb_used: np.ndarray
    prb_avail: int

    @property
    def unserved_mbps(self) -> np.ndarray:
        return self.offered_mbps - self.served_mbps


class CapacityModel:
    """Turns per-slice Milan activity and slice policies into offered and served traffic."""

    def __init__(self, radio: CellRadioConfig | None = None) -> None:
        self.radio = radio or CellRadioConfig()
        self._mbps_per_unit = np.asarray(self.radio.mbps_per_unit, dtype=np.float64)

    def offered_mbps(self, activity: np.ndarray) -> np.ndarray:
        """(..., S) activity per slice → offered Mbit/s (NaN → 0)."""
        return np.nan_to_num(np.asarray(activity, dtype=np.float64)) * self._mbps_per_unit

    def serve(self, activity: np.ndarray, min_ratio: np.ndarray, max_ratio: np.ndarray,
              dedicated_ratio: np.ndarray) -> CellReport:
        """Serve one period. ``activity`` (C, S); ratios (C, S) or (S,) percent."""
        offered = self.offered_mbps(activity)
        r = self.radio
        prb = allocate_prbs(offered / r.mbps_per_prb, r.n_prb, min_ratio, max_ratio, dedicated_ratio)
        return CellReport(offered, np.minimum(prb * r.mbps_per_prb, offered), prb, r.n_prb)
