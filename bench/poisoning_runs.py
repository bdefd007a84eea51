"""The poisoning benchmark's protocol (``bench/poisoning.py`` holds the config, output and targets).

Data preparation (creation / maintenance / test periods, clients, clusters, the FLTrust root dataset),
the rule hook that injects the fake clients' updates and the server's FLTrust reference, one V-twin run
(synchronous rounds, :class:`dnt.fl.SyncRounds`) and one H-twin run (FedBuff per cluster on the virtual
clock, :class:`dnt.fl.AsyncSimulation`, fake base stations as extra workers). Public ``dnt`` API only.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from twin_methods import predict_with

from dnt.attacks import Attack, AttackContext, apportion
from dnt.data.frame import Traffic
from dnt.data.windows import Split, build_windows
from dnt.errors import DataError
from dnt.fl import (
    RULES,
    AggContext,
    Aggregated,
    AggregationRule,
    AsyncConfig,
    AsyncSimulation,
    ClusterConfig,
    ClusteredAsync,
    FedBuff,
    GlobalModel,
    LocalConfig,
    LocalTrainer,
    SimClient,
    SimConfig,
    SyncClient,
    SyncConfig,
    SyncRounds,
    Update,
    WorkResult,
    cluster_cells,
    flatten,
)
from dnt.twin import TwinLSTM

if TYPE_CHECKING:
    from poisoning import PoisonBenchConfig, ScenarioConfig

DAY_S = 86_400.0


# -- data ------------------------------------------------------------------------------------------

def _cat(*splits: Split) -> Split:
    return Split(*(np.concatenate([getattr(s, f) for s in splits]) for f in ("xc", "xp", "y", "cell", "start")))


@dataclass
class Prepared:
    """One data set: clients (cells, or disjoint window shares of a cell), clusters, periods, root data."""

    name: str
    cell_ids: np.ndarray
    labels: np.ndarray
    """(C,) cluster of each cell."""
    clients: list[SyncClient]
    maint: dict[str, Split]
    """Each client's maintenance-period windows (its new data during the H-twin phase)."""
    test: Split
    root: dict[int, Split]
    """Per cluster, the server's small clean root dataset (FLTrust)."""
    m0: int
    """First step of the maintenance period."""
    step_s: float
    steps_per_day: int
    persistence_mae: float
    persistence_mse: float
    sc: ScenarioConfig

    @property
    def sizes(self) -> dict[int, int]:
        """Clients per cluster."""
        out: dict[int, int] = {}
        for c in self.clients:
            out[c.cluster] = out.get(c.cluster, 0) + 1
        return dict(sorted(out.items()))


def prepare(name: str, traffic: Traffic, cfg: PoisonBenchConfig, sc: ScenarioConfig) -> Prepared:
    w = build_windows(traffic, cfg.channel, cfg.spec.windows(float(sc.test_days), float(sc.maintenance_days)))
    m0, _ = w.bounds
    rng = np.random.default_rng(cfg.seed)
    clus = cluster_cells(traffic.slice_steps(0, m0), ClusterConfig(n_clusters=sc.n_clusters, seed=cfg.seed))
    labels = np.asarray(clus.labels)
    spd = traffic.steps_per_day
    clients: list[SyncClient] = []
    maint: dict[str, Split] = {}
    for row, cid in enumerate(w.cell_ids):
        mine, new = w.train.subset(w.train.cell == row), w.val.subset(w.val.cell == row)
        # one client per cell, or `sub_clients` clients holding disjoint random shares of the cell's windows
        part = rng.integers(0, sc.sub_clients, len(mine))
        part_new = rng.integers(0, sc.sub_clients, len(new))
        for j in range(sc.sub_clients):
            ident = str(int(cid)) if sc.sub_clients == 1 else f"{int(cid)}.{j}"
            clients.append(SyncClient(ident, int(labels[row]), mine.subset(part == j)))
            maint[ident] = new.subset(part_new == j)
    root: dict[int, Split] = {}
    for k in sorted(set(labels.tolist())):
        rows = np.flatnonzero(labels == k)
        pick = rng.choice(rows, size=min(sc.root_cells, len(rows)), replace=False)
        sel = np.isin(w.train.cell, pick) & (w.train.start + cfg.spec.horizon > m0 - sc.root_days * spd)
        idx = np.flatnonzero(sel)
        idx = rng.choice(idx, size=min(sc.root_windows, len(idx)), replace=False)
        root[k] = w.train.subset(np.sort(idx))
    test = w.test.subset((w.test.start - w.bounds[1]) % sc.test_stride == 0)
    err = test.y - test.xc[:, :1]
    return Prepared(name, w.cell_ids, labels, clients, maint, test, root, m0, w.step_ms / 1000.0, spd,
                    float(np.mean(np.abs(err))), float(np.mean(err**2)), sc)


