"""Twin lifecycle benchmark: traditional DT vs V-twin vs H-twin (the survey's Fig. 3 comparison).

Question: over a twin's life — creation from history, a maintenance period in which new data keep
arriving, then use — how close does the federated H-twin come to a centrally retrained twin, and at
what cost? Five methods on the same data, windows (10-min, closeness 12, 3 daily lags, horizon 6 = one
hour, the tuned twin of docs/conventions.md) and test week:

* ``traditional`` — every cell uploads its raw measurement stream to a centre, which trains one twin
  (early stopping) and retrains it, warm-started, on all data so far every ``retrain_every_days``.
* ``vtwin`` — V-twin: synchronous FedAvg rounds over FedDA's clusters (one twin per cluster + a global
  twin, :class:`dnt.fl.SyncRounds`); static after creation.
* ``htwin`` — H-twin: the V-twin, then asynchronous FedBuff updates (:class:`dnt.fl.FedBuff` per cluster)
  pushed by every cell once a day, each trained on the cell's own last 7 days (the new data plus local
  replay of one weekly cycle), on a virtual clock with heterogeneous worker speeds and delays
  (:class:`dnt.fl.AsyncSimulation`), stale updates discounted and bounded.
* ``vtwin_noclust`` / ``htwin_noclust`` — the same with one cluster (plain FedAvg / FedBuff).

Protocol per data set (days counted back from the end): test = the last 7 days; maintenance = the 14
days before; creation = everything earlier, its last 2 days as validation for early stopping (of
the central fit and of the FL rounds). Every model is frozen during the test week and scored on it in
z-units (per-cell z-score with creation-period statistics, as FedDA): MSE, MAE, NRMSE. Nothing is tuned
on the test week; H-twin workers also report a prequential loss (the served twin on new data before
training on it), the maintenance-period signal an operator would watch.

Cost (:mod:`dnt.fl.cost`): bytes up and down, client and server CPU seconds (``time.process_time``),
folded into resource-seconds ``cost_s = compute_s + 8 * bytes / link_bps`` (default 100 Mbit/s).
The traditional DT uploads the raw KPM stream: one RIC INDICATION of ``raw_report_bytes`` (392 B, a
cell's 11-measurement KPM report as encoded by dnt.e2, see bench/results/e2.json) every
``report_period_s`` (1 s, the period the E2 simulator and bench use). FL methods send models: one
GlobalTwin down and one TwinUpdate up per local training (their real encoded sizes). The result also
gives the cost reduction under other conventions (10-min reports, other link rates): the byte side of
the comparison depends on how much raw data a centre would ingest.

Data: the synthetic default (400 cells, the 20 x 20 block around the Duomo, 35 days ending 1 Jan 2014,
the same calendar as the real series) and the real 62-day series of cells 4159, 4556, 5161
(../shared/data/milan; skipped with a message when absent). For speed on 2 CPU cores the synthetic
set trains on a random 1/24 of each cell's 10-min windows (and FL on the same windows) and is scored
on non-overlapping hourly blocks (every 6th window); the real set uses every window.

Settings were chosen on validation data only: the creation period's last 2 days (local optimiser, local
batch and learning rate) and the maintenance period itself (the H-twin's replay window: adapt on
maintenance days 1-7, freeze, score days 8-14); see the field docstrings.

Run ``python bench/twin.py`` (about 8-10 minutes on 2 cores) or ``--quick`` (tiny budgets, for tests).
Writes ``<out>/twin.json`` and ``twin.png``, prints tables.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from twin_methods import METHODS, prepare, run_scenario

from dnt.data.converted import read_converted
from dnt.data.frame import Traffic
from dnt.data.synth import SynthConfig, generate
from dnt.data.windows import WindowConfig
from dnt.report import Target, print_table, write_result
from dnt.twin import ModelConfig

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@dataclass(frozen=True)
class ScenarioConfig:
    """Per-data-set settings (sizes and budgets)."""

    n_clusters: int
    """FedDA clusters for the V-twin (``*_noclust`` use one)."""
    train_fraction: float
    """Random share of each cell's training windows used by every method (speed)."""
    val_fraction: float
    """Random share of the creation-validation windows (early stopping)."""
    test_stride: int
    """Score every ``test_stride``-th test window (6 = non-overlapping hourly blocks)."""
    rounds: int
    """V-twin synchronous rounds (the best on validation is kept)."""
    fraction: float
    """Share of each cluster's cells per round (FedDA: 0.1)."""
    local_epochs: int
    """Local epochs per V-twin round."""
    local_batch_size: int
    """Local batch size (small when clients hold few windows, so a round takes several steps)."""
    local_lr: float
    """Local Adam learning rate."""
    buffer_size: int
    """FedBuff K per cluster (capped at the cluster's size)."""
    maint_epochs: int
    """Local epochs per H-twin update."""


