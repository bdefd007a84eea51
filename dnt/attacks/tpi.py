"""TPI (traffic poisoning injection), the survey's name for FTI (fake traffic injection).

Zhang, Fang, Huang, Liu, "Poisoning Attacks on Federated Learning-based Wireless Traffic Prediction",
IFIP Networking 2024 (arXiv 2404.14389); renamed TPI in Zhang et al., "Digital Network Twins for
Next-Generation Wireless" (arXiv 2410.18002). The paper's equations were not available; this is the
project's reconstruction (``/work/shared/reference/algorithms.md`` §2.4). Fake base stations know only
the initial and the current global model (``theta_0``, ``theta_t``), not the rule, the benign models or
the benign data. Each fake BS

1. fabricates traffic ``D~`` (:func:`fabricate_series`),
2. trains a base model ``theta^`` on it, starting from ``theta_0`` (:func:`train_base_model`; once, so it
   needs nothing but ``theta_0``),
3. uploads ``theta_t + eta * (theta^ - theta_t)``, i.e. the update ``delta = eta * (theta^ - theta_t)``.

``eta = 1`` is a plain "fake data" client; a large ``eta`` scales the pull like MPAF, but towards a
model of traffic-like data rather than a random model.

**Fabricated traffic** (z-units, one row per fake cell; a plausible urban internet day ``p(h)``: night
low around 2-4 h, a daytime plateau peaking early afternoon and an evening peak around 21 h, zero mean
and unit variance; per cell a random phase of +-1 h, amplitude 0.8-1.2 and small noise):

* ``"antiphase"`` (default): ``x(t) = a * p(h(t)) * cos(pi * t / day)``: every day is the mirror image of
  the day before, ``x(t - day) = -x(t)``. A model fit to it learns to forecast *against* the daily lag,
  the strongest input of real traffic, so on real cells it predicts roughly ``-y``.
* ``"inverted"``: ``x(t) = -a * p(h(t))``: a night-peaking, daytime-low profile, the same every day.
* ``"flat"``: a constant level plus the noise (a model that learns "nothing ever changes").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from dnt.attacks.base import Attack, AttackContext, check_positive
from dnt.data.windows import Split, window_inputs
from dnt.errors import ConfigError, DataError
from dnt.fl.local import LocalTrainer

__all__ = ["TPI", "FTI", "FABRICATIONS", "daily_profile", "fabricate_series", "fabricated_windows",
           "train_base_model"]

FABRICATIONS = ("antiphase", "inverted", "flat")
"""The fabricated-traffic modes of :func:`fabricate_series`."""


def daily_profile(hours: np.ndarray) -> np.ndarray:
    """A plausible urban internet day in z-units at ``hours`` (0-24, wraps): zero mean, unit variance."""
    def shape(h: np.ndarray) -> np.ndarray:
        def bump(mu: float, s: float) -> np.ndarray:
            d = (h - mu + 12.0) % 24.0 - 12.0
            return np.asarray(np.exp(-0.5 * (d / s) ** 2))
        return 1.0 * bump(13.0, 4.5) + 0.7 * bump(21.0, 2.0)

    ref = shape(np.asarray(hours, dtype=np.float64))
    g = shape(np.arange(0.0, 24.0, 0.1))
    return np.asarray((ref - g.mean()) / g.std())


def fabricate_series(n_series: int, days: int, steps_per_day: int = 144, mode: str = "antiphase",
                     seed: int = 0, noise: float = 0.05) -> np.ndarray:
    """(n_series, days * steps_per_day) float32 fabricated traffic in z-units (see the module docstring)."""
    if mode not in FABRICATIONS:
        raise ConfigError(f"fabrication mode must be one of {FABRICATIONS}, got {mode!r}")
    if n_series < 1 or days < 1 or steps_per_day < 1:
        raise ConfigError("fabricate_series needs n_series, days and steps_per_day >= 1")
    if not noise >= 0:
        raise ConfigError(f"noise must be >= 0, got {noise!r}")
    rng = np.random.default_rng([seed, 0x7E1])
    t = np.arange(days * steps_per_day, dtype=np.float64)
    out = np.empty((n_series, t.size), dtype=np.float32)
    for i in range(n_series):
        phase_h, amp = rng.uniform(-1.0, 1.0), rng.uniform(0.8, 1.2)
        p = daily_profile(24.0 * (t % steps_per_day) / steps_per_day + phase_h)
        if mode == "antiphase":
            x = amp * p * np.cos(np.pi * t / steps_per_day)
        elif mode == "inverted":
            x = -amp * p
        else:
            x = np.full_like(t, rng.uniform(-0.5, 0.5))
        out[i] = x + rng.normal(0.0, noise, t.size)
    return out


def fabricated_windows(series: np.ndarray, closeness: int, period: int, period_steps: int, horizon: int) -> Split:
    """Every complete window of the fabricated ``series`` ((C, T) z-units), in :class:`Split` form."""
    z = np.atleast_2d(np.asarray(series, dtype=np.float32))
    lookback = max(closeness, period * period_steps)
    starts = np.arange(lookback, z.shape[1] - horizon + 1, dtype=np.int64)
    if starts.size == 0:
        raise DataError(f"fabricated series of {z.shape[1]} steps is too short for lookback {lookback} + "
                        f"horizon {horizon}")
    tgt = np.arange(horizon)
    parts = []
    for c in range(z.shape[0]):
        xc, xp = window_inputs(z[c], starts, closeness, period, period_steps, horizon)
        parts.append((xc, xp, z[c][starts[:, None] + tgt[None, :]], np.full(starts.size, c, dtype=np.int64), starts))
    return Split(*(np.concatenate([p[i] for p in parts]) for i in range(5)))


def train_base_model(init: np.ndarray, fabricated: Split, trainer: LocalTrainer, seed: int = 0) -> np.ndarray:
    """``theta^``: the trainer's local training from ``init`` on the fabricated windows (weights, (D,))."""
    init = np.asarray(init, dtype=np.float32)
    res = trainer.train(init, fabricated, client_id="tpi-base", base_version=0, seed=seed)
    return init + res.update.delta


