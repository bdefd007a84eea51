"""The poisoning-attack interface: fake clients that send crafted updates looking like benign ones.

An :class:`Attack` controls fake clients (fake base stations). Given what a fake client can see (the
model it was served, :class:`AttackContext`), it crafts one delta per fake client; :meth:`Attack.fakes`
wraps them in :class:`~dnt.fl.types.Update` objects with plausible client ids (unused Milan square ids),
sample counts and base versions, and :meth:`Attack.poison` adds them to a list of benign updates
(STYLE: ``poison(benign, ctx) -> updates``).

**Fraction of fake clients.** ``fraction`` ``f`` is the share of fake clients among *all* clients,
``f = M / (M + N)`` for ``N`` benign and ``M`` fake ones; so ``f = 0.2`` means 20 % of the clients are
fake (``M = N / 4``). :meth:`Attack.n_fake` turns it into a count: ``M = round(f * N / (1 - f))``,
halves rounded up. Attacks are deterministic given their ``seed`` (and the context).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from dnt.errors import ConfigError, DataError
from dnt.fl.types import Update

__all__ = ["Attack", "AttackContext", "fake_client_ids", "apportion"]

N_SQUARES = 10_000
"""Milan grid squares: fake ids are drawn from 1..10000 so they look like cell ids."""


@dataclass(frozen=True, eq=False)
class AttackContext:
    """What a fake client knows when it crafts an update (the minimal-knowledge threat model).

    Parameters
    ----------
    model : (D,) weights it was served (the current global or cluster twin, ``theta_t``).
    version : version of that model (the fakes claim it as ``base_version``: fresh, never stale).
    cluster : cluster twin it was served (copied into the fake updates), ``None`` = global.
    num_samples : sample count the fakes claim (plausible: :meth:`Attack.poison` uses the benign median).
    """

    model: np.ndarray
    version: int = 0
    cluster: int | None = None
    num_samples: int = 1

    def __post_init__(self) -> None:
        m = np.asarray(self.model, dtype=np.float32)
        if m.ndim != 1:
            raise DataError(f"attack context model must be a flat (D,) vector, got shape {m.shape}")
        object.__setattr__(self, "model", m)


def fake_client_ids(n: int, seed: int = 0, exclude: Iterable[str] = ()) -> list[str]:
    """``n`` stable, distinct ids of unused Milan squares (a fixed seeded order minus ``exclude``).

    Fake ``j`` gets the same id for the same ``seed`` and ``exclude``, whatever ``n`` is.
    """
    if n < 0:
        raise ConfigError(f"number of fake ids must be >= 0, got {n}")
    taken = {str(e) for e in exclude}
    order = np.random.default_rng([seed, 0xFA4E]).permutation(np.arange(1, N_SQUARES + 1))
    out = [s for s in (str(int(c)) for c in order) if s not in taken][:n]
    if len(out) < n:
        raise ConfigError(f"only {len(out)} unused square ids left for {n} fake clients")
    return out


def apportion(total: int, sizes: dict[int, int]) -> dict[int, int]:
    """Split ``total`` fake clients over groups (clusters) in proportion to ``sizes`` (largest remainder)."""
    keys = sorted(sizes)
    s = np.array([max(int(sizes[k]), 0) for k in keys], dtype=np.float64)
    if total <= 0 or s.sum() <= 0:
        return {k: 0 for k in keys}
    share = total * s / s.sum()
    base = np.floor(share).astype(int)
    order = np.argsort(-(share - base), kind="stable")
    for i in order[: total - int(base.sum())]:
        base[i] += 1
    return {k: int(b) for k, b in zip(keys, base, strict=True)}


class Attack(ABC):
    """Fake clients crafting poisoned updates.

    Parameters
    ----------
    fraction : share of fake clients among all clients, in [0, 1) (see the module docstring).
    seed : seeds the fake ids and any randomness of the attack.
    exclude_ids : client ids the fakes must not take (the benign clients' ids).
    """

    name: ClassVar[str] = "attack"

    def __init__(self, fraction: float = 0.2, seed: int = 0, exclude_ids: Iterable[str] = ()) -> None:
        if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0.0 <= fraction < 1.0:
            raise ConfigError(f"fraction of fake clients must be in [0, 1), got {fraction!r}")
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ConfigError(f"attack seed must be an integer >= 0, got {seed!r}")
        self.fraction = float(fraction)
        self.seed = int(seed)
        self.exclude_ids = tuple(str(e) for e in exclude_ids)
        self._ids: list[str] = []

    def n_fake(self, n_benign: int) -> int:
        """Fake clients that make up ``fraction`` of all clients beside ``n_benign`` benign ones."""
        if n_benign < 0:
            raise ConfigError(f"benign count must be >= 0, got {n_benign}")
        return int(math.floor(self.fraction * n_benign / (1.0 - self.fraction) + 0.5))

    def client_ids(self, n: int) -> list[str]:
        """Ids of fake clients ``0 .. n-1`` (stable across calls)."""
        if n > len(self._ids):
            self._ids = fake_client_ids(n, self.seed, self.exclude_ids)
        return self._ids[:n]

    @abstractmethod
    def deltas(self, ctx: AttackContext, indices: Sequence[int]) -> list[np.ndarray]:
        """The (D,) float32 delta each fake client in ``indices`` sends, given what it sees in ``ctx``."""

    def fakes(self, n: int, ctx: AttackContext, first: int = 0) -> list[Update]:
        """Updates of fake clients ``first .. first+n-1`` (ids, claimed samples, base version, cluster)."""
        if n < 0 or first < 0:
            raise ConfigError(f"fake client range must be >= 0, got first={first}, n={n}")
        if n == 0:
            return []
        idx = list(range(first, first + n))
        ids = self.client_ids(first + n)
        out = []
        for j, d in zip(idx, self.deltas(ctx, idx), strict=True):
            d = np.asarray(d, dtype=np.float32)
            if d.shape != ctx.model.shape:
                raise DataError(f"{self.name}: crafted delta of shape {d.shape} for a model of {ctx.model.shape}")
            out.append(Update(ids[j], d, max(int(ctx.num_samples), 1), int(ctx.version), ctx.cluster))
        return out

    def poison(self, benign: Sequence[Update], ctx: AttackContext) -> list[Update]:
        """``benign`` plus :meth:`n_fake` fake updates that claim the benign median sample count."""
        if benign:
            ctx = replace(ctx, num_samples=int(np.median([u.num_samples for u in benign])))
        return list(benign) + self.fakes(self.n_fake(len(benign)), ctx)

    def summary(self) -> dict[str, Any]:
        """The attack's name and settings (recorded with results)."""
        return {"attack": self.name, "fraction": self.fraction, "seed": self.seed}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.summary().items() if k != "attack")
        return f"{type(self).__name__}({args})"


def check_positive(name: str, value: float) -> float:
    """``value`` as a float if finite and > 0, else :class:`ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)
