"""FLTrust: weight each update by its agreement with the server's own update on a clean root dataset.

Cao, Fang, Liu, Gong, "FLTrust: Byzantine-robust Federated Learning via Trust Bootstrapping", NDSS
2021 (arXiv 2012.13995). The server trains on a small clean root dataset from the same model as the
clients, giving ``g_0`` (``ctx.reference``). Each client update ``g_i`` gets the trust score
``TS_i = ReLU(cos(g_i, g_0))``, is rescaled to ``g_0``'s norm, ``g_i * |g_0| / |g_i|``, and the
result is ``sum_i TS_i * rescaled_i / sum_j TS_j``. Updates with a NaN or infinite entry are rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from dnt.errors import AggregationError
from dnt.fl.rules import ops
from dnt.fl.rules.base import AggregationRule
from dnt.fl.types import AggContext, Aggregated, Update

__all__ = ["FLTrust"]


class FLTrust(AggregationRule):
    """FLTrust with the server update ``g_0`` taken from ``ctx.reference``.

    Parameters
    ----------
    staleness_exponent : ``a`` of an extra ``(1 + tau) ** -a`` factor on each trust score, ``>= 0``;
        ``0`` (default, the paper) = none. FLTrust rescales every update to ``|g_0|``, which undoes the
        magnitude discount FedBuff applies to stale deltas; set ``a > 0`` to keep stale updates' share low.

    Notes
    -----
    * If every trust score is 0 (each update points away from ``g_0``, or ``g_0`` is zero), no update is
      trusted: the result is a zero delta (the model is kept) and every weight is 0.
    * An update of norm 0 has no direction and gets trust 0.
    * Weights are the normalised trust scores; only non-finite updates are listed in ``rejected``.
    """

    name = "fltrust"
    needs_reference: ClassVar[bool] = True
    """Callers must put the server's root-dataset update in ``AggContext.reference``."""

    def __init__(self, staleness_exponent: float = 0.0) -> None:
        self.staleness_exponent = ops.check_fraction("FLTrust staleness_exponent", staleness_exponent, 0.0, np.inf)

    def _reference(self, ctx: AggContext, dim: int) -> np.ndarray:
        if ctx.reference is None:
            raise AggregationError(
                "FLTrust needs the server's own update g_0: train on the root dataset from the same model and "
                "pass it as AggContext(reference=...), or pick a rule that needs no root data (e.g. 'tid')")
        ref = np.asarray(ctx.reference, dtype=np.float64)
        if ref.shape != (dim,):
            raise AggregationError(f"FLTrust reference has shape {ref.shape}, the updates ({dim},): the server's "
                                   "update must come from the same model as the clients'")
        if not np.isfinite(ref).all():
            raise AggregationError("FLTrust reference contains NaN/inf: the server's root-dataset training diverged")
        return ref

    def aggregate(self, updates: Sequence[Update], ctx: AggContext) -> Aggregated:
        mat = ops.stack(updates)
        ok = ops.finite_rows(mat)
        if not ok.any():
            raise AggregationError(f"all {len(updates)} updates contain NaN/inf; nothing to aggregate")
        ref = self._reference(ctx, mat.shape[1])
        ref_norm = float(np.sqrt(np.einsum("i,i->", ref, ref)))
        good = np.where(ok[:, None], mat, 0.0)
        norms = ops.row_norms(good)
        trust = np.zeros(len(updates))
        usable = ok & (norms > 0)
        if ref_norm > 0 and usable.any():
            cos = np.einsum("ij,j->i", good[usable], ref) / (norms[usable] * ref_norm)
            trust[usable] = np.maximum(cos, 0.0)
        trust *= ops.polynomial_staleness(ops.staleness(updates, ctx), self.staleness_exponent)
        rejected = tuple(int(i) for i in np.flatnonzero(~ok))
        if not trust.sum() > 0:
            return Aggregated(np.zeros(mat.shape[1], dtype=np.float32), np.zeros(len(updates)), rejected)
        pos = trust > 0
        rescaled = good[pos] * (ref_norm / norms[pos])[:, None]
        return Aggregated(ops.weighted_mean(rescaled, trust[pos]), trust / trust.sum(), rejected)

    def summary(self) -> dict[str, Any]:
        return {"rule": self.name, "staleness_exponent": self.staleness_exponent}
