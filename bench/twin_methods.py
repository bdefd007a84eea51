"""The twin lifecycle benchmark's protocol and methods (``bench/twin.py`` holds the config, output and targets).

Data preparation (creation / maintenance / test periods), the five methods (traditional DT, V-twin,
H-twin, each FL one with and without clustering), test-week scoring and the cost sensitivity. Public
``dnt`` API only.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from dnt.data.frame import Traffic
from dnt.data.windows import Split, Windows, build_windows
from dnt.fl import (
    AsyncConfig,
    AsyncSimulation,
    ClusterConfig,
    ClusteredAsync,
    CostLedger,
    CostWeights,
    FedBuff,
    GlobalModel,
    LocalConfig,
    LocalTrainer,
    Mean,
    SimClient,
    SimConfig,
    SyncConfig,
    SyncResult,
    SyncRounds,
    WireSizes,
    WorkResult,
    clients_from_split,
    cluster_cells,
    flatten,
    layout,
    unflatten,
)
from dnt.twin import TrainConfig, TwinLSTM, fit, forecast_metrics, predict

if TYPE_CHECKING:
    from twin import ScenarioConfig, TwinBenchConfig

DAY_S = 86_400.0
METHODS = ("traditional", "vtwin", "htwin", "vtwin_noclust", "htwin_noclust")


# -- data ------------------------------------------------------------------------------------------

def _cat(*splits: Split) -> Split:
    return Split(*(np.concatenate([getattr(s, f) for s in splits]) for f in ("xc", "xp", "y", "cell", "start")))


def _sample(split: Split, fraction: float, rng: np.random.Generator) -> Split:
    return split if fraction >= 1.0 else split.subset(rng.random(len(split)) < fraction)


@dataclass
class Prepared:
    """One data set cut into the protocol's periods (window ``start`` = first target step)."""

    name: str
    windows: Windows
    labels: np.ndarray
    m0: int
    m1: int
    creation_train: Split
    creation_val: Split
    maint: Split
    test: Split
    sc: ScenarioConfig

    @property
    def n_cells(self) -> int:
        return len(self.windows.cell_ids)


def prepare(name: str, traffic: Traffic, cfg: TwinBenchConfig, sc: ScenarioConfig) -> Prepared:
    w = build_windows(traffic, cfg.channel, cfg.window_cfg())
    spd = traffic.steps_per_day
    train_end, m1 = w.bounds
    m0 = m1 - cfg.maintenance_days * spd
    h = cfg.horizon
    rng = np.random.default_rng(cfg.seed)
    val = w.val
    creation_val = val.subset(val.start + h <= m0)
    maint = val.subset(val.start >= m0)
    test = w.test.subset((w.test.start - m1) % sc.test_stride == 0)
    # clusters from the creation period only (the test and maintenance data are not seen)
    clus = cluster_cells(traffic.slice_steps(0, m0), ClusterConfig(n_clusters=sc.n_clusters, seed=cfg.seed))
    return Prepared(name, w, clus.labels, m0, m1, _sample(w.train, sc.train_fraction, rng),
                    _sample(creation_val, sc.val_fraction, rng), _sample(maint, sc.train_fraction, rng), test, sc)


# -- models and scoring ----------------------------------------------------------------------------

def new_model(cfg: TwinBenchConfig) -> TwinLSTM:
    torch.manual_seed(cfg.seed)
    return TwinLSTM.from_config(cfg.horizon, cfg.model_cfg())


def predict_with(twins: dict[int, np.ndarray] | np.ndarray, labels: np.ndarray, split: Split,
                 model: TwinLSTM) -> np.ndarray:
    """(N, h) forecasts: each window by its cell's cluster twin (or one model for all)."""
    if isinstance(twins, np.ndarray):
        return predict(unflatten(twins, model), split)
    out = np.zeros(split.y.shape, dtype=np.float64)
    win_cluster = labels[split.cell]
    for k, vec in twins.items():
        sel = win_cluster == k
        if sel.any():
            out[sel] = predict(unflatten(vec, model), split.subset(sel))
    return out


def mse_of(twins: dict[int, np.ndarray] | np.ndarray, labels: np.ndarray, split: Split, model: TwinLSTM) -> float:
    return float(np.mean((predict_with(twins, labels, split, model) - split.y) ** 2))


@dataclass
class MethodResult:
    """A method's final twins, costs and extras."""

    twins: dict[int, np.ndarray] | np.ndarray
    ledger: CostLedger
    wall_s: float
    extra: dict[str, Any] = field(default_factory=dict)


def windows_view(w: Windows, train: Split, val: Split) -> Windows:
    return dataclasses.replace(w, splits={"train": train, "val": val, "test": w.test})


# -- methods ---------------------------------------------------------------------------------------

