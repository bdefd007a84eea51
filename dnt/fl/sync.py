"""Synchronous federated rounds over clustered clients: V-twin creation.

VH-Twin's vertical mapping (Zhang, Chen, Yang, Liu, IFIP Networking 2024) initialises the twin by
synchronous federated learning over clusters of base stations; FedDA (Zhang et al., INFOCOM 2021)
aggregates on two levels, inside each cluster and across clusters. Here a client is one cell's local
history; each round, in every cluster, a fraction of the members trains from its cluster twin
(:class:`~dnt.fl.local.LocalTrainer`), the rule aggregates their deltas into the cluster twin
(``w_k += server_lr * rule(deltas)``), the global twin is the data-size-weighted mean of the cluster
twins, and each cluster twin is pulled towards it by ``global_mix`` (0 = independent cluster twins,
1 = every cluster twin is the global twin; FedDA's quasi-global prior plays this role). One cluster
holding every client is plain FedAvg. An evaluation hook scores the twins; the best-scoring round is
kept (early stopping on validation windows, never the test period).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from dnt.data.windows import Split
from dnt.errors import AggregationError, ConfigError
from dnt.fl.cost import CostLedger
from dnt.fl.local import LocalTrainer
from dnt.fl.messages import WireSizes
from dnt.fl.rules.base import AggregationRule
from dnt.fl.types import AggContext, GlobalModel

__all__ = ["SyncClient", "SyncConfig", "RoundStats", "SyncResult", "SyncRounds", "Evaluator", "clients_from_split"]

log = logging.getLogger(__name__)

Evaluator = Callable[[int, Mapping[int, np.ndarray], np.ndarray], float]
"""``evaluate(round, cluster_vectors, global_vector) -> loss`` (lower is better, e.g. validation MSE)."""


@dataclass(frozen=True, eq=False)
class SyncClient:
    """One client: its id, its cluster and its training windows."""

    client_id: str
    cluster: int
    train: Split


def clients_from_split(split: Split, cell_ids: np.ndarray, labels: np.ndarray | None = None) -> list[SyncClient]:
    """One :class:`SyncClient` per cell that has windows in ``split``.

    Parameters
    ----------
    split : windows whose ``cell`` indexes ``cell_ids`` (as :class:`~dnt.data.windows.Windows` splits do).
    cell_ids : (C,) cell ids; the client id is the cell id as text.
    labels : (C,) cluster of each cell (e.g. :func:`~dnt.fl.clustering.cluster_cells` labels); ``None`` = one
        cluster 0.
    """
    out = []
    for row, cid in enumerate(np.asarray(cell_ids)):
        mine = split.subset(split.cell == row)
        if len(mine):
            out.append(SyncClient(str(int(cid)), 0 if labels is None else int(labels[row]), mine))
    return out


@dataclass(frozen=True)
class SyncConfig:
    """Settings of the synchronous rounds."""

    rounds: int = 30
    """Maximum rounds."""
    fraction: float = 0.1
    """Fraction of each cluster's clients sampled per round (FedDA: 0.1)."""
    min_clients: int = 1
    """At least this many clients per cluster per round (or all, if fewer)."""
    server_lr: float = 1.0
    """Server step on the aggregated delta (1 = FedAvg)."""
    global_mix: float = 0.0
    """After each round, ``cluster twin <- (1 - global_mix) * cluster twin + global_mix * global twin``."""
    eval_every: int = 1
    """Call the evaluation hook every this many rounds (and after the last)."""
    patience: int | None = None
    """Stop after this many evaluations without improvement (``None`` = run every round)."""
    seed: int = 0
    """Seed of the client sampling, the local training and the rule."""

    def __post_init__(self) -> None:
        if not isinstance(self.rounds, int) or self.rounds < 1:
            raise ConfigError(f"rounds must be an integer >= 1, got {self.rounds!r}")
        if not 0.0 < self.fraction <= 1.0:
            raise ConfigError(f"fraction must be in (0, 1], got {self.fraction!r}")
        if not isinstance(self.min_clients, int) or self.min_clients < 1:
            raise ConfigError(f"min_clients must be an integer >= 1, got {self.min_clients!r}")
        if not (math.isfinite(self.server_lr) and self.server_lr > 0):
            raise ConfigError(f"server_lr must be > 0, got {self.server_lr!r}")
        if not 0.0 <= self.global_mix <= 1.0:
            raise ConfigError(f"global_mix must be in [0, 1], got {self.global_mix!r}")
        if not isinstance(self.eval_every, int) or self.eval_every < 1:
            raise ConfigError(f"eval_every must be an integer >= 1, got {self.eval_every!r}")
        if self.patience is not None and (not isinstance(self.patience, int) or self.patience < 1):
            raise ConfigError(f"patience must be an integer >= 1 or None, got {self.patience!r}")


@dataclass(frozen=True)
class RoundStats:
    """One round: who trained, their mean local loss, the hook's score, what it cost."""

    round: int
    participants: int
    train_loss: float
    val_loss: float | None
    best: bool
    client_s: float
    server_s: float
    rejected: int


@dataclass
class SyncResult:
    """The kept (best-scoring or last) twins and the round history."""

    cluster_twins: dict[int, GlobalModel]
    global_twin: GlobalModel
    history: list[RoundStats] = field(default_factory=list)
    best_round: int = 0
    stop_reason: str = "rounds"


