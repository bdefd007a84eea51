"""TID (GLID): dimension-wise trimming, re-weighting by kept fraction, plus norm and Sybil-direction checks.

Zhang, Fang, Huang, Liu, "Poisoning Attacks on Federated Learning-based Wireless Traffic Prediction",
IFIP Networking 2024 (arXiv 2404.14389; global-local inconsistency detection, GLID), renamed TID (twin
inconsistency defence) in Zhang et al., "Digital Network Twins for Next-Generation Wireless", arXiv
2410.18002. No code or exact equations are public; this follows the project's reconstructed spec
(``shared/reference/algorithms.md`` §2.4):

1. per coordinate ``d``, bounds ``[L_d, U_d]`` from the updates' values by ``statistic``:
   ``"percentile"`` (the ``k``-th and ``(100-k)``-th percentiles), ``"iqr"`` (``Q1 - k IQR, Q3 + k IQR``),
   ``"zscore"`` (robust ``|x - median| <= k * 1.4826 MAD``; mean absolute deviation where the MAD is 0)
   or ``"std"`` (``mean +- k sigma``);
2. entries outside the bounds are dropped;
3. each client's weight is the fraction of its coordinates kept (a client trimmed everywhere gets 0),
   times the staleness discount ``(1 + tau) ** -a`` of the asynchronous H-twin;
4. each coordinate of the result is the weighted mean of its kept entries.

**Beyond the paper** (each switchable, ``None`` = off; :meth:`TID.paper` turns both off). Plain TID
judges every coordinate on its own, so updates that sit inside the benign range in every coordinate but
all push the same way pass untouched: TPI/FTI uploads ``eta (theta_hat - theta_t)`` from every fake base
station, MPAF the same scaled vector from every fake client. Many identical outliers also drag the
quartiles/percentiles with them, so with 3 of 11 MPAF copies the IQR bounds widen to include them.

* ``norm_clip = c``: an update whose L2 norm exceeds ``c x`` the median norm is rejected outright
  (listed in ``rejected``) *before* the bounds are estimated, so scaled-up copies can no longer widen
  them (MPAF, large-``eta`` TPI).
* ``collinear_cos = t``: the Sybil check. Two updates are linked when their cosine distance
  ``1 - cos`` is at most ``(1 - t) x`` the median cosine distance over all pairs of this round, i.e.
  when they point the same way far more closely than updates usually do (with unrelated benign updates,
  median ``cos ~ 0``, this is ``cos > t``). Linked updates form a group (connected components) that
  counts as *one* client: the bounds of step 1 are estimated from one row per group (its coordinate-wise
  median) and each member's weight is divided by the group size. The test uses directions only, so it
  ignores FedBuff's staleness scaling and per-client ``eta``, and needs no centre that many copies could
  drag. Fake clients steered to one base model (TPI from one ``theta_hat``, MPAF) then get the voice of
  one client however many the attacker deploys; honest near duplicates (two cells with the same data)
  only lose the duplicate vote. Gaussian benign updates (D = 20 ... 5000, shared mean up to 10x the
  noise, norms varying 5x) were never linked in 50 trials of 10 (measured while writing this rule).

Updates with a NaN or infinite entry are rejected. TID does not weight by ``num_samples`` (a fake
client can claim any number).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dnt.errors import AggregationError, ConfigError
from dnt.fl.rules import ops
from dnt.fl.rules.base import AggregationRule
from dnt.fl.types import AggContext, Aggregated, Update

__all__ = ["TID", "GLID", "STATISTICS", "coordinate_bounds"]

STATISTICS: dict[str, float] = {"percentile": 10.0, "iqr": 1.5, "zscore": 3.0, "std": 3.0}
"""The bound statistics and the default ``k`` of each."""

_MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is sigma
_MEANAD_TO_SIGMA = 1.2533  # sqrt(pi/2): mean absolute deviation of a normal times this is sigma


def coordinate_bounds(mat: np.ndarray, statistic: str, k: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-coordinate ``(lower, upper)`` bounds, each (D,) float64, of the rows of ``mat`` (see the module)."""
    if statistic == "percentile":
        lo, hi = np.percentile(mat, [k, 100.0 - k], axis=0)
        return lo, hi
    if statistic == "iqr":
        q1, q3 = np.percentile(mat, [25.0, 75.0], axis=0)
        return q1 - k * (q3 - q1), q3 + k * (q3 - q1)
    if statistic == "zscore":
        med = np.median(mat, axis=0)
        dev = np.abs(mat - med)
        scale = _MAD_TO_SIGMA * np.median(dev, axis=0)
        scale = np.where(scale > 0, scale, _MEANAD_TO_SIGMA * dev.mean(axis=0))
        return med - k * scale, med + k * scale
    if statistic == "std":
        mu, sd = mat.mean(axis=0), mat.std(axis=0)
        return mu - k * sd, mu + k * sd
    raise ConfigError(f"TID statistic must be one of {sorted(STATISTICS)}, got {statistic!r}")


