"""Asynchronous, staleness-aware servers for the H-twin: FedBuff (default) and FedAsync.

VH-Twin's horizontal mapping (Zhang, Chen, Yang, Liu, IFIP Networking 2024) keeps the twin in sync by
asynchronous updates: twin workers push an update whenever they have new data, trained from whatever
version they last pulled. An update that arrives ``tau = version_now - base_version`` versions late is
*stale*. Both servers drop updates staler than ``max_staleness`` and discount the rest by FedAsync's
polynomial ``s(tau) = (1 + tau) ** -a``.

* :class:`FedBuff` — Nguyen et al., "Federated Learning with Buffered Asynchronous Aggregation",
  AISTATS 2022: buffer ``K`` updates, then ``w <- w + server_lr * rule({s(tau_i) * delta_i})`` and
  ``version += 1``. With :class:`~dnt.fl.rules.Mean` (unweighted) this is FedBuff exactly.
* :class:`FedAsync` — Xie, Koyejo, Gupta, "Asynchronous Federated Optimization", 2019: every update is
  applied on arrival, ``w <- (1 - a_t) w + a_t (w_base + delta)`` with ``a_t = alpha * s(tau)``.

**FedBuff is the default**: the aggregation rule stays pluggable, so the robust rules (trimmed mean,
Krum, TID) see a buffer of ``K`` updates to compare and filter. FedAsync applies one update at a time,
and no robust rule can judge a single update against nothing. :class:`ClusteredAsync` runs one server
per V-twin cluster (cluster twins) and keeps the global twin as their data-weighted mean.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from dnt.errors import AggregationError, ConfigError
from dnt.fl.rules import ops
from dnt.fl.rules.base import AggregationRule
from dnt.fl.rules.mean import Mean
from dnt.fl.types import AggContext, Aggregated, GlobalModel, Update

__all__ = ["AsyncConfig", "AsyncStats", "SubmitResult", "AsyncServer", "FedBuff", "FedAsync", "ClusteredAsync",
           "make_server"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AsyncConfig:
    """Settings of an asynchronous server."""

    mode: str = "fedbuff"
    """``"fedbuff"`` (buffered, rule pluggable; the default) or ``"fedasync"`` (apply each update)."""
    buffer_size: int = 10
    """FedBuff's ``K``: updates per aggregation (FedBuff's experiments use 10)."""
    max_staleness: int = 20
    """Updates more than this many versions old are dropped."""
    staleness_exponent: float = 0.5
    """``a`` in ``s(tau) = (1 + tau) ** -a``; 0.5 is FedBuff's ``1/sqrt(1 + tau)``, 0 = no discount."""
    server_lr: float = 1.0
    """FedBuff's server step ``eta_g`` on the aggregated delta."""
    alpha: float = 0.6
    """FedAsync's mixing weight ``alpha`` in (0, 1]."""
    seed: int = 0
    """Seed handed to the rule (``ctx.seed = seed + version``)."""

    def __post_init__(self) -> None:
        if self.mode not in ("fedbuff", "fedasync"):
            raise ConfigError(f"async mode must be 'fedbuff' or 'fedasync', got {self.mode!r}")
        if not isinstance(self.buffer_size, int) or self.buffer_size < 1:
            raise ConfigError(f"buffer_size must be an integer >= 1, got {self.buffer_size!r}")
        if not isinstance(self.max_staleness, int) or self.max_staleness < 0:
            raise ConfigError(f"max_staleness must be an integer >= 0, got {self.max_staleness!r}")
        if not (math.isfinite(self.staleness_exponent) and self.staleness_exponent >= 0):
            raise ConfigError(f"staleness_exponent must be >= 0, got {self.staleness_exponent!r}")
        if not (math.isfinite(self.server_lr) and self.server_lr > 0):
            raise ConfigError(f"server_lr must be > 0, got {self.server_lr!r}")
        if not 0.0 < self.alpha <= 1.0:
            raise ConfigError(f"alpha must be in (0, 1], got {self.alpha!r}")


@dataclass
class AsyncStats:
    """Counters of a server (``staleness`` lists every accepted update's staleness)."""

    received: int = 0
    accepted: int = 0
    dropped_stale: int = 0
    dropped_invalid: int = 0
    aggregations: int = 0
    failed_aggregations: int = 0
    staleness: list[int] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class SubmitResult:
    """What happened to one submitted update.

    ``reason`` is ``"buffered"``, ``"applied"`` (it completed an aggregation), ``"stale"`` (dropped:
    older than ``max_staleness``), ``"future"`` (its base version is newer than the server's),
    ``"invalid"`` (wrong length or non-finite) or ``"failed"`` (the rule raised; the model was kept).
    A caller screening updates before the server (e.g. the aggregator's authentication) may add its own
    reasons, with ``detail`` saying why.

    ``clients`` names the client of each aggregated update, aligned with ``aggregated.weights`` (set
    whenever ``aggregated`` is), so a caller can see whom the rule trimmed or rejected.
    """

    accepted: bool
    reason: str
    staleness: int
    version: int
    aggregated: Aggregated | None = None
    clients: tuple[str, ...] = ()
    detail: str = ""