@dataclass(frozen=True)
class TwinBenchConfig:
    """The twin lifecycle benchmark's settings (recorded in the result JSON)."""

    channel: str = "internet"
    """Channel forecast."""
    synth_cells: int = 400
    """Synthetic cells (the centred block around cell 5161)."""
    synth_days: int = 35
    """Synthetic days, ending on 1 Jan 2014 like the real series."""
    synth_seed: int = 0
    """Synthetic data seed."""
    real_file: str = "data/milan/internet_3cells_10min_62days.csv.gz"
    """Real series, relative to ../shared."""
    test_days: int = 7
    """Test period at the end (every model frozen)."""
    maintenance_days: int = 14
    """Maintenance period before the test week (new data arrive; H-twin adapts; traditional retrains)."""
    val_days: int = 2
    """Last days of the creation period used as validation."""
    closeness: int = 12
    """10-min closeness lags (tuned twin, docs/conventions.md)."""
    period: int = 3
    """Daily period lags."""
    horizon: int = 6
    """10-min steps forecast (one hour)."""
    hidden: int = 64
    """LSTM hidden units (FedDA)."""
    layers: int = 2
    """LSTM layers (FedDA)."""
    dropout: float = 0.2
    """Dropout between LSTM layers (FedDA)."""
    central_epochs: int = 40
    """Traditional DT: maximum epochs of the creation fit."""
    central_patience: int = 4
    """Traditional DT: early-stopping patience (epochs)."""
    retrain_every_days: int = 7
    """Traditional DT: retraining schedule during maintenance (two retrains in 14 days)."""
    retrain_epochs: int = 12
    """Traditional DT: maximum epochs of a warm-started retrain."""
    retrain_patience: int = 2
    """Traditional DT: retrain early-stopping patience."""
    lr: float = 1e-3
    """Adam learning rate of the central fit."""
    batch_size: int = 64
    """Batch size of the central fit."""
    ema_decay: float | None = 0.999
    """Weight EMA of the central fit (tuned twin); FL local runs are too short for it."""
    local_optimizer: str = "adam"
    """FL local optimiser: ``adam`` (measured better on the real creation validation: 0.050 vs 0.064 after 12
    rounds, and faster) or ``sgd`` (FedDA: momentum 0.9, lr 1e-2, batch 20)."""
    global_mix: float = 0.5
    """V-twin: pull of each cluster twin towards the global twin after each round."""
    max_staleness: int = 5
    """H-twin: drop updates more than this many versions old."""
    staleness_exponent: float = 0.5
    """H-twin: ``s(tau) = (1 + tau) ** -a`` (FedBuff's 1/sqrt(1 + tau))."""
    replay_days: float | None = 7.0
    """H-twin: each update trains on the worker's last ``replay_days`` of its own data (new data plus local
    replay of one weekly cycle, against forgetting); ``None`` = only the data new since its last update.
    Chosen on maintenance data only (adapt on maintenance days 1-7, freeze, score days 8-14): frozen MSE
    synthetic 0.234 with 7-day replay and 1 epoch vs 0.278 with new data only and 3 epochs (static V-twin
    0.248); real 0.0214 vs 0.0238 (static 0.0274). New-data-only updates track the last day (lower
    prequential loss) but forget the weekly cycle."""
    update_period_h: float = 24.0
    """H-twin: each worker pushes one update per this many hours (random phase)."""
    s_per_sample: float = 0.05
    """H-twin clock: virtual seconds per training sample-pass on a worker of slowness 1."""
    slowness_sigma: float = 1.0
    """H-twin clock: log-normal sigma of worker slowness (median 1)."""
    delay_median_s: float = 1800.0
    """H-twin clock: median extra delay of a worker's updates (queueing, busy host)."""
    delay_sigma: float = 1.5
    """H-twin clock: log-normal sigma of that delay."""
    raw_report_bytes: int = 392
    """Traditional DT: bytes of one cell's KPM report (RIC INDICATION, bench/results/e2.json pdu_bytes)."""
    report_period_s: float = 1.0
    """Traditional DT: KPM reporting period (the E2 simulator's and bench/e2.py's)."""
    link_bps: float = 100e6
    """Cost: link rate converting bytes into link-seconds."""
    compute_weight: float = 1.0
    """Cost: resource-seconds per CPU second."""
    seed: int = 0
    """Seed of model init, sampling and the virtual clock."""
    threads: int = 1
    """torch threads (docs/conventions.md)."""
    synthetic: ScenarioConfig = ScenarioConfig(n_clusters=4, train_fraction=1 / 24, val_fraction=1 / 12,
                                               test_stride=6, rounds=30, fraction=0.1, local_epochs=4,
                                               local_batch_size=16, local_lr=2e-3, buffer_size=10, maint_epochs=1)
    """Synthetic set: sizes and budgets."""
    real: ScenarioConfig = ScenarioConfig(n_clusters=2, train_fraction=1.0, val_fraction=1.0, test_stride=1,
                                          rounds=30, fraction=1.0, local_epochs=1, local_batch_size=64, local_lr=1e-3,
                                          buffer_size=2, maint_epochs=1)
    """Real 3-cell set: sizes and budgets."""
    quick: bool = False
    """Tiny budgets: a smoke test of the script, not a result."""

    def quick_version(self) -> TwinBenchConfig:
        small = dict(rounds=2, local_epochs=1, maint_epochs=1)
        return dataclasses.replace(
            self, synth_cells=16, central_epochs=1, retrain_epochs=1, quick=True,
            synthetic=dataclasses.replace(self.synthetic, n_clusters=2, fraction=0.5, buffer_size=3, **small),
            real=dataclasses.replace(self.real, train_fraction=0.1, val_fraction=0.2, test_stride=6, **small))

    def window_cfg(self) -> WindowConfig:
        return WindowConfig(self.closeness, self.period, None, self.horizon, float(self.test_days),
                            float(self.maintenance_days + self.val_days))

    def model_cfg(self) -> ModelConfig:
        return ModelConfig(self.hidden, self.layers, self.dropout, chronological=True, residual=True)

    @property
    def raw_bytes_per_step(self) -> float:
        """Raw bytes a cell uploads per 10-min step (reports of ``raw_report_bytes`` every period)."""
        return self.raw_report_bytes * 600.0 / self.report_period_s


