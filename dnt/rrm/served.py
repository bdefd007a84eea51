"""Served and unserved traffic from KPM records, live and under counterfactual static slice policies.

The E2 simulator serves each cell's offered load per slice with :func:`dnt.ran.capacity.allocate_prbs`
under the slice PRB quotas in force. KPM reports carry both the offered load (``DNT.OfferedLoadDl``) and
the served throughput (``DRB.UEThpDl``) per slice, so from the same reports :class:`ServedLedger` gives:

* the **live** unserved traffic, ``offered - served``, under whatever the rrm xApp decided;
* the unserved traffic the same offered load would have left under a **static** policy (e.g. equal
  shares, or no quotas at all), recomputed with the very allocation the simulator runs — an exact
  counterfactual for this capacity model, not an estimate.

With min-ratio quotas (TS 28.541 semantics, the rrm's default) every policy is work-conserving: an
overloaded cell serves its whole carrier whatever the split, so the *total* unserved traffic is the same;
the decisions change *which* slice goes unserved. Hence per-slice totals and the weighted utility
``sum_s w_s min(1, served_s / offered_s)`` per report (the reward's utility term of
:class:`dnt.rl.env.SliceEnv`, same default weights), averaged over reports.

Records are kpimon's (:func:`dnt.ran.kpi.kpi_record`); each (cell, report time) counts once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dnt.ran.capacity import CellRadioConfig, SlicePolicy, allocate_prbs
from dnt.ran.slices import SLICE_NAMES

__all__ = ["ServedLedger", "STATIC_POLICIES"]

OFFERED, SERVED = "DNT.OfferedLoadDl", "DRB.UEThpDl"

STATIC_POLICIES: dict[str, SlicePolicy] = {
    "static_equal": SlicePolicy(min_ratio=(33.0, 33.0, 33.0)),
    "no_quotas": SlicePolicy(),
}
"""The baselines the demo compares with: equal guaranteed thirds (the bench's static equal shares, as min
ratios), and the simulator's initial policy (no quotas: the slices share all PRBs by need)."""


@dataclass
class ServedLedger:
    """Running per-slice totals (kbit/s summed over reports) of offered and served traffic, live and under
    counterfactual static policies, and the mean weighted utility of each.

    Parameters
    ----------
    radio : the simulated carrier (PRBs, Mbit/s per PRB) — the simulator's.
    policies : name → static policy to recompute the served traffic under.
    weights : slice weights of the utility (eMBB, voice, messaging; SliceEnv's defaults).
    """

    radio: CellRadioConfig = field(default_factory=CellRadioConfig)
    policies: Mapping[str, SlicePolicy] = field(default_factory=lambda: dict(STATIC_POLICIES))
    weights: tuple[float, float, float] = (0.5, 0.3, 0.2)
    reports: int = 0
    dropped: int = 0
    offered: np.ndarray = field(default_factory=lambda: np.zeros(len(SLICE_NAMES)))
    served: dict[str, np.ndarray] = field(default_factory=dict)
    utility_sum: dict[str, float] = field(default_factory=dict)
    _seen: set[tuple[int, int]] = field(default_factory=set, repr=False)

    @property
    def methods(self) -> tuple[str, ...]:
        return ("live", *self.policies)

    def add(self, record: Mapping[str, Any]) -> bool:
        """Count one kpimon record; False when already counted or incomplete (then ``dropped`` grows)."""
        try:
            key = (int(record["cell"]), int(record["time_ms"]))
            slices = record["slices"]
            offered = np.array([float(slices[s][OFFERED]) for s in SLICE_NAMES])
            live = np.array([float(slices[s][SERVED]) for s in SLICE_NAMES])
        except (KeyError, TypeError, ValueError):
            self.dropped += 1
            return False
        if key in self._seen:
            return False
        self._seen.add(key)
        self.reports += 1
        self.offered += offered
        kbps_per_prb = 1000.0 * self.radio.mbps_per_prb
        per = {"live": np.minimum(live, offered)}
        for name, pol in self.policies.items():
            mn, mx, ded = pol.arrays()
            prb = allocate_prbs(offered / kbps_per_prb, self.radio.n_prb, mn, mx, ded)
            per[name] = np.minimum(prb * kbps_per_prb, offered)
        w = np.asarray(self.weights, dtype=np.float64)
        for name, served in per.items():
            self.served[name] = self.served.get(name, np.zeros(len(SLICE_NAMES))) + served
            sat = np.where(offered > 0, served / np.where(offered > 0, offered, 1.0), 1.0)
            self.utility_sum[name] = self.utility_sum.get(name, 0.0) + float((w * np.minimum(sat, 1.0)).sum())
        return True

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per method: unserved fraction of the offered traffic (total and per slice), mean utility."""
        out: dict[str, dict[str, Any]] = {}
        for name in self.methods:
            served = self.served.get(name, np.zeros(len(SLICE_NAMES)))
            gap = np.maximum(self.offered - served, 0.0)
            frac = np.where(self.offered > 0, gap / np.where(self.offered > 0, self.offered, 1.0), 0.0)
            total = float(gap.sum() / self.offered.sum()) if self.offered.sum() > 0 else 0.0
            out[name] = {"unserved": total, "unserved_by_slice": dict(zip(SLICE_NAMES, frac.tolist(), strict=True)),
                         "utility": self.utility_sum.get(name, 0.0) / self.reports if self.reports else 0.0}
        return out