class AsyncServer(ABC):
    """An asynchronous server holding one twin (global or one cluster's)."""

    def __init__(self, init: GlobalModel | np.ndarray, cfg: AsyncConfig | None = None) -> None:
        self.cfg = cfg or AsyncConfig()
        gm = init if isinstance(init, GlobalModel) else GlobalModel(0, np.asarray(init))
        self._model = gm
        self.stats = AsyncStats()

    @property
    def model(self) -> GlobalModel:
        """The current twin (read-only vector)."""
        return self._model

    @property
    def version(self) -> int:
        return self._model.version

    def serve(self, cluster: int | None = None) -> GlobalModel:
        """The model a worker pulls before training (``cluster`` is ignored by a single server)."""
        return self._model

    def _set(self, vec: np.ndarray) -> None:
        self._model = GlobalModel(self._model.version + 1, vec, self._model.cluster)

    def _known(self, base_version: int) -> bool:
        """Whether the server can still use an update made from ``base_version`` (within the bound)."""
        return True

    def _admit(self, update: Update) -> tuple[int, str | None]:
        """(staleness, drop reason or None)."""
        self.stats.received += 1
        tau = self.version - update.base_version
        if tau < 0:
            self.stats.dropped_invalid += 1
            return tau, "future"
        if update.delta.shape != self._model.vector.shape or not np.isfinite(update.delta).all():
            self.stats.dropped_invalid += 1
            return tau, "invalid"
        if tau > self.cfg.max_staleness or not self._known(update.base_version):
            self.stats.dropped_stale += 1
            return tau, "stale"
        self.stats.accepted += 1
        self.stats.staleness.append(tau)
        return tau, None

    @abstractmethod
    def submit(self, update: Update) -> SubmitResult:
        """Take one update; drop it, buffer it or apply it."""

    def flush(self) -> SubmitResult | None:
        """Apply whatever is buffered now (``None`` when nothing is); a no-op for unbuffered servers."""
        return None


class FedBuff(AsyncServer):
    """Buffered asynchronous aggregation with a pluggable rule (see the module docstring).

    Parameters
    ----------
    init : the starting twin (a :class:`GlobalModel` keeps its version and cluster).
    rule : aggregation rule over the buffer (default :class:`~dnt.fl.rules.Mean`, sample-weighted).
    cfg : server settings.
    """

    def __init__(self, init: GlobalModel | np.ndarray, rule: AggregationRule | None = None,
                 cfg: AsyncConfig | None = None) -> None:
        super().__init__(init, cfg)
        self.rule = rule or Mean()
        self.buffer: list[Update] = []
        self.norm_medians: collections.deque[float] = collections.deque(maxlen=16)
        """Median update norm of each of the last aggregations: a rule may bound norms by their median
        (``ctx.config["norm_ref"]``), which attackers filling half of one small buffer cannot move."""

    def submit(self, update: Update) -> SubmitResult:
        tau, drop = self._admit(update)
        if drop is not None:
            log.info("update from %s dropped (%s, staleness %d)", update.client_id, drop, tau)
            return SubmitResult(False, drop, tau, self.version)
        self.buffer.append(dataclasses.replace(update, staleness=tau))
        if len(self.buffer) >= self.cfg.buffer_size:
            res = self.flush()
            if res is not None:
                return dataclasses.replace(res, staleness=tau)
        return SubmitResult(True, "buffered", tau, self.version)

    def flush(self) -> SubmitResult | None:
        if not self.buffer:
            return None
        buf, self.buffer = self.buffer, []
        tau = np.array([u.staleness or 0 for u in buf])
        s = ops.polynomial_staleness(tau, self.cfg.staleness_exponent).astype(np.float32)
        scaled = [dataclasses.replace(u, delta=u.delta * si) for u, si in zip(buf, s, strict=True)]
        ref = {"norm_ref": float(np.median(self.norm_medians))} if len(self.norm_medians) >= 3 else {}
        ctx = AggContext(seed=self.cfg.seed + self.version, version=self.version,
                         staleness=tuple(int(t) for t in tau), config=ref)
        try:
            agg = self.rule.aggregate(scaled, ctx)
        except AggregationError as err:
            self.stats.failed_aggregations += 1
            log.warning("FedBuff aggregation of %d updates failed, twin v%d kept: %s", len(buf), self.version, err)
            return SubmitResult(False, "failed", 0, self.version)
        mat = ops.stack(scaled)
        finite = ops.finite_rows(mat)
        if finite.any():
            self.norm_medians.append(float(np.median(ops.row_norms(mat[finite]))))
        self._set(self._model.vector + np.float32(self.cfg.server_lr) * agg.delta)
        self.stats.aggregations += 1
        return SubmitResult(True, "applied", 0, self.version, agg, tuple(u.client_id for u in buf))