class SyncRounds:
    """Runs synchronous FedAvg-style rounds over clustered clients.

    Parameters
    ----------
    clients : every client (at least one); cluster ids are any ints.
    init : (D,) initial weights of every cluster twin.
    trainer : the local trainer (its model is the shared workspace).
    rule : aggregation rule applied inside each cluster.
    cfg : round settings.
    evaluate : optional hook, see :data:`Evaluator`.
    ledger, wire : when given, every round's bytes (one model down and one update up per participant),
        client compute and server compute are added to ``ledger`` under ``phase``.
    """

    def __init__(self, clients: Sequence[SyncClient], init: np.ndarray, trainer: LocalTrainer,
                 rule: AggregationRule, cfg: SyncConfig | None = None, *, evaluate: Evaluator | None = None,
                 ledger: CostLedger | None = None, wire: WireSizes | None = None, phase: str = "creation") -> None:
        if not clients:
            raise ConfigError("synchronous rounds need at least one client")
        ids = [c.client_id for c in clients]
        if len(set(ids)) != len(ids):
            raise ConfigError("client ids must be unique")
        self.cfg = cfg or SyncConfig()
        self.trainer, self.rule, self.evaluate = trainer, rule, evaluate
        self.ledger, self.wire, self.phase = ledger, wire, phase
        self.members: dict[int, list[SyncClient]] = {}
        for c in sorted(clients, key=lambda c: c.client_id):
            self.members.setdefault(int(c.cluster), []).append(c)
        self.members = dict(sorted(self.members.items()))
        sizes = {k: float(sum(len(c.train) for c in m)) for k, m in self.members.items()}
        total = sum(sizes.values())
        self.cluster_weight = {k: (s / total if total > 0 else 1.0 / len(sizes)) for k, s in sizes.items()}
        vec = np.asarray(init, dtype=np.float32).copy()
        self.twins: dict[int, np.ndarray] = {k: vec.copy() for k in self.members}
        self.global_vec = vec.copy()
        self.round = 0

    def _global(self) -> np.ndarray:
        acc = np.zeros_like(self.global_vec, dtype=np.float64)
        for k, w in self.cluster_weight.items():
            acc += w * self.twins[k]
        return acc.astype(np.float32)

    def step(self) -> RoundStats:
        """Run one round (sample, train, aggregate per cluster, form the global twin, mix)."""
        cfg = self.cfg
        self.round += 1
        r = self.round
        rng = np.random.default_rng([cfg.seed, r])
        client_s = server_s = 0.0
        losses: list[float] = []
        n_part = n_rej = samples = 0
        for k, members in self.members.items():
            m = min(len(members), max(cfg.min_clients, int(round(cfg.fraction * len(members)))))
            chosen = sorted(rng.choice(len(members), size=m, replace=False).tolist())
            updates = []
            for i in chosen:
                c = members[i]
                seed = int(np.random.SeedSequence([cfg.seed, r, k, i]).generate_state(1)[0])
                res = self.trainer.train(self.twins[k], c.train, client_id=c.client_id, base_version=r - 1,
                                         cluster=k, seed=seed)
                updates.append(res.update)
                losses.append(res.train_loss)
                client_s += res.compute_s
                samples += res.samples
            t0 = time.process_time()
            try:
                agg = self.rule.aggregate(updates, AggContext(seed=cfg.seed + r, version=r - 1))
                self.twins[k] = self.twins[k] + np.float32(cfg.server_lr) * agg.delta
                n_rej += len(agg.rejected)
            except AggregationError as err:  # a failed round keeps the cluster twin
                log.warning("round %d cluster %d: aggregation failed, twin kept: %s", r, k, err)
                n_rej += len(updates)
            server_s += time.process_time() - t0
            n_part += len(updates)
        t0 = time.process_time()
        self.global_vec = self._global()
        if cfg.global_mix > 0 and len(self.twins) > 1:
            b = np.float32(cfg.global_mix)
            self.twins = {k: (1 - b) * v + b * self.global_vec for k, v in self.twins.items()}
        server_s += time.process_time() - t0
        if self.ledger is not None:
            up = self.wire.update_bytes if self.wire else 4 * self.global_vec.size
            down = self.wire.model_bytes if self.wire else 4 * self.global_vec.size
            self.ledger.add(self.phase, bytes_up=n_part * up, bytes_down=n_part * down, client_s=client_s,
                            server_s=server_s, messages=2 * n_part, samples=samples)
        loss = float(np.mean(losses)) if losses else float("nan")
        return RoundStats(r, n_part, loss, None, False, client_s, server_s, n_rej)

    def snapshot(self) -> tuple[dict[int, GlobalModel], GlobalModel]:
        """The current cluster twins and global twin as version-``round`` models."""
        return ({k: GlobalModel(self.round, v, k) for k, v in self.twins.items()},
                GlobalModel(self.round, self.global_vec, None))

    def run(self, progress: Callable[[RoundStats], None] | None = None) -> SyncResult:
        """Run up to ``cfg.rounds`` rounds; keep the best-scoring round's twins when a hook is given."""
        cfg = self.cfg
        history: list[RoundStats] = []
        best_loss, best_round, since = math.inf, 0, 0
        best = self.snapshot()
        reason = "rounds"
        for r in range(1, cfg.rounds + 1):
            stats = self.step()
            if self.evaluate is not None and (r % cfg.eval_every == 0 or r == cfg.rounds):
                val = float(self.evaluate(r, dict(self.twins), self.global_vec))
                improved = val < best_loss
                if improved:
                    best_loss, best_round, since, best = val, r, 0, self.snapshot()
                else:
                    since += 1
                stats = RoundStats(stats.round, stats.participants, stats.train_loss, val, improved,
                                   stats.client_s, stats.server_s, stats.rejected)
            history.append(stats)
            if progress is not None:
                progress(stats)
            if cfg.patience is not None and since >= cfg.patience:
                reason = "patience"
                break
        if self.evaluate is None or best_round == 0:
            best, best_round = self.snapshot(), self.round
        return SyncResult(best[0], best[1], history, best_round, reason)
