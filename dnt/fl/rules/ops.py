"""Shared math of the aggregation rules: stacking, validity, weights, staleness, means, medians and geometry.

Pure functions on numpy arrays, tested on hand-computed cases in ``tests/unit/fl/test_ops.py``. Sums
run in float64 and results are returned as float32 (the wire and model dtype).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dnt.errors import AggregationError, ConfigError
from dnt.fl.types import AggContext, Update

__all__ = [
    "check_updates",
    "stack",
    "finite_rows",
    "sample_weights",
    "staleness",
    "polynomial_staleness",
    "weighted_mean",
    "coordinate_median",
    "masked_weighted_mean",
    "row_norms",
    "pairwise_sq_distances",
    "cosine_matrix",
    "components",
    "check_fraction",
]


def check_updates(updates: Sequence[Update]) -> int:
    """Length D shared by all updates; :class:`AggregationError` if none or lengths differ."""
    if len(updates) == 0:
        raise AggregationError("no updates to aggregate (an empty round keeps the model; skip the call)")
    dims = {u.delta.shape[0] for u in updates}
    if len(dims) != 1:
        raise AggregationError(f"updates have different lengths {sorted(dims)}: clients run different models")
    return dims.pop()


def stack(updates: Sequence[Update]) -> np.ndarray:
    """(n, D) float64 matrix of the deltas, in input order."""
    check_updates(updates)
    return np.stack([u.delta for u in updates]).astype(np.float64)


def finite_rows(mat: np.ndarray) -> np.ndarray:
    """(n,) bool: rows without NaN or infinity (a diverged client's update is unusable)."""
    return np.isfinite(mat).all(axis=1)


def sample_weights(updates: Sequence[Update]) -> np.ndarray:
    """(n,) float64 ``num_samples`` of each update."""
    return np.array([u.num_samples for u in updates], dtype=np.float64)


def staleness(updates: Sequence[Update], ctx: AggContext) -> np.ndarray:
    """(n,) int64 staleness: ``ctx.staleness`` if given, else each update's, else ``ctx.version - base``.

    Negative values (an update from a future version) are clipped to 0.
    """
    if ctx.staleness is not None:
        if len(ctx.staleness) != len(updates):
            raise AggregationError(f"ctx.staleness has {len(ctx.staleness)} entries for {len(updates)} updates")
        tau = np.asarray(ctx.staleness, dtype=np.int64)
    else:
        tau = np.array([u.staleness if u.staleness is not None else ctx.version - u.base_version
                        for u in updates], dtype=np.int64)
    return np.maximum(tau, 0)


def polynomial_staleness(tau: np.ndarray | int, exponent: float) -> np.ndarray:
    """FedAsync's polynomial staleness function ``s(tau) = (1 + tau) ** -a`` (Xie et al. 2019, §5.2).

    ``a = 0.5`` is FedBuff's ``1 / sqrt(1 + tau)`` (Nguyen et al. 2022); ``a = 0`` disables weighting.
    """
    t = np.asarray(tau, dtype=np.float64)
    if np.any(t < 0):
        raise AggregationError(f"staleness must be >= 0, got {t.min()}")
    return np.power(1.0 + t, -float(exponent))


def weighted_mean(mat: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(D,) float32 ``sum_i w_i x_i / sum_i w_i`` over the rows of ``mat``.

    Raises
    ------
    AggregationError
        if the weights are negative or sum to zero.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (mat.shape[0],):
        raise AggregationError(f"{w.shape[0] if w.ndim else 0} weights for {mat.shape[0]} updates")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise AggregationError("aggregation weights must be finite and >= 0")
    total = w.sum()
    if not total > 0:
        raise AggregationError("aggregation weights sum to 0 (every update has num_samples 0?)")
    # einsum's own loop, not BLAS: a BLAS gemv here starts OpenBLAS's thread pool, whose spinning threads
    # compete with training on a small shared machine (measured: 1.4 CPU-s per wall-s in bench/twin.py)
    return np.einsum("i,ij->j", w / total, mat).astype(np.float32)


def coordinate_median(mat: np.ndarray) -> np.ndarray:
    """(D,) float32 coordinate-wise median of the rows (mean of the two middle values for even n)."""
    if mat.shape[0] == 0:
        raise AggregationError("median of no updates")
    return np.median(mat, axis=0).astype(np.float32)


def masked_weighted_mean(mat: np.ndarray, keep: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(D,) float32 per-coordinate ``sum_i w_i m_id x_id / sum_i w_i m_id`` over the kept entries only.

    ``keep`` is the (n, D) bool mask of kept entries. A coordinate where no kept entry has weight > 0 is
    left at 0 (no client the rule trusts moved it, so the model keeps its value there).
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (mat.shape[0],) or keep.shape != mat.shape:
        raise AggregationError(f"mask {keep.shape} / {w.shape[0] if w.ndim else 0} weights do not fit {mat.shape}")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise AggregationError("aggregation weights must be finite and >= 0")
    wm = keep * w[:, None]  # (n, D); einsum loops rather than BLAS (see weighted_mean)
    den = np.einsum("ij->j", wm)
    num = np.einsum("ij,ij->j", wm, np.where(keep, mat, 0.0))
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0).astype(np.float32)


def row_norms(mat: np.ndarray) -> np.ndarray:
    """(n,) float64 L2 norm of each row."""
    return np.sqrt(np.einsum("ij,ij->i", mat, mat))


def pairwise_sq_distances(mat: np.ndarray) -> np.ndarray:
    """(n, n) float64 squared Euclidean distances between the rows, ``>= 0``, exactly 0 on the diagonal.

    Computed as ``|a|^2 + |b|^2 - 2 a.b`` on rows centred at their coordinate-wise median: centring makes
    identical rows exactly 0 apart and keeps the cancellation small when updates share a large component.
    """
    if mat.shape[0] == 0:
        return np.zeros((0, 0))
    c = mat - np.median(mat, axis=0)
    gram = np.einsum("ik,jk->ij", c, c)
    sq = np.diag(gram)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * gram, 0.0)
    np.fill_diagonal(d2, 0.0)
    return d2


def cosine_matrix(mat: np.ndarray) -> np.ndarray:
    """(n, n) float64 cosine similarity of the rows; a zero row has cosine 0 with every row."""
    norms = row_norms(mat)
    ok = norms > 0
    unit = np.where(ok[:, None], mat / np.where(ok, norms, 1.0)[:, None], 0.0)
    return np.clip(np.einsum("ik,jk->ij", unit, unit), -1.0, 1.0)


def components(adjacent: np.ndarray) -> np.ndarray:
    """(n,) int64 connected-component label of each node of a symmetric bool adjacency matrix.

    The label of a node is the smallest index in its component, so the grouping (not the labels) is the
    same however the nodes are ordered. Vectorised transitive closure by repeated squaring,
    ``O(n^3 log n)``: fine for the tens of updates of one round or buffer.
    """
    n = adjacent.shape[0]
    reach = (adjacent | adjacent.T | np.eye(n, dtype=bool)).astype(np.int64)
    while True:
        nxt = (np.einsum("ik,kj->ij", reach, reach) > 0).astype(np.int64)
        if np.array_equal(nxt, reach):
            break
        reach = nxt
    return np.argmax(reach > 0, axis=1).astype(np.int64)


def check_fraction(name: str, value: float, low: float, high: float, hint: str = "") -> float:
    """``float(value)`` if ``low <= value < high`` and finite, else :class:`ConfigError` naming the range."""
    try:
        v = float(value)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{name} must be a number in [{low}, {high}), got {value!r}") from err
    if not (np.isfinite(v) and low <= v < high):
        raise ConfigError(f"{name} must be in [{low}, {high}), got {value!r}{hint}")
    return v
