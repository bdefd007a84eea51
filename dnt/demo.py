"""The main job (``make demo``): the twin lifecycle live, then the offline clustering + per-cluster twins.

Stage 1 (:mod:`dnt.demo_twin`): synthetic Milan (or ``--data``) → E2 simulator → local fabric → vtwin rApp
creates the initial twin → two htwin replicas + the aggregator keep it in sync, with a live summary; it writes
``twin_loop.json``, ``twin_forecasts.png``, ``twin_error.png`` and ``twin_bytes.png``. Stage 2 (optional):
synthetic Milan → BS clustering → one twin per cluster (``clusters.png``, ``forecast_cluster<k>.png``).
Everything lands in one report folder with ``report.json``; defaults finish in about 5 minutes on 2 cores.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from dnt.data.frame import Traffic
from dnt.data.summary import summarize
from dnt.data.synth import SynthConfig, generate
from dnt.data.windows import WindowConfig
from dnt.demo_ric import RicDemoConfig, run_ric_demo
from dnt.demo_twin import TwinDemoConfig, run_twin_demo
from dnt.errors import ConfigError
from dnt.fl.clustering import ClusterConfig, Clustering, cluster_cells
from dnt.progress import progress_callback
from dnt.report import environment, print_table, to_jsonable
from dnt.twin.train import TrainConfig
from dnt.twin.workflow import TwinRunConfig, run_twin_training

__all__ = ["DemoConfig", "run_demo"]


@dataclass(frozen=True)
class DemoConfig:
    """The demo's settings (defaults finish in a few minutes on 2 cores)."""

    n_cells: int = 400
    """Synthetic squares: a centred block of the Milan grid."""
    days: int = 28
    """Days of 10-minute data: 3 of lags, 7 validation, 7 test, the rest training."""
    seed: int = 0
    """Seed of the generator, the clustering and the training."""
    n_clusters: int = 4
    """Base-station clusters; one twin is trained per cluster."""
    cells_per_twin: int = 8
    """Cells of each cluster whose history trains and tests its twin (a seeded sample)."""
    twin: TwinRunConfig = field(default_factory=lambda: replace(
        TwinRunConfig(), window=WindowConfig(closeness=12, horizon=6),
        train=TrainConfig(epochs=12, batch_size=128, patience=3, max_minutes=0.6, ema_decay=0.999)))
    """How each cluster twin is trained (10-min steps, horizon 6 = 1 h)."""
    out_dir: str = "runs/demo"
    """Report folder."""
    ric: RicDemoConfig | None = None
    """The kpimon RIC stage (live per-cell KPIs; subsumed by the twin loop, so off by default); None skips it."""
    twin_loop: TwinDemoConfig | None = field(default_factory=TwinDemoConfig)
    """The twin-lifecycle stage (simulator + fabric + vtwin + htwin x2 + aggregator); None skips it."""
    offline: bool = True
    """Run the offline stage (clustering + one twin per cluster) after the loop."""

    def __post_init__(self) -> None:
        if self.cells_per_twin < 1:
            raise ConfigError(f"cells_per_twin must be >= 1, got {self.cells_per_twin}")
        if self.days < 18:
            raise ConfigError(f"days must be >= 18 (3 lag + 7 val + 7 test + >= 1 train), got {self.days}")


def _plot_clusters(traffic: Traffic, result: Clustering, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from dnt.data.grid import cell_to_rc

    rows, cols = cell_to_rc(traffic.cell_ids)
    total = np.nansum(traffic.channel("internet"), axis=1)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 5))
    a.scatter(cols, rows, c=result.labels, cmap="tab10", marker="s", s=30)
    a.set_title(f"{result.labels.max() + 1} BS clusters (location + weekly profile)")
    sc = b.scatter(cols, rows, c=np.log10(total + 1), cmap="viridis", marker="s", s=30)
    b.set_title("internet activity, log10 total")
    fig.colorbar(sc, ax=b)
    for ax in (a, b):
        ax.set_xlabel("column from west")
        ax.set_ylabel("row from south")
        ax.set_aspect("equal")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run_demo(cfg: DemoConfig = DemoConfig(), show_progress: bool = True) -> Path:
    """Run the demo and return the report folder."""
    t0 = time.perf_counter()
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ric = run_ric_demo(cfg.ric, show=show_progress) if cfg.ric is not None else None
    loop = run_twin_demo(cfg.twin_loop, out, show=show_progress) if cfg.twin_loop is not None else None
    doc: dict = {"config": cfg, "environment": environment(), "twin_loop": loop, "ric": ric}
    if cfg.offline:
        doc.update(_offline(cfg, out, show_progress))
    doc["wall_s"] = time.perf_counter() - t0
    (out / "report.json").write_text(json.dumps(to_jsonable(doc), indent=2) + "\n")
    files = sorted(p.name for p in out.glob("*.png"))
    print(f"report: {out}/report.json + {', '.join(files)} ({time.perf_counter() - t0:.0f} s)")
    return out


def _offline(cfg: DemoConfig, out: Path, show_progress: bool) -> dict:
    """Synthetic Milan → BS clustering → one twin per cluster; the report's data/clusters/twins sections."""
    with progress_callback(f"synthetic Milan: {cfg.n_cells} cells x {cfg.days} days", show_progress) as cb:
        traffic = generate(SynthConfig(n_cells=cfg.n_cells, days=cfg.days, seed=cfg.seed), progress=cb)
    info = summarize(traffic)
    print_table("synthetic data", ["channel", "share", "top-10% share", "peak local hour"],
                [(c, s["share"], s["top10pct_share"], s["peak_local_hour"]) for c, s in info["channels"].items()])

    clusters = cluster_cells(traffic, ClusterConfig(n_clusters=cfg.n_clusters, seed=cfg.seed))
    _plot_clusters(traffic, clusters, out / "clusters.png")
    rng = np.random.default_rng(cfg.seed)
    twins = {}
    rows = []
    for k in range(cfg.n_clusters):
        members = clusters.members(k)
        chosen = np.sort(rng.choice(members, size=min(cfg.cells_per_twin, members.size), replace=False))
        run = run_twin_training(traffic.select_cells(chosen), replace(cfg.twin), out / f"cluster{k}",
                                show_progress=show_progress, label=f"cluster {k}")
        (out / f"cluster{k}" / "forecast.png").replace(out / f"forecast_cluster{k}.png")
        rep = run.report
        twins[k] = {"members": members.size, "trained_on": chosen.tolist(), "sha256": run.model_digest,
                    "overall": {m: v.as_dict() for m, v in rep.overall.items()}}
        rows.append([k, members.size, chosen.size, rep.overall["lstm"].mse, rep.overall["persistence"].mse,
                     rep.overall["seasonal_day"].mse, rep.ratio("lstm", "persistence"),
                     rep.ratio("lstm", "seasonal_day")])
    print_table("one twin per cluster: test MSE (z-units), 10-min steps, horizon 6",
                ["cluster", "cells", "twin cells", "lstm", "persistence", "seasonal_day",
                 "lstm/persistence", "lstm/seasonal_day"], rows)
    return {"data": info, "clusters": {"sizes": clusters.sizes, "iterations": clusters.iterations,
                                       "converged": clusters.converged}, "twins": twins}