class TPI(Attack):
    """Fake BSs uploading ``eta * (theta^ - theta_t)`` towards models of fabricated traffic.

    Parameters
    ----------
    bases : one (D,) base model ``theta^`` or several (fake ``j`` uses ``bases[j % len(bases)]``), e.g.
        from :meth:`from_fabricated`.
    fraction : share of fake clients among all clients (see :mod:`dnt.attacks.base`).
    eta : the scaling factor ``eta`` (attack strength).
    seed, exclude_ids : see :class:`~dnt.attacks.base.Attack`.
    """

    name = "tpi"

    def __init__(self, bases: np.ndarray | Sequence[np.ndarray], fraction: float = 0.2, eta: float = 10.0,
                 seed: int = 0, exclude_ids: Iterable[str] = ()) -> None:
        super().__init__(fraction, seed, exclude_ids)
        self.eta = check_positive("TPI eta", eta)
        arr = [np.asarray(b, dtype=np.float32).reshape(-1) for b in
               ([bases] if isinstance(bases, np.ndarray) and np.ndim(bases) == 1 else bases)]
        if not arr or len({b.size for b in arr}) != 1:
            raise ConfigError("TPI needs at least one base model, all of one size")
        self.bases = [b.copy() for b in arr]
        self.mode = "given"

    @classmethod
    def from_fabricated(cls, init: np.ndarray, trainer: LocalTrainer, *, closeness: int, period: int,
                        period_steps: int, horizon: int, n_bases: int = 1, cells_per_base: int = 3, days: int = 7,
                        mode: str = "antiphase", fraction: float = 0.2, eta: float = 10.0, seed: int = 0,
                        exclude_ids: Iterable[str] = ()) -> TPI:
        """Fabricate traffic and train ``n_bases`` base models from ``init`` (= ``theta_0``) with ``trainer``.

        Base ``b`` is trained on ``cells_per_base`` fabricated cells of ``days`` days (``period_steps`` steps
        per day), windowed like the twin (``closeness``, ``period``, ``horizon``).
        """
        if n_bases < 1 or cells_per_base < 1:
            raise ConfigError("TPI needs n_bases >= 1 and cells_per_base >= 1")
        bases = []
        for b in range(n_bases):
            series = fabricate_series(cells_per_base, days, period_steps, mode, seed=seed * 1000 + b)
            win = fabricated_windows(series, closeness, period, period_steps, horizon)
            bases.append(train_base_model(init, win, trainer, seed=seed * 1000 + b))
        atk = cls(bases, fraction, eta, seed, exclude_ids)
        atk.mode = mode
        return atk

    def deltas(self, ctx: AttackContext, indices: Sequence[int]) -> list[np.ndarray]:
        w = ctx.model.astype(np.float64)
        if w.size != self.bases[0].size:
            raise DataError(f"TPI base model has {self.bases[0].size} weights, the served model {w.size}")
        return [(self.eta * (self.bases[j % len(self.bases)].astype(np.float64) - w)).astype(np.float32)
                for j in indices]

    def summary(self) -> dict[str, Any]:
        return {**super().summary(), "eta": self.eta, "bases": len(self.bases), "fabrication": self.mode}


FTI = TPI
"""The conference paper's name for :class:`TPI`."""
