"""Optional Gaussian differential privacy of client updates (clip, then add Gaussian noise).

The Gaussian mechanism (Dwork & Roth, "The Algorithmic Foundations of Differential Privacy", 2014,
Thm. A.1): releasing ``f(x) + N(0, s^2 I)`` for a function of L2 sensitivity ``S`` is
(epsilon, delta)-DP for ``s >= S * sqrt(2 ln(1.25/delta)) / epsilon``. Clipping every update to L2 norm
``C`` bounds the sensitivity to ``C``; the noise is then expressed as ``s = sigma * C`` with ``sigma``
the *noise multiplier*, as in DP-FedAvg (McMahan, Ramage, Talwar, Zhang, "Learning Differentially
Private Recurrent Language Models", ICLR 2018), whose moments accountant turns ``sigma``, the sampling
rate and the number of rounds into an overall (epsilon, delta). No accountant is included here: choose
``sigma`` with one (e.g. Opacus' or TF-Privacy's RDP accountant) for the cadence you run.

**Placement: per update, on the client (local DP).** DP-FedAvg clips each client's update and adds the
noise once, on the server, to the *sum* of the clipped updates (central DP: it trusts the server with the
raw updates). Here each twin worker calls :func:`clip_and_noise` on its own delta before signing and
sending it, so neither the network, the aggregator nor the SDL state ever hold a raw update (local DP: no
trusted aggregator, at the cost of ``sqrt(K)`` times more noise in a buffer of ``K`` updates than
central DP for the same per-update guarantee). The aggregator does not add noise; the robust rules
and the quarantine still see each (noised) update.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dnt.errors import ConfigError

__all__ = ["DPConfig", "clip", "clip_and_noise"]


@dataclass(frozen=True)
class DPConfig:
    """Settings of the Gaussian mechanism on one update.

    Parameters
    ----------
    clip_norm : ``C``, the largest L2 norm an update keeps (> 0).
    sigma : the noise multiplier: per-coordinate noise std is ``sigma * clip_norm`` (>= 0; 0 = clip only).
    """

    clip_norm: float
    sigma: float

    def __post_init__(self) -> None:
        if isinstance(self.clip_norm, bool) or not isinstance(self.clip_norm, int | float) \
                or not math.isfinite(self.clip_norm) or self.clip_norm <= 0:
            raise ConfigError(f"dp.clip_norm must be a finite number > 0, got {self.clip_norm!r}")
        if isinstance(self.sigma, bool) or not isinstance(self.sigma, int | float) \
                or not math.isfinite(self.sigma) or self.sigma < 0:
            raise ConfigError(f"dp.sigma must be a finite number >= 0, got {self.sigma!r}")

    @property
    def noise_std(self) -> float:
        """Per-coordinate standard deviation of the added noise, ``sigma * clip_norm``."""
        return float(self.sigma * self.clip_norm)

    def apply(self, delta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """:func:`clip_and_noise` with these settings."""
        return clip_and_noise(delta, self.clip_norm, self.sigma, rng)


def clip(delta: np.ndarray, clip_norm: float) -> np.ndarray:
    """``delta * min(1, clip_norm / ||delta||_2)`` as float32 (a copy)."""
    d = np.asarray(delta, dtype=np.float64)
    if not np.isfinite(d).all():
        raise ValueError("cannot clip an update with NaN/inf entries")
    norm = float(np.linalg.norm(d))
    if norm > clip_norm:
        d = d * (clip_norm / norm)
    return d.astype(np.float32)


def clip_and_noise(delta: np.ndarray, clip_norm: float, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Clip ``delta`` to L2 norm ``clip_norm``, then add ``N(0, (sigma * clip_norm)^2)`` to every coordinate.

    Parameters
    ----------
    delta : (D,) the client's update.
    clip_norm : ``C`` > 0.
    sigma : noise multiplier >= 0.
    rng : the noise source (``np.random.default_rng()`` in production: unseeded; seed it only in tests).

    Returns
    -------
    np.ndarray
        (D,) float32, a new array.
    """
    cfg = DPConfig(float(clip_norm), float(sigma))
    out = clip(delta, cfg.clip_norm).astype(np.float64)
    if cfg.sigma > 0:
        out = out + rng.normal(0.0, cfg.noise_std, size=out.shape)
    return out.astype(np.float32)
