"""``CacheEnv``: cooperative edge caching over overlapping BSs (the survey's D-REC case study setup).

Setup (survey §case study 2; Zhang et al., "Digital Twin-Assisted Data-Driven Optimization for Reliable
Edge Caching in Wireless Networks", IEEE JSAC 2024, arXiv 2407.00286): 5 BSs × 150 cache slots, 8 clients
per BS, a client served by up to two BSs (:mod:`dnt.caching.topology`), a 2,000-content catalogue with
drifting Zipf-like popularity (:mod:`dnt.caching.demand`).

**Step.** The action decides the caches used during the step; then the step's requests arrive and are
served:

* a request is a **hit** when one of its client's covering BSs caches the content — no BS reads another's
  cache, so a content cached only at a BS that does not cover the client is a miss;
* **routing**: a request that only one covering BS can serve goes to it; one that both can serve goes to
  the *less loaded* of the two at that moment (single-choice requests are placed first; ties → home BS);
* **load cap**: a BS serves at most ``load_cap`` requests per step. Hit demand above the cap is an
  **overload**: the BS then serves ``cap · max(½, 1 − κ·(demand − cap)/cap)`` requests (κ =
  ``overload_collapse``; a congested BS's throughput degrades) and the rest are misses.

**Action** — ``Box(-1, 1, (B, 5))``, per BS a scoring rule (all features per content, from the requests
the BS's covered clients made):

====  ==========================================================================  =====================
 a_k   feature f_k                                                                  weight
====  ==========================================================================  =====================
 0     short-term request rate (EWMA, ``ewma_short``), / its max                    w = max(0, a) ∈ [0, 1]
 1     long-term request rate (EWMA, ``ewma_long``), / its max                      w = max(0, a) ∈ [0, 1]
 2     short-term rate from shared (edge) clients if a neighbour caches it          w = a ∈ [−1, 1]
 3     requested in the last step (recency)                                         w = (a+1)/2 · ½
 4     cache fill: the BS fills ``round(fill · slots)`` slots                        fill = 1 − 0.3·max(0, −a)
====  ==========================================================================  =====================

The BS caches the top-``fill·slots`` contents by ``Σ w_k f_k`` (plus 1e-3 for contents already cached,
so ties keep the cache). With ``a = 0`` this is a recency-only rule (a one-step LRU with arbitrary
eviction among the rest, the naive rule the bench's PPO starts near); ``a = (½, ½, 0, 0, 0)`` is the
hand-designed LFU/LRU blend filling every slot. The request-rate weights are ``max(0, a)`` rather than
``(a+1)/2``: only the *ranking* matters (top-k), so any positive rate weight, however small, fills the slots
recency leaves by request rate; with a linear map the naive rule is a single point on the box's edge
(an untrained policy's small offsets already leave it), with ``max(0, a)`` it is a whole region. Every system is
bound by the same backhaul budget: at most ``max_replacements`` new contents per BS per step, the
highest-scored first (:meth:`limit_replacements`). :meth:`step_caches`
takes explicit caches instead (the LRU/LFU/Belady baselines).

**Observation** — ``Box(0, 10, (B·F,))``, per BS: covered requests last step / cap, local hit share,
share of the short-term demand the cache covers, share of last step's covered requests for uncached
contents, cache overlap with the neighbours; with ``load_features`` (the reliability *state module*)
also served load / cap, hit demand / cap, predicted next load / cap and the load imbalance.

**Reward** — the step's hit rate (hits / requests). **Episode end** — truncation after ``episode_steps``.

**Shield** — an optional :class:`~dnt.caching.shield.LoadShield` sits between the scoring rule and the
caches; ``shield_mode="enforce"`` applies it (an *intervention* per BS whose cache it changed),
``"audit"`` only counts where it would have intervened (a risk measure for unshielded systems).

``info``: ``hits``, ``requests``, ``load`` (B,) served, ``demand`` (B,) hit demand, ``overload`` (B,),
``imbalance`` (coefficient of variation of ``load``), ``bs_hit_rate`` (B,) local hit shares (the per-BS
rewards of a parameter-shared learner), ``intervened`` (B,), ``would_intervene`` (B,),
``requests_log`` ((clients, contents) of the step).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from dnt.caching.demand import DemandConfig, ZipfDemand
from dnt.caching.topology import Topology, ring_topology
from dnt.errors import ConfigError

__all__ = ["CacheConfig", "CacheEnv", "DemandSource", "BASIC_FEATURES", "LOAD_FEATURES", "ACTION_DIM"]

BASIC_FEATURES = ("covered_requests", "local_hit_share", "cache_coverage", "novelty", "neighbour_overlap")
LOAD_FEATURES = ("load", "hit_demand", "predicted_load", "imbalance")
ACTION_DIM = 5
OBS_HIGH = 10.0
HISTORY = 64
"""Steps of per-region request counts kept for a ``load_model`` (the twin's longest scale)."""


class DemandSource(Protocol):
    """Where requests come from: the physical process or the twin's generator."""

    def reset(self, rng: np.random.Generator) -> None: ...

    def step(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class CacheConfig:
    """The caching network (defaults: the survey's setup)."""

    n_bs: int = 5
    """BSs B."""
    slots: int = 150
    """Cache slots per BS."""
    clients_per_bs: int = 8
    """Clients homed at each BS."""
    shared_per_bs: int = 4
    """Of those, clients also covered by the next BS on the ring."""
    n_contents: int = 2000
    """Catalogue size N."""
    intensity: tuple[float, ...] = (1.4, 1.2, 1.0, 0.8, 0.6)
    """Per-BS multiplier of its clients' request rate (cycled when shorter than ``n_bs``)."""
    load_cap: float = 22.0
    """Requests a BS can serve per step."""
    overload_collapse: float = 0.5
    """κ: throughput degradation of an overloaded BS (0 = it just serves ``load_cap``)."""
    episode_steps: int = 200
    """Steps per episode."""
    warmup_steps: int = 20
    """Steps of requests observed (nothing cached) at reset, so the rate estimates start warm."""
    max_replacements: int = 15
    """Contents a BS can fetch into its cache per step (backhaul budget; 10 % of the slots)."""
    lookahead_steps: int = 10
    """Steps of future requests drawn in advance (only the Belady oracle reads them)."""
    ewma_short: float = 0.3
    """Smoothing of the short-term request rates."""
    ewma_long: float = 0.03
    """Smoothing of the long-term request rates."""
    ewma_group: float = 0.1
    """Smoothing of the per-client-group rates behind the load prediction (slower than ``ewma_short``: the
    contents a rule caches are those whose short-term rate is high by chance, so a prediction from the same
    estimate is biased upwards)."""
    load_features: bool = False
    """Append the load features to the observation (the reliability state module)."""
    demand: DemandConfig = field(default_factory=DemandConfig)
    """The physical demand process."""

    def __post_init__(self) -> None:
        if self.n_bs < 1 or self.slots < 1 or self.n_contents < 2:
            raise ConfigError("need n_bs ≥ 1, slots ≥ 1 and n_contents ≥ 2")
        if self.slots > self.n_contents:
            raise ConfigError(f"slots ({self.slots}) must be ≤ n_contents ({self.n_contents})")
        if not self.load_cap > 0 or self.overload_collapse < 0:
            raise ConfigError("load_cap must be > 0 and overload_collapse ≥ 0")
        if self.episode_steps < 1 or self.warmup_steps < 0:
            raise ConfigError("episode_steps must be ≥ 1 and warmup_steps ≥ 0")
        if self.max_replacements < 1 or self.lookahead_steps < 1:
            raise ConfigError("max_replacements and lookahead_steps must be ≥ 1")
        if not all(0 < x <= 1 for x in (self.ewma_short, self.ewma_long, self.ewma_group)):
            raise ConfigError("EWMA factors must be in (0, 1]")
        if not self.intensity or min(self.intensity) <= 0:
            raise ConfigError("intensity needs positive values")

    @property
    def n_features(self) -> int:
        return len(BASIC_FEATURES) + (len(LOAD_FEATURES) if self.load_features else 0)

    def topology(self) -> Topology:
        return ring_topology(self.n_bs, self.clients_per_bs, self.shared_per_bs)

    def client_rates(self, topo: Topology) -> np.ndarray:
        inten = np.resize(np.asarray(self.intensity, dtype=np.float64), self.n_bs)
        return self.demand.rate * inten[topo.client_home]

    def physical_demand(self, topo: Topology | None = None) -> ZipfDemand:
        """The physical network's demand process (``demand`` over this network's clients)."""
        topo = topo or self.topology()
        return ZipfDemand(self.demand, self.n_contents, topo.client_home, self.client_rates(topo))


class CacheEnv(gym.Env[np.ndarray, np.ndarray]):
    """Edge caching environment; see the module docstring.

    Parameters
    ----------
    cfg : the network.
    demand : request source (default: :class:`~dnt.caching.demand.ZipfDemand` from ``cfg.demand``).
    shield : optional load shield (``filter(env, proposal) -> (caches, vetoed)``).
    shield_mode : ``"enforce"`` or ``"audit"``.
    load_model : optional request-count forecaster (``predict(history (64, B·N)) -> (B·N,)``, e.g. the
        caching twin :class:`~dnt.caching.twin.ARTwin`) behind :meth:`predicted_load` — the twin as a
        safeguard's predictor; default: the per-group EWMA rates.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, cfg: CacheConfig | None = None, demand: DemandSource | None = None,
                 shield: Any = None, shield_mode: str = "enforce", load_model: Any = None) -> None:
        self.cfg = cfg or CacheConfig()
        if shield_mode not in ("enforce", "audit"):
            raise ConfigError(f"shield_mode must be 'enforce' or 'audit', got {shield_mode!r}")
        self.topo = self.cfg.topology()
        self.client_rate = self.cfg.client_rates(self.topo)
        self.demand = demand if demand is not None else self.cfg.physical_demand(self.topo)
        self.shield, self.shield_mode = shield, shield_mode
        self.load_model = load_model
        B, N = self.cfg.n_bs, self.cfg.n_contents
        homes = self.topo.group_cover[:, 0]
        sizes = np.bincount(self.topo.client_group, minlength=homes.size)
        self._group_home = homes
        self._group_share = sizes / np.bincount(self.topo.client_home, minlength=B)[homes]
        self.observation_space = gym.spaces.Box(0.0, OBS_HIGH, (B * self.cfg.n_features,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (B, ACTION_DIM), np.float32)
        self._nbrs = [self.topo.neighbours(b) for b in range(B)]
        self._shared_client = self.topo.client_cover[:, 1] >= 0
        self.cached = np.zeros((B, N), dtype=bool)
        self._zero_state()

    # ----------------------------------------------------------------------------------------------- state
    def _zero_state(self) -> None:
        B, N, G = self.cfg.n_bs, self.cfg.n_contents, self.topo.group_cover.shape[0]
        self.short = np.zeros((B, N))
        self.long = np.zeros((B, N))
        self.edge_short = np.zeros((B, N))
        self.group_short = np.zeros((G, N))
        self.group_demand = self.group_short
        self.region_hist = np.zeros((HISTORY, B, N)) if self.load_model is not None else None
        self.last_req = np.zeros((B, N), dtype=bool)
        self.last_counts = np.zeros((B, N))
        self.last_load = np.zeros(B)
        self.last_demand = np.zeros(B)
        self.last_served_share = np.zeros(B)
        self.last_imbalance = 0.0
        self.load_calib = np.full(B, 0.7)
        self.t = 0

    def _observe_requests(self, clients: np.ndarray, contents: np.ndarray) -> None:
        """Update the per-BS and per-group request-rate estimates with one step's requests."""
        B, N = self.cfg.n_bs, self.cfg.n_contents
        G = self.topo.group_cover.shape[0]
        cover = self.topo.client_cover[clients]
        counts = np.zeros((B, N))
        edge = np.zeros((B, N))
        shared = self._shared_client[clients]
        for j in range(2):
            ok = cover[:, j] >= 0
            flat = cover[ok, j] * N + contents[ok]
            counts += np.bincount(flat, minlength=B * N).reshape(B, N)
            fe = cover[ok & shared, j] * N + contents[ok & shared]
            edge += np.bincount(fe, minlength=B * N).reshape(B, N)
        gflat = self.topo.client_group[clients] * N + contents
        gcounts = np.bincount(gflat, minlength=G * N).reshape(G, N)
        a, al = self.cfg.ewma_short, self.cfg.ewma_long
        self.short += a * (counts - self.short)
        self.edge_short += a * (edge - self.edge_short)
        self.group_short += self.cfg.ewma_group * (gcounts - self.group_short)
        self.long += al * (counts - self.long)
        self.last_req = counts > 0
        self.last_counts = counts
        self.group_demand = self.group_short
        if self.region_hist is not None:
            region = np.bincount(self.topo.client_home[clients] * N + contents, minlength=B * N).reshape(B, N)
            self.region_hist = np.concatenate([self.region_hist[1:], region[None]], axis=0)
            self._refresh_forecast()

    def _refresh_forecast(self) -> None:
        """Group demand from the load model's forecast of each region's next counts (split by group size)."""
        B, N = self.cfg.n_bs, self.cfg.n_contents
        f = np.asarray(self.load_model.predict(self.region_hist.reshape(HISTORY, -1))).reshape(B, N)
        self.group_demand = f[self._group_home] * self._group_share[:, None]

    def neighbour_cached(self, caches: np.ndarray) -> np.ndarray:
        """(B, N) bool: some BS sharing clients with ``b`` caches the content."""
        out = np.zeros_like(caches)
        for b, nb in enumerate(self._nbrs):
            if nb:
                out[b] = caches[nb].any(axis=0)
        return out

    def predicted_load(self, caches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Expected hit demand per BS for ``caches`` and the (B, N) per-content contributions.

        From the per-client-group rate estimates (``ewma_group``), or the ``load_model``'s forecast; a
        content both covering BSs cache is split evenly. The contents a rule caches are partly ones
        requested by chance (their estimate is biased upwards), so each BS's prediction is scaled by
        ``load_calib``, an EWMA (factor 0.1) of the observed hit demand over the prediction for the caches
        actually used."""
        contrib = np.zeros(caches.shape)
        for g, (b1, b2) in enumerate(self.topo.group_cover):
            d = self.group_demand[g]
            if b2 < 0:
                contrib[b1] += d * caches[b1]
                continue
            both = caches[b1] & caches[b2]
            contrib[b1] += d * np.where(both, 0.5, caches[b1])
            contrib[b2] += d * np.where(both, 0.5, caches[b2])
        contrib *= self.load_calib[:, None]
        return contrib.sum(axis=1), contrib

    # ---------------------------------------------------------------------------------------------- action
    def decode(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, N) bool caches that the scoring-rule ``action`` (B, 5) selects, and the (B, N) scores."""
        B, N, S = self.cfg.n_bs, self.cfg.n_contents, self.cfg.slots
        a = np.clip(np.nan_to_num(np.asarray(action, dtype=np.float64).reshape(B, ACTION_DIM)), -1.0, 1.0)
        nbc = self.neighbour_cached(self.cached)
        caches = np.zeros((B, N), dtype=bool)
        scores = np.zeros((B, N))
        for b in range(B):
            scale = max(self.short[b].max(), 1e-9)
            scores[b] = (max(0.0, a[b, 0]) * self.short[b] / scale
                         + max(0.0, a[b, 1]) * self.long[b] / max(self.long[b].max(), 1e-9)
                         + a[b, 2] * nbc[b] * self.edge_short[b] / scale
                         + (a[b, 3] + 1) / 4 * self.last_req[b]
                         + 1e-3 * self.cached[b])
            k = int(round(S * (1.0 - 0.3 * max(0.0, -a[b, 4]))))
            caches[b, np.argpartition(-scores[b], k - 1)[:k]] = True
        return caches, scores

    def limit_replacements(self, proposal: np.ndarray, priority: np.ndarray) -> np.ndarray:
        """Apply the backhaul budget: at most ``max_replacements`` new contents per BS (highest priority
        first); slots the proposal freed but could not refill keep their old contents (highest priority)."""
        out = proposal.copy()
        M = self.cfg.max_replacements
        for b in range(self.cfg.n_bs):
            new = np.flatnonzero(proposal[b] & ~self.cached[b])
            if new.size <= M:
                continue
            drop = new[np.argsort(-priority[b, new], kind="stable")[M:]]
            out[b, drop] = False
            dropped_old = np.flatnonzero(self.cached[b] & ~proposal[b])
            keep = dropped_old[np.argsort(-priority[b, dropped_old], kind="stable")[:drop.size]]
            out[b, keep] = True
        return out

    # ------------------------------------------------------------------------------------------------- API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.demand.reset(self.np_random)
        self._zero_state()
        self.cached = np.zeros((self.cfg.n_bs, self.cfg.n_contents), dtype=bool)
        self.warmup_log = [self.demand.step(self.np_random) for _ in range(self.cfg.warmup_steps)]
        for req in self.warmup_log:
            self._observe_requests(*req)
        w = min(self.cfg.warmup_steps, HISTORY)
        if self.region_hist is not None and 0 < w < HISTORY:  # pad the forecaster's window with the warmup mean
            self.region_hist[:HISTORY - w] = self.region_hist[HISTORY - w:].mean(axis=0)
            self._refresh_forecast()
        self.future = [self.demand.step(self.np_random) for _ in range(self.cfg.lookahead_steps)]
        return self._obs(), {}

    @property
    def next_requests(self) -> tuple[np.ndarray, np.ndarray]:
        """(clients, contents) of the coming step (hidden from the agent; the oracle reads ``future``)."""
        return self.future[0]

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        return self.step_caches(*self.decode(action))

    def step_caches(self, caches: np.ndarray, priority: np.ndarray | None = None
                    ) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Serve the next step's requests with explicit (B, N) bool caches (each ≤ ``slots`` contents);
        ``priority`` (B, N) orders new contents for the replacement budget (default: content index)."""
        proposal = np.asarray(caches, dtype=bool)
        if proposal.shape != self.cached.shape or int(proposal.sum(axis=1).max()) > self.cfg.slots:
            raise ConfigError(f"caches must be (B, N) = {self.cached.shape} with ≤ {self.cfg.slots} per BS")
        B = self.cfg.n_bs
        prio = np.zeros(proposal.shape) if priority is None else np.asarray(priority, dtype=np.float64)
        proposal = self.limit_replacements(proposal, prio)
        intervened = np.zeros(B, dtype=bool)
        would = np.zeros(B, dtype=bool)
        if self.shield is not None:
            safe, vetoed = self.shield.filter(self, proposal)
            if self.shield_mode == "enforce":
                proposal, intervened = safe, vetoed
            else:
                would = vetoed
        self.cached = proposal
        pred, _ = self.predicted_load(proposal)
        clients, contents = self.next_requests
        hits, load, demand, bs_hit = self.serve(clients, contents)
        raw = pred / self.load_calib
        ok = raw > 1.0
        self.load_calib[ok] += 0.1 * (np.clip(demand[ok] / raw[ok], 0.2, 2.0) - self.load_calib[ok])
        R = int(clients.size)
        self._observe_requests(clients, contents)
        covered = self.last_counts.sum(axis=1)
        self.last_served_share = load / np.maximum(covered, 1.0)
        self.last_load, self.last_demand = load, demand
        self.last_imbalance = float(load.std() / max(load.mean(), 1e-9))
        self.t += 1
        info = {"hits": hits, "requests": R, "load": load, "demand": demand,
                "overload": demand > self.cfg.load_cap, "imbalance": self.last_imbalance, "bs_hit_rate": bs_hit,
                "intervened": intervened, "would_intervene": would, "requests_log": (clients, contents)}
        self.future = self.future[1:] + [self.demand.step(self.np_random)]
        truncated = self.t >= self.cfg.episode_steps
        return self._obs(), hits / max(R, 1), False, truncated, info

    def serve(self, clients: np.ndarray, contents: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """Route requests to covering BSs that cache the content and apply the load cap.

        Returns hits, served load (B,), hit demand (B,) (before the cap) and each BS's local hit share
        (B,): of the requests its clients made, the expected share served by a covering BS (a request
        routed to an overloaded BS counts with that BS's served/demand ratio)."""
        B = self.cfg.n_bs
        cover = self.topo.client_cover[clients]
        has = np.zeros(cover.shape, dtype=bool)
        for j in range(2):
            ok = cover[:, j] >= 0
            has[ok, j] = self.cached[cover[ok, j], contents[ok]]
        target = np.where(has[:, 0], cover[:, 0], np.where(has[:, 1], cover[:, 1], -1))
        single = has.sum(axis=1) == 1
        demand = np.bincount(target[single], minlength=B).astype(np.float64)
        for i in np.flatnonzero(has.all(axis=1)):  # both covering BSs can serve: the less loaded one
            b1, b2 = cover[i]
            b = b2 if demand[b2] < demand[b1] else b1
            target[i] = b
            demand[b] += 1
        cap = self.cfg.load_cap
        over = np.maximum(demand - cap, 0.0) / cap
        capacity = np.where(demand > cap, cap * np.maximum(0.5, 1.0 - self.cfg.overload_collapse * over), demand)
        load = np.floor(np.minimum(demand, capacity))
        frac = np.append(load / np.maximum(demand, 1.0), 0.0)  # index -1 (a miss) → 0
        credit = frac[target]
        local, covered = np.zeros(B), np.zeros(B)
        for j in range(2):
            ok = cover[:, j] >= 0
            local += np.bincount(cover[ok, j], weights=credit[ok], minlength=B)
            covered += np.bincount(cover[ok, j], minlength=B)
        return int(load.sum()), load, demand, local / np.maximum(covered, 1.0)

    def _obs(self) -> np.ndarray:
        cap = self.cfg.load_cap
        covered = self.last_counts.sum(axis=1)
        tot = np.maximum(self.short.sum(axis=1), 1e-9)
        coverage = (self.short * self.cached).sum(axis=1) / tot
        novelty = (self.last_counts * ~self.cached).sum(axis=1) / np.maximum(covered, 1.0)
        overlap = (self.cached & self.neighbour_cached(self.cached)).sum(axis=1) / self.cfg.slots
        cols = [covered / cap, self.last_served_share, coverage, novelty, overlap]
        if self.cfg.load_features:
            pred, _ = self.predicted_load(self.cached)
            cols += [self.last_load / cap, self.last_demand / cap, pred / cap,
                     np.full(self.cfg.n_bs, self.last_imbalance)]
        obs = np.stack(cols, axis=1).reshape(-1)
        return np.clip(obs, 0.0, OBS_HIGH).astype(np.float32)