class TID(AggregationRule):
    """Twin inconsistency defence: dimension-wise trimming and client re-weighting (see the module).

    Parameters
    ----------
    statistic : ``"iqr"`` (default), ``"percentile"``, ``"zscore"`` or ``"std"``: how each coordinate's
        bounds are estimated.
    k : the statistic's width: ``p`` in ``[0, 50)`` for ``"percentile"``; the IQR multiple (``>= 0``) for
        ``"iqr"``; the z bound (``> 0``) for ``"zscore"`` and ``"std"``. ``None`` = 10, 1.5, 3, 3.
    norm_clip : reject updates with L2 norm ``> norm_clip x`` the median norm (``>= 1``); ``None`` = off.
        The median is the smallest of: over the updates, over the Sybil groups, and the server's median over
        its recent buffers when it passes one (``ctx.config["norm_ref"]``, :class:`~dnt.fl.asyn.FedBuff`).
    collinear_cos : Sybil check: updates whose cosine distance is at most ``1 - collinear_cos`` times the
        round's median pairwise cosine distance count as one client (in ``(0, 1)``); ``None`` = off.
    staleness_exponent : ``a`` of the weight discount ``(1 + tau) ** -a`` (``>= 0``; 0.5 as FedBuff,
        0 = none). FedBuff already shrinks a stale delta by the same factor before the rule sees it; this
        discount also lowers the stale update's *share* in each coordinate's mean.

    Notes
    -----
    ``Aggregated.weights`` are the final per-client weights (kept fraction x staleness discount /
    Sybil-group size), normalised to sum 1: 0 for a rejected update, near 0 for one trimmed almost
    everywhere. ``rejected`` lists the non-finite and norm-rejected updates. A coordinate where no update
    with weight > 0 was kept stays 0.
    """

    name = "tid"

    def __init__(self, statistic: str = "iqr", k: float | None = None, norm_clip: float | None = 3.0,
                 collinear_cos: float | None = 0.9, staleness_exponent: float = 0.5) -> None:
        if statistic not in STATISTICS:
            raise ConfigError(f"TID statistic must be one of {sorted(STATISTICS)}, got {statistic!r}")
        self.statistic = statistic
        if k is None:
            self.k = STATISTICS[statistic]
        elif statistic == "percentile":
            self.k = ops.check_fraction("TID k (percentile p)", k, 0.0, 50.0, " (keeps [p, 100-p] per coordinate)")
        elif statistic == "iqr":
            self.k = ops.check_fraction("TID k (IQR multiple)", k, 0.0, np.inf, " (1.5 is Tukey's fence)")
        else:
            self.k = ops.check_fraction(f"TID k ({statistic} bound)", k, 0.0, np.inf, " (3 is usual)")
            if self.k == 0:
                raise ConfigError(f"TID k for {statistic!r} must be > 0 (a zero-width band keeps only the centre)")
        self.norm_clip = None if norm_clip is None else ops.check_fraction(
            "TID norm_clip", norm_clip, 1.0, np.inf, " (a multiple of the median norm; None switches the check off)")
        self.collinear_cos = None if collinear_cos is None else ops.check_fraction(
            "TID collinear_cos", collinear_cos, 0.0, 1.0, " (a cosine threshold; None switches the check off)")
        if self.collinear_cos == 0.0:
            raise ConfigError("TID collinear_cos must be > 0: at 0 any two unrelated updates would count as one")
        self.staleness_exponent = ops.check_fraction("TID staleness_exponent", staleness_exponent, 0.0, np.inf)

    @classmethod
    def paper(cls, statistic: str = "iqr", k: float | None = None, staleness_exponent: float = 0.5) -> TID:
        """TID as the paper describes it: trimming and re-weighting only, no norm or Sybil check."""
        return cls(statistic, k, norm_clip=None, collinear_cos=None, staleness_exponent=staleness_exponent)

    def aggregate(self, updates: Sequence[Update], ctx: AggContext) -> Aggregated:
        mat = ops.stack(updates)
        ok = ops.finite_rows(mat)
        if not ok.any():
            raise AggregationError(f"all {len(updates)} updates contain NaN/inf; nothing to aggregate")
        mat = np.where(ok[:, None], mat, 0.0)
        admitted = ok.copy()
        if self.norm_clip is not None:
            # reference norm: the smaller of the median over updates and the median over Sybil groups (one
            # norm per group). In a small async buffer, copies of one large update can pull the per-update
            # median up to themselves, and honest updates (fine-tuned from the same model, hence alike in
            # direction) can form one group that halves the per-group count: each median guards the other.
            fin = np.flatnonzero(ok)
            norms = ops.row_norms(mat)
            glabels = self._groups(mat[fin]) if self.collinear_cos is not None else np.arange(fin.size)
            by_group = float(np.median([np.median(norms[fin[glabels == g]]) for g in np.unique(glabels)]))
            med = min(float(np.median(norms[fin])), by_group)
            if ctx.config.get("norm_ref"):  # the server's median over recent buffers (FedBuff), when it has one
                med = min(med, float(ctx.config["norm_ref"]))
            if med > 0:
                admitted &= norms <= self.norm_clip * med
        idx = np.flatnonzero(admitted)
        labels = self._groups(mat[idx]) if self.collinear_cos is not None else np.arange(idx.size)
        groups = np.unique(labels)
        # bounds from one row per Sybil group (its coordinate-wise median): copies cannot drag the quartiles
        reps = np.stack([np.median(mat[idx[labels == g]], axis=0) for g in groups])
        lo, hi = coordinate_bounds(reps, self.statistic, self.k)
        keep = (mat >= lo) & (mat <= hi) & admitted[:, None]
        w = keep.mean(axis=1) * ops.polynomial_staleness(ops.staleness(updates, ctx), self.staleness_exponent)
        w[idx] /= np.bincount(labels, minlength=idx.size)[labels]
        if not w.sum() > 0:
            raise AggregationError(f"TID kept no entry of {idx.size} admitted updates: "
                                   f"widen k (now {self.k}) or use statistic='iqr'")
        rejected = tuple(int(i) for i in np.flatnonzero(~admitted))
        return Aggregated(ops.masked_weighted_mean(mat, keep, w), w / w.sum(), rejected)

    def _groups(self, mat: np.ndarray) -> np.ndarray:
        """(n,) Sybil-group label of each row (the smallest row index in its group; alone = own index).

        Rows ``i, j`` are linked when ``1 - cos(i, j) <= (1 - collinear_cos) * median_{k<l}(1 - cos(k, l))``:
        far more alike in direction than updates are this round. The test is free of scale (FedBuff's
        staleness scaling, different ``eta``) and of any centre that many copies could drag.
        """
        n = mat.shape[0]
        if n < 2:
            return np.zeros(n, dtype=np.int64)
        dist = 1.0 - ops.cosine_matrix(mat)
        typical = float(np.median(dist[np.triu_indices(n, 1)]))
        has_dir = ops.row_norms(mat) > 0  # a zero update points nowhere: never linked
        linked = (dist <= (1.0 - self.collinear_cos) * typical) & has_dir[:, None] & has_dir[None, :]
        np.fill_diagonal(linked, False)
        return ops.components(linked)

    def summary(self) -> dict[str, Any]:
        return {"rule": self.name, "statistic": self.statistic, "k": self.k, "norm_clip": self.norm_clip,
                "collinear_cos": self.collinear_cos, "staleness_exponent": self.staleness_exponent}


GLID = TID
"""The conference paper's name of :class:`TID`."""