class FedAsync(AsyncServer):
    """FedAsync: apply each update on arrival, mixing weight ``alpha * s(tau)``.

    Keeps the last ``max_staleness + 1`` versions to rebuild each client's model ``w_base + delta``.
    """

    def __init__(self, init: GlobalModel | np.ndarray, cfg: AsyncConfig | None = None) -> None:
        super().__init__(init, cfg or AsyncConfig(mode="fedasync"))
        self.versions: dict[int, np.ndarray] = {self.version: self._model.vector}

    def _known(self, base_version: int) -> bool:
        return base_version in self.versions

    def submit(self, update: Update) -> SubmitResult:
        tau, drop = self._admit(update)
        if drop is not None:
            log.info("update from %s dropped (%s, staleness %d)", update.client_id, drop, tau)
            return SubmitResult(False, drop, tau, self.version)
        a = self.cfg.alpha * float(ops.polynomial_staleness(tau, self.cfg.staleness_exponent))
        client = self.versions[update.base_version].astype(np.float64) + update.delta
        w = self._model.vector.astype(np.float64)
        new = ((1.0 - a) * w + a * client).astype(np.float32)
        agg = Aggregated((new - self._model.vector).astype(np.float32), np.array([a]))
        self._set(new)
        self.versions[self.version] = self._model.vector
        for v in [v for v in self.versions if v < self.version - self.cfg.max_staleness]:
            del self.versions[v]
        self.stats.aggregations += 1
        return SubmitResult(True, "applied", tau, self.version, agg, (update.client_id,))


def make_server(init: GlobalModel | np.ndarray, cfg: AsyncConfig | None = None,
                rule: AggregationRule | None = None) -> AsyncServer:
    """A :class:`FedBuff` (with ``rule``) or :class:`FedAsync` server, as ``cfg.mode`` says."""
    cfg = cfg or AsyncConfig()
    if cfg.mode == "fedasync":
        if rule is not None:
            log.warning("FedAsync applies updates one at a time; the rule %r is not used", rule)
        return FedAsync(init, cfg)
    return FedBuff(init, rule, cfg)


class ClusteredAsync:
    """One asynchronous server per cluster twin, plus the global twin as their weighted mean.

    Parameters
    ----------
    servers : cluster id -> server of that cluster's twin.
    weights : cluster id -> weight in the global twin (e.g. the cluster's data size); normalised.
    global_version : version of the initial global twin; it increases whenever a cluster twin changes.
    """

    def __init__(self, servers: Mapping[int, AsyncServer], weights: Mapping[int, float],
                 global_version: int = 0) -> None:
        if set(servers) != set(weights) or not servers:
            raise ConfigError("servers and weights must name the same, non-empty set of clusters")
        total = float(sum(weights.values()))
        if not total > 0:
            raise ConfigError("cluster weights must sum to > 0")
        self.servers = dict(sorted(servers.items()))
        self.weights = {k: float(weights[k]) / total for k in self.servers}
        self._global = GlobalModel(global_version, self._mean())

    def _mean(self) -> np.ndarray:
        acc = sum(w * self.servers[k].model.vector.astype(np.float64) for k, w in self.weights.items())
        return np.asarray(acc, dtype=np.float32)

    @property
    def global_model(self) -> GlobalModel:
        return self._global

    def serve(self, cluster: int | None = None) -> GlobalModel:
        """The cluster's twin, or the global twin for ``None`` / an unknown cluster."""
        if cluster is not None and cluster in self.servers:
            return self.servers[cluster].model
        return self._global

    def submit(self, update: Update) -> SubmitResult:
        """Route by ``update.cluster``; an update without a known cluster is dropped as invalid."""
        server = self.servers.get(update.cluster) if update.cluster is not None else None
        if server is None:
            log.warning("update from %s names no known cluster (%r); dropped", update.client_id, update.cluster)
            return SubmitResult(False, "invalid", 0, self._global.version)
        res = server.submit(update)
        if res.aggregated is not None:
            self._global = GlobalModel(self._global.version + 1, self._mean())
        return res

    def flush(self) -> list[SubmitResult]:
        """Flush every cluster's buffer."""
        out = [r for r in (s.flush() for s in self.servers.values()) if r is not None]
        if any(r.aggregated is not None for r in out):
            self._global = GlobalModel(self._global.version + 1, self._mean())
        return out
