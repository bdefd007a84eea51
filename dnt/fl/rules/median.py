"""FedMedian: the coordinate-wise median of the updates.

Yin, Chen, Kannan, Bartlett, "Byzantine-Robust Distributed Learning: Towards Optimal Statistical
Rates", ICML 2018 (coordinate-wise median). Each coordinate of the result is the median of that
coordinate over the usable updates (unweighted; for an even count, the mean of the two middle values).
Updates with a NaN or infinite entry are rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dnt.errors import AggregationError
from dnt.fl.rules import ops
from dnt.fl.rules.base import AggregationRule
from dnt.fl.types import AggContext, Aggregated, Update

__all__ = ["Median", "FedMedian"]


class Median(AggregationRule):
    """Coordinate-wise median (FedMedian). Every usable update gets weight ``1/n`` in the result record."""

    name = "median"

    def aggregate(self, updates: Sequence[Update], ctx: AggContext) -> Aggregated:
        mat = ops.stack(updates)
        ok = ops.finite_rows(mat)
        if not ok.any():
            raise AggregationError(f"all {len(updates)} updates contain NaN/inf; nothing to aggregate")
        delta = ops.coordinate_median(mat[ok])
        w = ok.astype(np.float64) / ok.sum()
        return Aggregated(delta, w, tuple(int(i) for i in np.flatnonzero(~ok)))

    def summary(self) -> dict[str, Any]:
        return {"rule": self.name}


FedMedian = Median
"""Literature name of :class:`Median`."""
