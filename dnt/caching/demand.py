"""Request demand for the caching case study: a drifting Zipf-like catalogue, popularity shifts, flash crowds.

The *physical* network's demand (:class:`ZipfDemand`). Every client belongs to a home BS; the clients of
home BS ``b`` ("region" ``b``) request contents with probabilities

``p_b = (1 − α) · zipf(global ranking) + α · zipf(local ranking_b)``

(Zipf exponent ``s``; D-REC: "Zipf-like" popularity), so regions share the head of the catalogue but
differ in taste. The global ranking drifts:

* **slow rank drift** — each step ``drift_swaps`` random contents swap ranks with a content up to
  ``drift_span`` ranks away;
* **popularity shifts** (rare) — with probability ``p_shift`` per step, ``shift_size`` contents from the
  tail (ranks ≥ ``shift_from``) jump to the head (new viral content), and the former head contents drop
  to their ranks;
* **flash crowds** (rare) — with probability ``p_flash`` per step a random region's clients multiply their
  request rate by ``flash_rate`` for ``flash_steps`` steps, and send a share ``flash_share`` of their
  requests to ``flash_contents`` random contents; this is what overloads BSs.

Clients issue Poisson(``rate_u``) requests per step; ``rate_u`` is the config's base rate times the home
BS's intensity (BSs see different demand, hence load imbalance).

The same event mechanics (:func:`shift_popularity`, :class:`FlashCrowds`) are reused by the twin's
synthetic generator (:mod:`dnt.caching.twin`), which adds BS overload surges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dnt.errors import ConfigError

__all__ = ["DemandConfig", "ZipfDemand", "FlashCrowds", "zipf_weights", "shift_popularity", "sample_requests"]


@dataclass(frozen=True)
class DemandConfig:
    """The physical demand process (defaults used by the bench)."""

    zipf_s: float = 0.9
    """Zipf exponent of both the global and the local popularity."""
    local_mix: float = 0.3
    """α: weight of each region's own ranking in its popularity."""
    rate: float = 4.0
    """Mean requests per client per step (before the BS intensity)."""
    drift_swaps: int = 30
    """Rank swaps per step (slow drift)."""
    drift_span: int = 100
    """Largest rank distance of a drift swap."""
    p_shift: float = 0.03
    """Probability per step of a popularity shift."""
    shift_size: int = 30
    """Contents promoted to the head by a shift."""
    shift_from: int = 300
    """Promoted contents come from ranks ≥ this."""
    p_flash: float = 0.01
    """Probability per step that a flash crowd starts (in a random region)."""
    flash_steps: int = 8
    """Duration of a flash crowd (steps)."""
    flash_rate: float = 2.5
    """Request-rate multiplier of the region's clients during a flash crowd."""
    flash_share: float = 0.4
    """Share of the region's requests that go to the flash contents."""
    flash_contents: int = 5
    """Contents a flash crowd asks for."""

    def __post_init__(self) -> None:
        if not self.zipf_s > 0:
            raise ConfigError(f"zipf_s must be > 0, got {self.zipf_s!r}")
        if not 0.0 <= self.local_mix <= 1.0:
            raise ConfigError(f"local_mix must be in [0, 1], got {self.local_mix!r}")
        if not self.rate > 0:
            raise ConfigError(f"rate must be > 0, got {self.rate!r}")
        for name in ("p_shift", "p_flash", "flash_share"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ConfigError(f"{name} must be in [0, 1], got {v!r}")
        for name in ("drift_swaps", "shift_size", "flash_contents"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be ≥ 0, got {getattr(self, name)!r}")
        if self.drift_span < 1 or self.flash_steps < 1 or self.flash_rate < 1.0:
            raise ConfigError("drift_span and flash_steps must be ≥ 1 and flash_rate ≥ 1")


def zipf_weights(n: int, s: float) -> np.ndarray:
    """(n,) Zipf probabilities ``r^-s / Σ`` for ranks ``r = 1..n``."""
    w = np.arange(1, n + 1, dtype=np.float64) ** -float(s)
    return w / w.sum()


def shift_popularity(order: np.ndarray, rng: np.random.Generator, size: int, start: int) -> np.ndarray:
    """Popularity shift on a ranking ``order`` (rank → content): ``size`` contents from ranks ≥ ``start``
    swap places with the head ``size`` contents. Returns the promoted contents."""
    n = order.size
    size = min(size, start, n - start)
    if size <= 0:
        return np.empty(0, dtype=np.int64)
    tail = rng.choice(np.arange(start, n), size=size, replace=False)
    head = np.arange(size)
    promoted = order[tail].copy()
    order[tail], order[head] = order[head].copy(), promoted
    return promoted


class FlashCrowds:
    """Active flash crowds: per region, the steps left and the contents asked for."""

    def __init__(self, n_regions: int) -> None:
        self.left = np.zeros(n_regions, dtype=np.int64)
        self.contents: list[np.ndarray] = [np.empty(0, dtype=np.int64) for _ in range(n_regions)]

    def maybe_start(self, rng: np.random.Generator, p: float, steps: int, n_contents: int, catalogue: int) -> None:
        """With probability ``p`` start a flash crowd in a random idle region."""
        if rng.random() < p:
            b = int(rng.integers(self.left.size))
            if self.left[b] == 0:
                self.left[b] = steps
                self.contents[b] = rng.choice(catalogue, size=n_contents, replace=False)

    def tick(self) -> None:
        self.left = np.maximum(self.left - 1, 0)

    @property
    def active(self) -> np.ndarray:
        return self.left > 0


def sample_requests(rng: np.random.Generator, popularity: np.ndarray, client_home: np.ndarray,
                    client_rate: np.ndarray, flash: FlashCrowds | None = None, flash_rate: float = 1.0,
                    flash_share: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """One step of requests.

    Parameters
    ----------
    popularity : (B, N) per-region request probabilities (rows add up to 1).
    client_home : (U,) home region of each client.
    client_rate : (U,) mean requests per step of each client.
    flash : active flash crowds (``None``: none); their regions' rates are multiplied by ``flash_rate`` and
        a share ``flash_share`` of their requests go to the flash contents.

    Returns
    -------
    clients, contents : (R,) int64 arrays, one entry per request, in a random order.
    """
    rate = client_rate.astype(np.float64)
    if flash is not None:
        rate = rate * np.where(flash.active[client_home], flash_rate, 1.0)
    counts = rng.poisson(rate)
    clients = np.repeat(np.arange(client_home.size), counts)
    contents = np.empty(clients.size, dtype=np.int64)
    regions = client_home[clients]
    cdf = np.cumsum(popularity, axis=1)
    for b in range(popularity.shape[0]):
        idx = np.flatnonzero(regions == b)
        if idx.size == 0:
            continue
        draw = np.searchsorted(cdf[b], rng.random(idx.size) * cdf[b, -1], side="right")
        contents[idx] = np.minimum(draw, popularity.shape[1] - 1)
        if flash is not None and flash.active[b] and flash_share > 0:
            hot = rng.random(idx.size) < flash_share
            contents[idx[hot]] = rng.choice(flash.contents[b], size=int(hot.sum()))
    perm = rng.permutation(clients.size)
    return clients[perm], contents[perm]


class ZipfDemand:
    """The physical demand process (see the module docstring).

    Parameters
    ----------
    cfg : the process's settings.
    n_contents : catalogue size N.
    client_home : (U,) home BS of each client.
    client_rate : (U,) mean requests per step of each client (already scaled by the BS intensity).
    """

    def __init__(self, cfg: DemandConfig, n_contents: int, client_home: np.ndarray, client_rate: np.ndarray) -> None:
        self.cfg = cfg
        self.n = int(n_contents)
        self.client_home = np.asarray(client_home, dtype=np.int64)
        self.client_rate = np.asarray(client_rate, dtype=np.float64)
        self.n_regions = int(self.client_home.max()) + 1
        self.weights = zipf_weights(self.n, cfg.zipf_s)
        self.order = np.arange(self.n)
        self.local = np.zeros((self.n_regions, self.n))
        self.flash = FlashCrowds(self.n_regions)
        self.shifts = 0

    def reset(self, rng: np.random.Generator) -> None:
        """Draw fresh rankings (global and per region) and clear events."""
        self.order = rng.permutation(self.n)
        self.local = np.zeros((self.n_regions, self.n))
        for b in range(self.n_regions):
            self.local[b, rng.permutation(self.n)] = self.weights
        self.flash = FlashCrowds(self.n_regions)
        self.shifts = 0

    def popularity(self) -> np.ndarray:
        """(B, N) current request probabilities of each region's clients."""
        glob = np.empty(self.n)
        glob[self.order] = self.weights
        a = self.cfg.local_mix
        return (1.0 - a) * glob[None, :] + a * self.local

    def step(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Advance the popularity by one step (drift, events) and draw that step's requests."""
        c = self.cfg
        for _ in range(c.drift_swaps):
            r = int(rng.integers(self.n))
            r2 = int(np.clip(r + rng.integers(-c.drift_span, c.drift_span + 1), 0, self.n - 1))
            self.order[[r, r2]] = self.order[[r2, r]]
        if rng.random() < c.p_shift:
            shift_popularity(self.order, rng, c.shift_size, c.shift_from)
            self.shifts += 1
        self.flash.tick()
        self.flash.maybe_start(rng, c.p_flash, c.flash_steps, c.flash_contents, self.n)
        return sample_requests(rng, self.popularity(), self.client_home, self.client_rate, self.flash,
                               c.flash_rate, c.flash_share)
