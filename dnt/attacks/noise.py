"""Gaussian-noise fake clients: each fake sends ``N(0, sigma^2)`` per weight (a baseline attack).

The noise of fake ``j`` in a round depends only on (seed, served version, cluster, j), so a run is
reproducible and different fakes send different vectors.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from dnt.attacks.base import Attack, AttackContext, check_positive

__all__ = ["Noise"]


class Noise(Attack):
    """Fake clients sending Gaussian noise.

    Parameters
    ----------
    fraction : share of fake clients among all clients.
    sigma : standard deviation of every weight of the noise update.
    seed, exclude_ids : see :class:`~dnt.attacks.base.Attack`.
    """

    name = "noise"

    def __init__(self, fraction: float = 0.2, sigma: float = 1.0, seed: int = 0,
                 exclude_ids: Iterable[str] = ()) -> None:
        super().__init__(fraction, seed, exclude_ids)
        self.sigma = check_positive("Noise sigma", sigma)

    def deltas(self, ctx: AttackContext, indices: Sequence[int]) -> list[np.ndarray]:
        cl = -1 if ctx.cluster is None else int(ctx.cluster)
        return [np.random.default_rng([self.seed, int(ctx.version), cl + 1, int(j)])
                .normal(0.0, self.sigma, ctx.model.size).astype(np.float32) for j in indices]

    def summary(self) -> dict[str, Any]:
        return {**super().summary(), "sigma": self.sigma}
