"""Krum and Multi-Krum: keep the update(s) closest to their nearest neighbours.

Blanchard, El Mhamdi, Guerraoui, Stainer, "Machine Learning with Adversaries: Byzantine Tolerant
Gradient Descent", NeurIPS 2017. With ``n`` updates of which at most ``f`` are Byzantine, each update's
score is the sum of squared distances to its ``n - f - 2`` nearest other updates. Krum returns the
update with the lowest score; Multi-Krum averages the ``m`` lowest-scoring ones (Flower's ``Krum`` /
``MultiKrum`` with ``num_malicious_nodes`` and ``num_nodes_to_select``). Updates with a NaN or infinite
entry are rejected before scoring.

Small buffers. Krum's guarantee needs ``n > 2f + 2``. With fewer usable updates the rules do not raise:
they score with the largest ``f`` the buffer supports, ``f' = max(0, (n - 3) // 2)``, so a buffer of 3 or
4 scores against 1 or 2 neighbours and a buffer of 1 or 2 (nothing to compare) gives the plain mean.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from dnt.errors import AggregationError, ConfigError
from dnt.fl.rules import ops
from dnt.fl.rules.base import AggregationRule
from dnt.fl.types import AggContext, Aggregated, Update

__all__ = ["Krum", "MultiKrum", "krum_scores"]

log = logging.getLogger(__name__)


def _check_int(name: str, value: int, low: int, hint: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}{hint}")
    return int(value)


def krum_scores(mat: np.ndarray, num_malicious: int) -> np.ndarray:
    """(n,) Krum score of each row: sum of squared distances to its ``n - f' - 2`` nearest other rows.

    ``f' = min(num_malicious, max(0, (n - 3) // 2))`` (the small-buffer fallback of the module docstring);
    with no neighbour to compare (``n <= 2``) every score is 0.
    """
    n = mat.shape[0]
    f = min(num_malicious, max(0, (n - 3) // 2))
    if f < num_malicious:
        log.debug("Krum: %d updates cannot tolerate f=%d (needs n > 2f+2); scoring with f=%d", n, num_malicious, f)
    m = max(n - f - 2, 0)
    if m == 0:
        return np.zeros(n)
    d2 = ops.pairwise_sq_distances(mat)
    np.fill_diagonal(d2, np.inf)
    return np.sort(d2, axis=1)[:, :m].sum(axis=1)


class MultiKrum(AggregationRule):
    """Multi-Krum: the plain mean of the ``num_selected`` updates with the lowest Krum scores.

    Parameters
    ----------
    num_malicious : ``f``, the number of Byzantine updates to tolerate (``>= 0``).
    num_selected : ``m``, updates averaged; ``None`` = ``n - f`` (all the updates Krum can vouch for),
        clipped to the number of usable updates.

    Notes
    -----
    Updates that tie with the ``m``-th best score are all selected, so the result does not depend on the
    order of the updates (identical updates are all kept). Selected updates share weight equally; the
    others get weight 0 but are not listed in ``rejected`` (only non-finite updates are).
    """

    name = "multikrum"

    def __init__(self, num_malicious: int = 1, num_selected: int | None = None) -> None:
        self.num_malicious = _check_int("num_malicious", num_malicious, 0, " (the attackers Krum tolerates)")
        self.num_selected = None if num_selected is None else _check_int(
            "num_selected", num_selected, 1, " (updates to average; None = n - num_malicious)")

    def _m(self, n: int) -> int:
        m = self.num_selected if self.num_selected is not None else n - self.num_malicious
        return min(max(m, 1), n)

    def aggregate(self, updates: Sequence[Update], ctx: AggContext) -> Aggregated:
        mat = ops.stack(updates)
        ok = ops.finite_rows(mat)
        if not ok.any():
            raise AggregationError(f"all {len(updates)} updates contain NaN/inf; nothing to aggregate")
        good = mat[ok]
        scores = krum_scores(good, self.num_malicious)
        cut = np.sort(scores)[self._m(good.shape[0]) - 1]
        chosen = scores <= cut + 1e-12 * abs(cut)
        w = np.zeros(len(updates))
        w[np.flatnonzero(ok)[chosen]] = 1.0 / chosen.sum()
        return Aggregated(ops.weighted_mean(mat[w > 0], w[w > 0]), w, tuple(int(i) for i in np.flatnonzero(~ok)))

    def summary(self) -> dict[str, Any]:
        return {"rule": self.name, "num_malicious": self.num_malicious, "num_selected": self.num_selected}


class Krum(MultiKrum):
    """Krum: the update with the lowest Krum score (Multi-Krum with ``m = 1``).

    Parameters
    ----------
    num_malicious : ``f``, the number of Byzantine updates to tolerate (``>= 0``).

    Notes
    -----
    Updates tied for the best score (e.g. identical ones) are averaged, for order independence.
    """

    name = "krum"

    def __init__(self, num_malicious: int = 1) -> None:
        super().__init__(num_malicious, 1)

    def summary(self) -> dict[str, Any]:
        return {"rule": self.name, "num_malicious": self.num_malicious}
