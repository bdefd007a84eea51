"""Trimmed mean: the coordinate-wise mean after dropping the extremes of each coordinate.

Yin, Chen, Kannan, Bartlett, "Byzantine-Robust Distributed Learning: Towards Optimal Statistical
Rates", ICML 2018 (coordinate-wise trimmed mean). For each coordinate the ``k = floor(beta * n)``
smallest and ``k`` largest values over the ``n`` usable updates are dropped and the rest averaged
(unweighted). Flower's ``FedTrimmedAvg`` is the same rule with ``beta=0.2``. Updates with a NaN or
infinite entry are rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dnt.errors import AggregationError
from dnt.fl.rules import ops
from dnt.fl.rules.base import AggregationRule
from dnt.fl.types import AggContext, Aggregated, Update

__all__ = ["TrimmedMean", "FedTrimmedAvg"]


class TrimmedMean(AggregationRule):
    """Coordinate-wise trimmed mean.

    Parameters
    ----------
    beta : fraction trimmed from *each* side of every coordinate, in ``[0, 0.5)``; ``0`` is the plain
        mean, values near ``0.5`` approach the median. It tolerates up to ``floor(beta * n)`` attackers.

    Notes
    -----
    The result's weight of an update is the fraction of its coordinates that lay inside the kept range
    (ties at a bound count as kept), normalised to sum 1: an update trimmed on every coordinate gets 0.
    The trimming itself is per coordinate, so no update is listed in ``rejected`` except non-finite ones.
    """

    name = "trimmed_mean"

    def __init__(self, beta: float = 0.1) -> None:
        self.beta = ops.check_fraction("TrimmedMean beta", beta, 0.0, 0.5,
                                       " (it trims beta from each side; use Median() for the 0.5 limit)")

    def aggregate(self, updates: Sequence[Update], ctx: AggContext) -> Aggregated:
        mat = ops.stack(updates)
        ok = ops.finite_rows(mat)
        if not ok.any():
            raise AggregationError(f"all {len(updates)} updates contain NaN/inf; nothing to aggregate")
        good = mat[ok]
        n = good.shape[0]
        k = int(np.floor(self.beta * n))
        srt = np.sort(good, axis=0)
        delta = srt[k:n - k].mean(axis=0).astype(np.float32)
        kept = ((good >= srt[k]) & (good <= srt[n - k - 1])).mean(axis=1)
        w = np.zeros(len(updates))
        w[ok] = kept / kept.sum()
        return Aggregated(delta, w, tuple(int(i) for i in np.flatnonzero(~ok)))

    def summary(self) -> dict[str, Any]:
        return {"rule": self.name, "beta": self.beta}


FedTrimmedAvg = TrimmedMean
"""Flower's name of :class:`TrimmedMean`."""