def run_traditional(p: Prepared, cfg: TwinBenchConfig, wire: WireSizes, log: Callable[[str], None]) -> MethodResult:
    t_wall = time.perf_counter()
    led = CostLedger("traditional")
    raw = cfg.raw_bytes_per_step
    reports_per_step = int(round(600.0 / cfg.report_period_s))
    model = new_model(cfg)
    led.add("creation", bytes_up=int(p.n_cells * p.m0 * raw), messages=p.n_cells * p.m0 * reports_per_step)
    tcfg = TrainConfig(epochs=cfg.central_epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                       patience=cfg.central_patience, seed=cfg.seed, threads=cfg.threads, ema_decay=cfg.ema_decay)
    t0 = time.process_time()
    hist = fit(model, windows_view(p.windows, p.creation_train, p.creation_val), tcfg)
    led.add("creation", server_s=time.process_time() - t0, bytes_down=wire.model_bytes, messages=1,
            samples=len(hist.epochs) * len(p.creation_train))
    log(f"  traditional creation: {len(hist.epochs)} epochs (best {hist.best_epoch}), val {hist.best_val_loss:.4f}")
    fits = [{"at_step": p.m0, "epochs": len(hist.epochs), "best_epoch": hist.best_epoch,
             "val_mse": hist.best_val_loss, "train_windows": len(p.creation_train)}]
    spd = int(86_400_000 // p.windows.step_ms)
    everything = _cat(p.creation_train, p.creation_val, p.maint)
    prev = p.m0
    k = 1
    while prev < p.m1:
        s = min(p.m0 + k * cfg.retrain_every_days * spd, p.m1)
        led.add("maintenance", bytes_up=int(p.n_cells * (s - prev) * raw),
                messages=p.n_cells * (s - prev) * reports_per_step)
        v0 = s - cfg.val_days * spd
        end = everything.start + cfg.horizon
        train, val = everything.subset(end <= v0), everything.subset((everything.start >= v0) & (end <= s))
        rcfg = dataclasses.replace(tcfg, epochs=cfg.retrain_epochs, patience=cfg.retrain_patience)
        t0 = time.process_time()
        h = fit(model, windows_view(p.windows, train, val), rcfg)
        led.add("maintenance", server_s=time.process_time() - t0, bytes_down=wire.model_bytes, messages=1,
                samples=len(h.epochs) * len(train))
        fits.append({"at_step": s, "epochs": len(h.epochs), "best_epoch": h.best_epoch, "val_mse": h.best_val_loss,
                     "train_windows": len(train)})
        log(f"  traditional retrain at day {(s - p.m0) / spd:.0f}: {len(h.epochs)} epochs, val {h.best_val_loss:.4f}")
        prev, k = s, k + 1
    return MethodResult(flatten(model), led, time.perf_counter() - t_wall, {"fits": fits})


def run_vtwin(p: Prepared, cfg: TwinBenchConfig, wire: WireSizes, clustered: bool,
              log: Callable[[str], None]) -> tuple[SyncResult, MethodResult]:
    t_wall = time.perf_counter()
    sc = p.sc
    led = CostLedger("vtwin" if clustered else "vtwin_noclust")
    labels = p.labels if clustered else np.zeros_like(p.labels)
    model = new_model(cfg)
    init = flatten(model)
    clients = clients_from_split(p.creation_train, p.windows.cell_ids, labels)
    lcfg = LocalConfig(epochs=sc.local_epochs, batch_size=sc.local_batch_size, lr=sc.local_lr,
                       optimizer=cfg.local_optimizer, threads=cfg.threads)
    trainer = LocalTrainer(model, lcfg)
    scorer = new_model(cfg)

    def evaluate(r: int, twins: Any, glob: np.ndarray) -> float:
        t0 = time.process_time()  # each client scores its own validation windows: client compute
        val = mse_of(dict(twins), labels, p.creation_val, scorer)
        led.add("creation", client_s=time.process_time() - t0)
        return val

    srounds = SyncRounds(clients, init, trainer, Mean(),
                         SyncConfig(rounds=sc.rounds, fraction=sc.fraction, global_mix=cfg.global_mix, seed=cfg.seed,
                                    eval_every=1 if cfg.quick else 2),
                         evaluate=evaluate, ledger=led, wire=wire)
    res = srounds.run()
    log(f"  {led.method}: {len(res.history)} rounds, best round {res.best_round}, "
        f"val {min(h.val_loss for h in res.history if h.val_loss is not None):.4f}")
    twins = {k: m.vector.copy() for k, m in res.cluster_twins.items()}
    hist = [dataclasses.asdict(h) for h in res.history]
    return res, MethodResult(twins, led, time.perf_counter() - t_wall, {"rounds": hist, "best_round": res.best_round})


def run_htwin(p: Prepared, cfg: TwinBenchConfig, wire: WireSizes, vres: SyncResult, vled: CostLedger,
              clustered: bool, log: Callable[[str], None], days: float | None = None) -> MethodResult:
    """V-twin + asynchronous FedBuff updates for ``days`` (default: the whole maintenance period)."""
    t_wall = time.perf_counter()
    sc = p.sc
    led = CostLedger("htwin" if clustered else "htwin_noclust")
    led.merge(vled)
    labels = p.labels if clustered else np.zeros_like(p.labels)
    acfg = AsyncConfig(buffer_size=sc.buffer_size, max_staleness=cfg.max_staleness,
                       staleness_exponent=cfg.staleness_exponent, seed=cfg.seed)
    sizes = {k: int((labels == k).sum()) for k in vres.cluster_twins}
    servers = {k: FedBuff(m, Mean(), dataclasses.replace(acfg, buffer_size=min(sc.buffer_size, max(sizes[k], 1))))
               for k, m in vres.cluster_twins.items()}
    data_w = {k: float((labels[p.creation_train.cell] == k).sum()) or 1.0 for k in servers}
    endpoint = ClusteredAsync(servers, data_w, vres.global_twin.version)
    rng = np.random.default_rng(cfg.seed + 17)
    period = cfg.update_period_h * 3600.0
    clients = [SimClient(str(int(cid)), int(labels[r]), period_s=period, phase_s=float(rng.uniform(0, period)),
                         slowness=float(rng.lognormal(0.0, cfg.slowness_sigma)),
                         delay_s=float(cfg.delay_median_s * rng.lognormal(0.0, cfg.delay_sigma)))
               for r, cid in enumerate(p.windows.cell_ids)]
    row = {str(int(cid)): r for r, cid in enumerate(p.windows.cell_ids)}
    # a worker's own data: everything it has seen (its history plus what arrives during maintenance)
    pool = _cat(p.creation_train, p.creation_val, p.maint) if cfg.replay_days is not None else p.maint
    pool_end = pool.start + cfg.horizon
    replay = None if cfg.replay_days is None else int(round(cfg.replay_days * 86_400_000 / p.windows.step_ms))
    seen = {c.client_id: p.m0 for c in clients}
    model = new_model(cfg)
    trainer = LocalTrainer(model, LocalConfig(epochs=sc.maint_epochs, batch_size=sc.local_batch_size,
                                              lr=sc.local_lr, optimizer=cfg.local_optimizer, threads=cfg.threads))
    preq: list[tuple[int, float]] = []
    step_s = p.windows.step_ms / 1000.0

    def work(c: SimClient, now_s: float, served: GlobalModel, seed: int) -> WorkResult | None:
        now = p.m0 + int(now_s // step_s)
        mine = (pool.cell == row[c.client_id]) & (pool_end <= now)
        if not (mine & (pool_end > seen[c.client_id])).any():
            return None  # nothing new since the last update
        # new data only, or the last `replay_days` of the worker's own data (new data + local replay)
        data = pool.subset(mine & (pool_end > (seen[c.client_id] if replay is None else now - replay)))
        seen[c.client_id] = now
        t0 = time.process_time()
        err = float(np.mean((predict(unflatten(served.vector, model), data) - data.y) ** 2))  # test-then-train
        eval_s = time.process_time() - t0
        preq.append((len(data), err))
        res = trainer.train(served.vector, data, client_id=c.client_id, base_version=served.version,
                            cluster=c.cluster, seed=seed)
        return WorkResult(res.update, res.samples, res.compute_s + eval_s)

    sim = AsyncSimulation(clients, endpoint, work,
                          SimConfig(end_s=(days or cfg.maintenance_days) * DAY_S, s_per_sample=cfg.s_per_sample,
                                    link_bps=cfg.link_bps, seed=cfg.seed), wire=wire, ledger=led).run()
    stale = sim.staleness
    n = np.array([a for a, _ in preq], dtype=np.float64)
    e = np.array([b for _, b in preq])
    preq_mse = float((n * e).sum() / n.sum()) if len(n) else float("nan")
    counts = {r: sim.count(r) for r in ("buffered", "applied", "stale", "invalid", "failed")}
    log(f"  {led.method}: {len(sim.events)} updates ({counts['stale']} dropped stale), staleness median "
        f"{np.median(stale) if len(stale) else 0:.0f} max {stale.max() if len(stale) else 0}, "
        f"prequential MSE {preq_mse:.4f}")
    extra = {"updates": len(sim.events), "outcomes": counts, "skipped_wakeups": sim.skipped,
             "staleness_hist": np.bincount(stale).tolist() if len(stale) else [],
             "staleness_mean": float(stale.mean()) if len(stale) else 0.0,
             "virtual_makespan_s": sim.makespan_s, "prequential_mse": preq_mse,
             "versions": {str(k): s.version for k, s in servers.items()},
             "global_version": endpoint.global_model.version}
    twins = {k: s.model.vector.copy() for k, s in servers.items()}
    return MethodResult(twins, led, time.perf_counter() - t_wall, extra)


# -- one data set ----------------------------------------------------------------------------------

def run_scenario(p: Prepared, cfg: TwinBenchConfig, log: Callable[[str], None]) -> dict[str, Any]:
    """Every method on one prepared data set: test metrics, costs, extras."""
    wire = WireSizes.of(layout(new_model(cfg)))
    weights = CostWeights(cfg.link_bps, cfg.compute_weight)
    log(f"{p.name}: {p.n_cells} cells, clusters {np.bincount(p.labels).tolist()}, windows: creation train "
        f"{len(p.creation_train)}, val {len(p.creation_val)}, maintenance {len(p.maint)}, test {len(p.test)}")
    res: dict[str, MethodResult] = {"traditional": run_traditional(p, cfg, wire, log)}
    for clustered in (True, False):
        sfx = "" if clustered else "_noclust"
        vres, vm = run_vtwin(p, cfg, wire, clustered, log)
        res["vtwin" + sfx] = vm
        res["htwin" + sfx] = run_htwin(p, cfg, wire, vres, vm.ledger, clustered, log)
        if clustered:
            res["vtwin"].extra["global_twin"] = vres.global_twin.vector.copy()
    scorer = new_model(cfg)
    out: dict[str, Any] = {"methods": {}, "wire": dataclasses.asdict(wire), "n_cells": p.n_cells,
                           "clusters": np.bincount(p.labels).tolist(),
                           "windows": {"creation_train": len(p.creation_train), "creation_val": len(p.creation_val),
                                       "maintenance": len(p.maint), "test": len(p.test)}}
    trad_cost = res["traditional"].ledger.cost(weights)
    trad = res["traditional"].ledger.totals()
    for name in METHODS:
        m = res[name]
        labels = p.labels if name in ("vtwin", "htwin") else np.zeros_like(p.labels)
        pred = predict_with(m.twins, labels, p.test, scorer)
        met = forecast_metrics(pred, p.test.y, p.test.cell)
        maint_mse = mse_of(m.twins, labels, p.maint, scorer)
        led = m.ledger.as_dict(weights)
        cost = m.ledger.cost(weights)
        extra = {k: v for k, v in m.extra.items() if k != "global_twin"}
        tot = m.ledger.totals()
        out["methods"][name] = {"test": met.as_dict(), "maintenance_mse_after": maint_mse, "cost": led,
                                "cost_s": cost, "cost_reduction_vs_traditional": 1.0 - cost / trad_cost,
                                "compute_reduction_vs_traditional": 1.0 - tot.compute_s / trad.compute_s,
                                "bytes_reduction_vs_traditional": 1.0 - tot.bytes / trad.bytes,
                                "wall_s": m.wall_s, **extra}
    if "global_twin" in res["vtwin"].extra:
        g = res["vtwin"].extra["global_twin"]
        out["vtwin_global_twin_test_mse"] = mse_of(g, p.labels, p.test, scorer)
    # the static V-twin on the windows the H-twin workers scored before training (prequential baseline)
    for sfx in ("", "_noclust"):
        labels = p.labels if not sfx else np.zeros_like(p.labels)
        out["methods"]["vtwin" + sfx]["maintenance_mse"] = mse_of(res["vtwin" + sfx].twins, labels, p.maint, scorer)
    out["sensitivity"] = sensitivity(res, cfg, p)
    return out


def sensitivity(res: dict[str, MethodResult], cfg: TwinBenchConfig, p: Prepared) -> list[dict[str, Any]]:
    """H-twin cost reduction under other raw-data conventions and link rates (same measured compute)."""
    trad = res["traditional"].ledger.totals()
    raw_now = int(p.n_cells * p.m1 * cfg.raw_bytes_per_step)
    rows = []
    for period_s, label in ((cfg.report_period_s, f"KPM every {cfg.report_period_s:g} s"),
                            (600.0, "one KPM report per 10 min"), (None, "bare 10-min series (4 B/value)")):
        raw = int(p.n_cells * p.m1 * (4 if period_s is None else cfg.raw_report_bytes * 600.0 / period_s))
        t = dataclasses.replace(trad, bytes_up=trad.bytes_up - raw_now + raw)
        for bps in (10e6, 100e6, 1e9):
            w = CostWeights(bps, cfg.compute_weight)
            row = {"raw_data": label, "link_bps": bps, "traditional_cost_s": w.cost(t)}
            for name in ("htwin", "htwin_noclust", "vtwin"):
                row[name] = 1.0 - w.cost(res[name].ledger.totals()) / w.cost(t)
            rows.append(row)
    return rows