# -- output ----------------------------------------------------------------------------------------

def plot(results: dict[str, dict[str, Any]], path: Path, cfg_link: float) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), 2, figsize=(12, 3.8 * len(results)), squeeze=False)
    for row, (name, r) in enumerate(results.items()):
        ms = r["methods"]
        ax = axes[row][0]
        ax.bar(METHODS, [ms[m]["test"]["mse"] for m in METHODS], color=["grey", "C0", "C1", "C2", "C3"])
        ax.set_title(f"{name}: test-week MSE (z-units)")
        ax.tick_params(axis="x", rotation=20)
        ax = axes[row][1]
        link = np.array([ms[m]["cost"]["total"]["link_s"] for m in METHODS])
        comp = np.array([ms[m]["cost"]["total"]["compute_s"] for m in METHODS])
        x = np.arange(len(METHODS))
        ax.bar(x - 0.2, comp, 0.4, label="compute (CPU s)")
        ax.bar(x + 0.2, link, 0.4, label=f"bytes (link s at {cfg_link / 1e6:g} Mbit/s)")
        ax.set_xticks(x, METHODS, rotation=20)
        ax.set_yscale("log")
        ax.set_title(f"{name}: lifecycle cost parts (log)")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def method_rows(r: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for m in METHODS:
        d = r["methods"][m]
        t = d["cost"]["total"]
        rows.append([m, d["test"]["mse"], d["test"]["mae"], d["test"]["nrmse"], t["bytes_up"] / 1e6,
                     t["bytes_down"] / 1e6, t["client_s"], t["server_s"], t["cost_s"],
                     d["compute_reduction_vs_traditional"], d["cost_reduction_vs_traditional"]])
    return rows


def load_real(cfg: TwinBenchConfig) -> Traffic | None:
    path = SHARED / cfg.real_file
    if not path.exists():
        return None
    return read_converted(path).select_channels([cfg.channel])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny budgets (smoke test, not a result)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="results directory")
    args = ap.parse_args(argv)
    cfg = TwinBenchConfig()
    if args.quick:
        cfg = cfg.quick_version()
    torch.set_num_threads(cfg.threads)
    with threadpool_limits(limits=cfg.threads):  # numpy's OpenBLAS and sklearn's OpenMP pools too
        return _main(cfg, args.out)


