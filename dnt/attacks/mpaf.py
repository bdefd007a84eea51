"""MPAF: model poisoning attack with fake clients.

Cao & Gong, "MPAF: Model Poisoning Attacks to Federated Learning based on Fake Clients", CVPR
Workshops 2022 (arXiv 2203.08669). The attacker picks a low-quality *base model* ``w'`` (a random
model) and, every round, each fake client sends the same update ``lambda * (w' - w_t)`` pointing from
the current global model ``w_t`` to ``w'``, scaled up by a large ``lambda`` (the paper: 1e6). Because
every fake sends the same vector, coordinate-wise statistics (median, trimmed mean) are dragged too
once the fakes are numerous enough.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from dnt.attacks.base import Attack, AttackContext, check_positive
from dnt.errors import DataError

__all__ = ["MPAF"]


class MPAF(Attack):
    """Fake clients that all send ``scale * (base - model)``.

    Parameters
    ----------
    fraction : share of fake clients among all clients (see :mod:`dnt.attacks.base`).
    scale : ``lambda``, the scale-up of the update (MPAF's default 1e6).
    base : (D,) the attacker's base model ``w'``; ``None`` = a random model, ``N(0, base_std^2)`` per
        weight from ``seed`` (drawn at the first call, for the served model's size).
    base_std : standard deviation of that random base model.
    seed, exclude_ids : see :class:`~dnt.attacks.base.Attack`.
    """

    name = "mpaf"

    def __init__(self, fraction: float = 0.2, scale: float = 1e6, base: np.ndarray | None = None,
                 base_std: float = 0.1, seed: int = 0, exclude_ids: Iterable[str] = ()) -> None:
        super().__init__(fraction, seed, exclude_ids)
        self.scale = check_positive("MPAF scale", scale)
        self.base_std = check_positive("MPAF base_std", base_std)
        self.base = None if base is None else np.asarray(base, dtype=np.float32).reshape(-1).copy()

    def base_model(self, size: int) -> np.ndarray:
        """The base model ``w'`` (drawn once from ``seed`` when none was given)."""
        if self.base is None:
            self.base = np.random.default_rng([self.seed, 0x3AF]).normal(0.0, self.base_std, size).astype(np.float32)
        if self.base.size != size:
            raise DataError(f"MPAF base model has {self.base.size} weights, the served model {size}")
        return self.base

    def deltas(self, ctx: AttackContext, indices: Sequence[int]) -> list[np.ndarray]:
        w = ctx.model.astype(np.float64)
        d = (self.scale * (self.base_model(w.size).astype(np.float64) - w)).astype(np.float32)
        return [d.copy() for _ in indices]  # every fake sends the same vector

    def summary(self) -> dict[str, Any]:
        return {**super().summary(), "scale": self.scale, "base": "given" if self.base is not None else "random",
                "base_std": self.base_std}