# -- scoring ---------------------------------------------------------------------------------------

def score(twins: dict[int, np.ndarray], p: Prepared, model: TwinLSTM, cap: float) -> dict[str, Any]:
    """Test MAE and MSE (z-units); ``*_capped`` = min(value, cap), a non-finite forecast counts as ``cap``."""
    finite = all(np.isfinite(v).all() for v in twins.values())
    with np.errstate(all="ignore"):
        pred = predict_with(twins, p.labels, p.test, model) if finite else None
        ok = pred is not None and bool(np.isfinite(pred).all())
        mae = float(np.mean(np.abs(pred - p.test.y))) if ok and pred is not None else float("inf")
        mse = float(np.mean((pred - p.test.y) ** 2)) if ok and pred is not None else float("inf")
    ok = ok and np.isfinite(mae) and np.isfinite(mse)
    return {"mae": mae if ok else None, "mse": mse if ok else None, "mae_capped": min(mae, cap),
            "mse_capped": min(mse, cap), "diverged": not ok}


# -- the rule hook ---------------------------------------------------------------------------------

class Hook(AggregationRule):
    """Wraps a rule: adds the fake clients' updates (sync phase) and FLTrust's server update ``g_0``.

    SyncRounds and FedBuff call ``rule.aggregate(updates, ctx)`` with no way to add updates or a
    reference; this wrapper sees the cluster (from the updates) and reads the served twin through
    ``model_of``, so neither server needs changing.
    """

    name = "hook"

    def __init__(self, rule: AggregationRule, fake_ids: set[str], *, attack: Attack | None = None,
                 n_fake: dict[int, int] | None = None, reference: Callable[[int, np.ndarray, int], np.ndarray] | None
                 = None) -> None:
        self.rule, self.attack, self.n_fake, self.reference = rule, attack, n_fake or {}, reference
        self.fake_ids = fake_ids
        self.model_of: Callable[[int], np.ndarray] = lambda k: np.zeros(0)
        self.fake_weight: list[float] = []
        self.fake_rejected = 0
        self.fake_seen = 0

    def aggregate(self, updates: Sequence[Update], ctx: AggContext) -> Aggregated:
        k = int(updates[0].cluster or 0)
        theta = self.model_of(k)
        ups = list(updates)
        if self.attack is not None and self.n_fake.get(k, 0):
            claim = int(np.median([u.num_samples for u in updates]))
            fakes = self.attack.fakes(self.n_fake[k], AttackContext(theta, ctx.version, k, claim),
                                      first=sum(self.n_fake.get(j, 0) for j in self.n_fake if j < k))
            ups += fakes
        if self.reference is not None:
            ctx = dataclasses.replace(ctx, reference=self.reference(k, theta, ctx.version))
        agg = self.rule.aggregate(ups, ctx)
        is_fake = np.array([u.client_id in self.fake_ids for u in ups])
        if is_fake.any():
            self.fake_seen += int(is_fake.sum())
            self.fake_weight.append(float(np.asarray(agg.weights)[is_fake].sum()))
            self.fake_rejected += sum(bool(is_fake[i]) for i in agg.rejected)
        return agg

    def stats(self) -> dict[str, Any]:
        return {"fake_updates_seen": self.fake_seen, "fake_updates_rejected": self.fake_rejected,
                "fake_weight_share_mean": float(np.mean(self.fake_weight)) if self.fake_weight else 0.0}


