"""FedAvg: the (sample-weighted) mean of the updates.

McMahan, Moore, Ramage, Hampson, Agüera y Arcas, "Communication-Efficient Learning of Deep Networks
from Decentralized Data", AISTATS 2017: the server averages client models weighted by their number of
samples. FedDA's FedAvg baseline (``chuanting/FedDA`` ``fed_avg_algo.py``) takes the plain, unweighted
mean: ``Mean(weighted=False)``. Updates with a NaN or infinite entry are rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dnt.errors import AggregationError
from dnt.fl.rules import ops
from dnt.fl.rules.base import AggregationRule
from dnt.fl.types import AggContext, Aggregated, Update

__all__ = ["Mean", "FedAvg"]


class Mean(AggregationRule):
    """Weighted mean of the updates (FedAvg).

    Parameters
    ----------
    weighted : weight each update by its ``num_samples`` (FedAvg); ``False`` = plain mean (FedDA).
    """

    name = "mean"

    def __init__(self, weighted: bool = True) -> None:
        self.weighted = bool(weighted)

    def aggregate(self, updates: Sequence[Update], ctx: AggContext) -> Aggregated:
        mat = ops.stack(updates)
        ok = ops.finite_rows(mat)
        if not ok.any():
            raise AggregationError(f"all {len(updates)} updates contain NaN/inf; nothing to aggregate")
        w = ops.sample_weights(updates) if self.weighted else np.ones(len(updates))
        w = np.where(ok, w, 0.0)
        if not w.sum() > 0:  # every usable update reports 0 samples: fall back to equal weights
            w = ok.astype(np.float64)
        delta = ops.weighted_mean(np.where(ok[:, None], mat, 0.0), w)
        rejected = tuple(int(i) for i in np.flatnonzero(~ok))
        return Aggregated(delta, w / w.sum(), rejected)

    def summary(self) -> dict[str, Any]:
        return {"rule": self.name, "weighted": self.weighted}


FedAvg = Mean
"""Literature name of :class:`Mean`."""
