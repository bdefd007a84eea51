"""``dnt twin train``: train a twin on loaded traffic, print the table, write JSON, PNG and the model bundle.

Thin orchestration of :mod:`dnt.twin.evaluate` and :mod:`dnt.twin.bundle` shared by the CLI and the demo.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

from dnt.data.frame import HOUR_MS, STEP_10MIN_MS, Traffic
from dnt.data.windows import WindowConfig
from dnt.errors import ConfigError
from dnt.report import environment, print_table, to_jsonable
from dnt.twin.bundle import save_bundle
from dnt.twin.evaluate import REPORT_COLUMNS, TwinReport, plot_forecasts, report_rows, train_and_evaluate
from dnt.twin.model import ModelConfig
from dnt.twin.train import EpochStats, TrainConfig

__all__ = ["TwinRunConfig", "TwinRunResult", "run_twin_training"]

RESOLUTIONS = {"10min": STEP_10MIN_MS, "hourly": HOUR_MS}


@dataclass(frozen=True)
class TwinRunConfig:
    """One twin-training run."""

    channel: str = "internet"
    """Channel to forecast."""
    resolution: str = "10min"
    """``10min`` (the data's own step) or ``hourly`` (summed, FedDA's setup)."""
    window: WindowConfig = WindowConfig(closeness=12)
    """Lags, horizon and splits (closeness 12 at 10 min: measured better than FedDA's 3 in bench/forecast.py)."""
    model: ModelConfig = ModelConfig(residual=True)
    """LSTM size; residual = predict the change from the last value (bench/forecast.py's tuned setting)."""
    train: TrainConfig = TrainConfig(ema_decay=0.999)
    """Optimiser and early stopping on an averaged copy of the weights (lower seed-to-seed spread)."""
    plot_cells: int = 3
    """How many cells the forecast plot shows."""

    def __post_init__(self) -> None:
        if self.resolution not in RESOLUTIONS:
            raise ConfigError(f"resolution must be one of {sorted(RESOLUTIONS)}, got {self.resolution!r}")

    @staticmethod
    def add_arguments(p: argparse.ArgumentParser) -> None:
        d = TwinRunConfig()
        p.add_argument("--channel", default=d.channel)
        p.add_argument("--resolution", choices=sorted(RESOLUTIONS), default=d.resolution)
        p.add_argument("--horizon", type=int, default=d.window.horizon, help="steps ahead (6 = 1 h at 10 min)")
        p.add_argument("--closeness", type=int, default=d.window.closeness)
        p.add_argument("--period", type=int, default=d.window.period)
        p.add_argument("--test-days", type=float, default=d.window.test_days)
        p.add_argument("--val-days", type=float, default=d.window.val_days)
        p.add_argument("--hidden", type=int, default=d.model.hidden)
        p.add_argument("--residual", action=argparse.BooleanOptionalAction, default=d.model.residual,
                       help="predict the change from the last observed value")
        p.add_argument("--ema-decay", type=float, default=d.train.ema_decay,
                       help="keep an exponential average of the weights (0 < d < 1)")
        p.add_argument("--epochs", type=int, default=d.train.epochs)
        p.add_argument("--batch-size", type=int, default=d.train.batch_size)
        p.add_argument("--lr", type=float, default=d.train.lr)
        p.add_argument("--patience", type=int, default=d.train.patience)
        p.add_argument("--max-minutes", type=float, default=d.train.max_minutes)

    @classmethod
    def from_args(cls, a: argparse.Namespace) -> TwinRunConfig:
        return cls(
            channel=a.channel, resolution=a.resolution,
            window=WindowConfig(closeness=a.closeness, period=a.period, horizon=a.horizon,
                                test_days=a.test_days, val_days=a.val_days),
            model=ModelConfig(hidden=a.hidden, residual=a.residual),
            train=TrainConfig(epochs=a.epochs, batch_size=a.batch_size, lr=a.lr, patience=a.patience,
                              seed=a.seed, max_minutes=a.max_minutes, ema_decay=a.ema_decay),
        )


@dataclass(frozen=True)
class TwinRunResult:
    report: TwinReport
    metrics_path: Path
    plot_path: Path
    model_path: Path
    model_digest: str


def _epoch_printer(show: bool, label: str):  # noqa: ANN202
    from rich.console import Console

    console = Console()

    def on_epoch(stats: EpochStats) -> None:
        if show:
            mark = "*" if stats.best else " "
            console.print(f"  {label} epoch {stats.epoch:3d}  train {stats.train_loss:.4f}  "
                          f"val {stats.val_loss:.4f} {mark}  ({stats.elapsed_s:.1f} s)")

    return on_epoch


def run_twin_training(traffic: Traffic, cfg: TwinRunConfig, out_dir: Path, show_progress: bool = True,
                      label: str = "twin") -> TwinRunResult:
    """Train and evaluate on ``traffic``; write ``metrics.json``, ``forecast.png`` and ``twin.bundle``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    step = RESOLUTIONS[cfg.resolution]
    if step != traffic.step_ms:
        traffic = traffic.resample(step)
    report = train_and_evaluate(traffic, cfg.channel, cfg.window, cfg.train,
                                progress=_epoch_printer(show_progress, label), model_cfg=cfg.model)
    rows = report_rows(report)
    if report.cell_ids.size > 3:  # keep the printed table readable: overall rows only
        rows = [r for r in rows if r[0] == "all"]
    print_table(f"{label}: {cfg.channel}, {cfg.resolution}, horizon {cfg.window.horizon} "
                f"(test MSE/MAE in z-units)", REPORT_COLUMNS, rows)
    model_path = out_dir / "twin.bundle"
    digest = save_bundle(report.forecaster, model_path, metadata={
        "channel": cfg.channel, "resolution": cfg.resolution, "cells": report.cell_ids.tolist(),
        "test_mse_z": report.overall["lstm"].mse})
    plot_path = plot_forecasts(report, out_dir / "forecast.png",
                               cells=[int(c) for c in report.cell_ids[: cfg.plot_cells]])
    metrics_path = out_dir / "metrics.json"
    metrics_path.write_text(json.dumps(to_jsonable({
        "config": cfg, "environment": environment(), "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "model": {"path": model_path.name, "sha256": digest}, **report.summary()}), indent=2) + "\n")
    return TwinRunResult(report, metrics_path, plot_path, model_path, digest)