@dataclass
class RunResult:
    """One run's twins, test scores and extras."""

    twins: dict[int, np.ndarray]
    version: int
    scores: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


def make_rule(key: str, kwargs: dict[str, Any]) -> AggregationRule:
    return RULES[key](**kwargs)


def _reference_fn(p: Prepared, cfg: PoisonBenchConfig, trainer: LocalTrainer
                  ) -> Callable[[int, np.ndarray, int], np.ndarray]:
    def ref(k: int, theta: np.ndarray, version: int) -> np.ndarray:
        seed = int(np.random.SeedSequence([cfg.seed, 77, k, version]).generate_state(1)[0])
        return trainer.train(theta, p.root[k], client_id="server", base_version=version, seed=seed).update.delta
    return ref


def local_config(cfg: PoisonBenchConfig, sc: ScenarioConfig) -> LocalConfig:
    return LocalConfig(epochs=1, max_steps=sc.local_steps, batch_size=sc.local_batch_size, lr=sc.local_lr,
                       threads=cfg.threads)


# -- V-twin: synchronous rounds --------------------------------------------------------------------

def run_vtwin(p: Prepared, cfg: PoisonBenchConfig, key: str, kwargs: dict[str, Any], attack: Attack | None,
              init: np.ndarray) -> RunResult:
    t0 = time.perf_counter()
    sc = p.sc
    trainer = LocalTrainer(cfg.spec.model(cfg.seed), local_config(cfg, sc))
    per_round = {k: min(n, max(1, int(round(sc.fraction * n)))) for k, n in p.sizes.items()}
    n_fake = apportion(attack.n_fake(sum(per_round.values())), per_round) if attack is not None else {}
    fake_ids = set(attack.client_ids(sum(n_fake.values()))) if attack is not None else set()
    ref = _reference_fn(p, cfg, LocalTrainer(cfg.spec.model(cfg.seed), local_config(cfg, sc))) \
        if key == "fltrust" else None
    hook = Hook(make_rule(key, kwargs), fake_ids, attack=attack, n_fake=n_fake, reference=ref)
    rounds = SyncRounds(p.clients, init, trainer, hook,
                        SyncConfig(rounds=sc.rounds, fraction=sc.fraction, global_mix=cfg.global_mix, seed=cfg.seed))
    hook.model_of = lambda k: rounds.twins[k]
    stop = "rounds"
    try:
        rounds.run()
    except DataError as err:  # a benign client's training diverged: the twin is destroyed
        stop = f"diverged in round {rounds.round}: {err}"
    twins = {k: v.copy() for k, v in rounds.twins.items()}
    scores = score(twins, p, cfg.spec.model(cfg.seed), cfg.cap)
    extra = {"fakes_per_round": n_fake, "benign_per_round": per_round, "stop": stop, **hook.stats(),
             "wall_s": time.perf_counter() - t0}
    return RunResult(twins, rounds.round, scores, extra)


# -- H-twin: FedBuff maintenance on the virtual clock ----------------------------------------------