def _main(cfg: TwinBenchConfig, out_dir: Path) -> int:
    t_start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t_start:6.0f}s] {msg}", flush=True)

    results: dict[str, dict[str, Any]] = {}
    wall: dict[str, float] = {}
    start = (np.datetime64("2014-01-02") - np.timedelta64(cfg.synth_days, "D")).astype(str)
    t0 = time.perf_counter()
    synth = generate(SynthConfig(n_cells=cfg.synth_cells, days=cfg.synth_days, start_date=start,
                                 seed=cfg.synth_seed)).select_channels([cfg.channel])
    results["synthetic"] = run_scenario(prepare("synthetic", synth, cfg, cfg.synthetic), cfg, log)
    wall["synthetic"] = time.perf_counter() - t0
    real = load_real(cfg)
    real_note = None
    if real is None:
        real_note = f"real series {SHARED / cfg.real_file} absent (../shared beside the repository); real part skipped"
        print(f"twin bench: {real_note}", file=sys.stderr)
    else:
        t0 = time.perf_counter()
        results["real"] = run_scenario(prepare("real", real, cfg, cfg.real), cfg, log)
        wall["real"] = time.perf_counter() - t0
    total = time.perf_counter() - t_start

    cols = ["method", "MSE", "MAE", "NRMSE", "MB up", "MB down", "client s", "server s", "cost s", "compute red.",
            "cost red."]
    for name, r in results.items():
        print_table(f"{name}: test week (z-units) and lifecycle cost (creation + maintenance)", cols, method_rows(r))
        print_table(f"{name}: H-twin cost reduction vs traditional under other conventions",
                    ["raw data at the centre", "link", "htwin", "htwin_noclust", "vtwin"],
                    [[s["raw_data"], f"{s['link_bps'] / 1e6:g} Mbit/s", s["htwin"], s["htwin_noclust"], s["vtwin"]]
                     for s in r["sensitivity"]])

    targets: list[Target] = []
    for name, sfx in (("synthetic", ""), ("real", "_real")):
        if name not in results:
            continue
        ms = results[name]["methods"]
        ratio = ms["htwin"]["test"]["mse"] / ms["traditional"]["test"]["mse"]
        red = ms["htwin"]["cost_reduction_vs_traditional"]
        targets.append(Target("htwin_error_ratio_vs_centralized" + sfx, round(ratio, 4), "<= 1.05",
                              bool(ratio <= 1.05)))
        targets.append(Target("htwin_cost_reduction_vs_traditional" + sfx, round(red, 4), ">= 0.60", bool(red >= 0.60)))
    if "real" in results:
        ms = results["real"]["methods"]
        r = ms["htwin"]["test"]["mse"] / ms["vtwin"]["test"]["mse"]
        targets.append(Target("htwin_beats_static_vtwin", round(r, 4), "< 1 (H-twin MSE / V-twin MSE, real)",
                              bool(r < 1)))
    print_table("targets", ["name", "value", "goal", "met"], [[t.name, t.value, t.goal, t.met] for t in targets])

    out_dir.mkdir(parents=True, exist_ok=True)
    png = plot(results, out_dir / "twin.png", cfg.link_bps)
    metrics = {**results, "wall_s": wall, "plots": [png.name], "real_skipped": real_note,
               "cost_definition": "cost_s = compute_weight * (client_s + server_s) + 8 * (bytes_up + bytes_down) / "
                                  "link_bps; traditional bytes_up = raw KPM reports (raw_report_bytes every "
                                  "report_period_s per cell); FL bytes = encoded TwinUpdate up + GlobalTwin down per "
                                  "local training",
               "notes": "MSE/MAE/NRMSE in z-units on the test week (last 7 days), models frozen; synthetic: 1/24 of "
                        "the 10-min training windows, test on non-overlapping hourly blocks."}
    out = write_result("twin", config=cfg, metrics=metrics, targets=targets, out_dir=out_dir, wall_s=total)
    met = sum(t.met for t in targets)
    print(f"{met}/{len(targets)} targets met; wrote {out} and {png.name} in {total:.0f}s"
          + (" (QUICK: tiny budgets, not a result)" if cfg.quick else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