def run_htwin(p: Prepared, cfg: PoisonBenchConfig, key: str, kwargs: dict[str, Any], attack: Attack | None,
              start: RunResult) -> RunResult:
    """The clean V-twin ``start`` maintained for ``maintenance_days`` by FedBuff, with fake workers."""
    t0 = time.perf_counter()
    sc = p.sc
    trainer = LocalTrainer(cfg.spec.model(cfg.seed), local_config(cfg, sc))
    sizes = p.sizes
    n_fake = apportion(attack.n_fake(len(p.clients)), sizes) if attack is not None else {}
    fake_ids = attack.client_ids(sum(n_fake.values())) if attack is not None else []
    ref = _reference_fn(p, cfg, LocalTrainer(cfg.spec.model(cfg.seed), local_config(cfg, sc))) \
        if key == "fltrust" else None
    hook = Hook(make_rule(key, kwargs), set(fake_ids), reference=ref)
    acfg = AsyncConfig(buffer_size=sc.buffer_size, max_staleness=cfg.max_staleness,
                       staleness_exponent=cfg.staleness_exponent, seed=cfg.seed)
    servers = {k: FedBuff(GlobalModel(start.version, v, k), hook,
                          dataclasses.replace(acfg, buffer_size=min(sc.buffer_size, max(sizes.get(k, 1), 1))))
               for k, v in start.twins.items()}
    hook.model_of = lambda k: servers[k].model.vector
    endpoint = ClusteredAsync(servers, {k: float(n) for k, n in sizes.items()}, start.version)
    rng = np.random.default_rng(cfg.seed + 17)
    period = cfg.update_period_h * 3600.0

    def sim_client(ident: str, cluster: int) -> SimClient:
        return SimClient(ident, cluster, period_s=period, phase_s=float(rng.uniform(0, period)),
                         slowness=float(rng.lognormal(0.0, cfg.slowness_sigma)),
                         delay_s=float(cfg.delay_median_s * rng.lognormal(0.0, cfg.delay_sigma)))

    clients = [sim_client(c.client_id, c.cluster) for c in p.clients]
    fake_index: dict[str, int] = {}
    j = 0
    for k in sorted(n_fake):
        for _ in range(n_fake[k]):
            clients.append(sim_client(fake_ids[j], k))
            fake_index[fake_ids[j]] = j
            j += 1
    replay = int(round(cfg.replay_days * p.steps_per_day))
    pools = {c.client_id: _cat(c.train, p.maint[c.client_id]) for c in p.clients}
    seen = {c.client_id: p.m0 for c in p.clients}
    claim = max(1, int(replay / sc.sub_clients))  # what a worker with a full replay window would hold
    h = cfg.spec.horizon

    def work(c: SimClient, now_s: float, served: GlobalModel, seed: int) -> WorkResult | None:
        if c.client_id in fake_index and attack is not None:
            ctx = AttackContext(served.vector, served.version, c.cluster, claim)
            upd = attack.fakes(1, ctx, first=fake_index[c.client_id])[0]
            return WorkResult(upd, claim, 0.0)
        now = p.m0 + int(now_s // p.step_s)
        pool = pools[c.client_id]
        end = pool.start + h
        mine = end <= now
        if not (mine & (end > seen[c.client_id])).any():
            return None
        seen[c.client_id] = now
        data = pool.subset(mine & (end > now - replay))
        res = trainer.train(served.vector, data, client_id=c.client_id, base_version=served.version,
                            cluster=c.cluster, seed=seed)
        return WorkResult(res.update, res.samples, res.compute_s)

    sim = AsyncSimulation(clients, endpoint, work,
                          SimConfig(end_s=sc.maintenance_days * DAY_S, s_per_sample=cfg.s_per_sample, seed=cfg.seed))
    stop = "end"
    events = 0
    try:
        events = len(sim.run().events)
    except DataError as err:
        stop = f"diverged: {err}"
    twins = {k: s.model.vector.copy() for k, s in servers.items()}
    scores = score(twins, p, cfg.spec.model(cfg.seed), cfg.cap)
    extra = {"fake_workers": n_fake, "benign_workers": sizes, "updates_delivered": events, "stop": stop,
             "aggregations": {str(k): s.stats.aggregations for k, s in servers.items()},
             "failed_aggregations": sum(s.stats.failed_aggregations for s in servers.values()),
             **hook.stats(), "wall_s": time.perf_counter() - t0}
    return RunResult(twins, endpoint.global_model.version, scores, extra)


def initial_model(cfg: PoisonBenchConfig) -> np.ndarray:
    """``theta_0``: the twin's initial weights (the same for every run, known to the TPI attacker)."""
    return flatten(cfg.spec.model(cfg.seed))
