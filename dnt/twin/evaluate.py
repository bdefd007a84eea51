"""Train a twin on one channel and score it against the naive baselines on the test windows.

:func:`train_and_evaluate` is what ``dnt twin train``, the demo and ``bench/forecast.py`` call: build
FedDA windows, fit one pooled :class:`~dnt.twin.train.Forecaster` over all cells (per-cell z-score, like
FedDA's centralised baseline), predict the test windows, and compute MSE / MAE / NRMSE (z-units) for the
LSTM and for persistence, seasonal-naive day and week on the same windows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dnt.data.frame import Traffic
from dnt.data.windows import WindowConfig, build_windows
from dnt.errors import DataError
from dnt.twin.baselines import BASELINES, baseline_forecasts
from dnt.twin.metrics import ForecastMetrics, forecast_metrics, per_cell_metrics
from dnt.twin.model import ModelConfig
from dnt.twin.train import EpochStats, Forecaster, TrainConfig, TrainHistory

__all__ = ["METHODS", "REPORT_COLUMNS", "TwinReport", "train_and_evaluate", "report_rows", "plot_forecasts"]

METHODS: tuple[str, ...] = ("lstm", *BASELINES)
REPORT_COLUMNS: tuple[str, ...] = ("cell", "method", "mse_z", "mae_z", "nrmse", "mse/persistence",
                                   "mse/seasonal_day", "windows")


@dataclass(eq=False)
class TwinReport:
    """Test-set results of one trained twin and its baselines.

    Parameters
    ----------
    channel, cell_ids, step_ms : what was forecast (``cell_ids[test_cell]`` is each window's cell).
    window_cfg, model_cfg, train_cfg : the resolved configuration.
    overall : ``method -> ForecastMetrics`` over all test windows (z-units; per step inside).
    per_cell : ``method -> {cell_id -> ForecastMetrics}``.
    test_cell : (N,) row of each test window's cell; ``test_start_ms`` (N,) its first target time.
    truth_z, truth_raw : (N, h) test targets in z-units and raw units.
    pred_z, pred_raw : ``method -> (N, h)`` forecasts (NaN where a baseline lacks its lag).
    history : the training history; ``fit_metrics`` the ``twin/*`` dict from :meth:`Forecaster.fit`.
    forecaster : the trained model (save it with :func:`dnt.twin.save_bundle`).
    wall_s : seconds for windows + training + evaluation.
    """

    channel: str
    cell_ids: np.ndarray
    step_ms: int
    window_cfg: WindowConfig
    model_cfg: ModelConfig
    train_cfg: TrainConfig
    overall: dict[str, ForecastMetrics]
    per_cell: dict[str, dict[int, ForecastMetrics]]
    test_cell: np.ndarray
    test_start_ms: np.ndarray
    truth_z: np.ndarray
    truth_raw: np.ndarray
    pred_z: dict[str, np.ndarray]
    pred_raw: dict[str, np.ndarray]
    history: TrainHistory
    fit_metrics: dict[str, Any]
    forecaster: Forecaster
    wall_s: float = 0.0
    n_windows: dict[str, int] = field(default_factory=dict)

    def ratio(self, method: str, baseline: str, cell_id: int | None = None) -> float:
        """``MSE(method) / MSE(baseline)`` overall or for one cell (< 1: ``method`` is better)."""
        if cell_id is None:
            a, b = self.overall[method], self.overall[baseline]
        else:
            a, b = self.per_cell[method][cell_id], self.per_cell[baseline][cell_id]
        return a.mse / b.mse if b.mse > 0 else float("nan")

    def summary(self) -> dict[str, Any]:
        """JSON-able metrics: overall and per cell, per method, with per-step arrays and the history."""
        return {
            "channel": self.channel, "step_ms": self.step_ms, "cell_ids": self.cell_ids.tolist(),
            "n_windows": self.n_windows,
            "overall": {m: v.as_dict() for m, v in self.overall.items()},
            "per_cell": {m: {str(c): v.as_dict() for c, v in d.items()} for m, d in self.per_cell.items()},
            "fit": self.fit_metrics,
            "history": [vars(e) for e in self.history.epochs],
            "wall_s": self.wall_s,
        }


def train_and_evaluate(traffic: Traffic, channel: str = "internet", window_cfg: WindowConfig | None = None,
                       train_cfg: TrainConfig | None = None,
                       progress: Callable[[EpochStats], None] | None = None,
                       model_cfg: ModelConfig | None = None) -> TwinReport:
    """Build windows, train a pooled twin over all cells of ``traffic``, and score it on the test split.

    Parameters
    ----------
    traffic : the series (resample first for hourly: ``traffic.resample(3_600_000)``).
    channel : the channel to forecast.
    window_cfg, train_cfg, model_cfg : configuration (defaults as in each dataclass).
    progress : per-epoch callback, e.g. to drive a progress bar.

    Raises
    ------
    DataError, ConfigError
        from :func:`~dnt.data.windows.build_windows` for unusable data or settings.
    """
    t0 = time.perf_counter()
    window_cfg = window_cfg or WindowConfig()
    train_cfg = train_cfg or TrainConfig()
    model_cfg = model_cfg or ModelConfig()
    windows = build_windows(traffic, channel, window_cfg)
    forecaster = Forecaster(window_cfg, model_cfg, train_cfg)
    fit_metrics = forecaster.fit(windows, progress)
    if forecaster.history is None:  # pragma: no cover - fit always sets it
        raise DataError("training produced no history")
    test = windows.test
    pred_z = {"lstm": forecaster.predict_split(test), **baseline_forecasts(windows, test)}
    truth_z = test.y.astype(np.float64)
    cell_ids = windows.cell_ids
    overall = {m: forecast_metrics(p, truth_z, test.cell) for m, p in pred_z.items()}
    per_cell = {m: {int(cell_ids[r]): v for r, v in per_cell_metrics(p, truth_z, test.cell).items()}
                for m, p in pred_z.items()}
    fit_metrics = {**fit_metrics, "twin/test_mse": overall["lstm"].mse, "twin/test_mae": overall["lstm"].mae}
    return TwinReport(
        channel=channel, cell_ids=cell_ids, step_ms=windows.step_ms, window_cfg=window_cfg,
        model_cfg=model_cfg, train_cfg=train_cfg, overall=overall, per_cell=per_cell,
        test_cell=test.cell, test_start_ms=windows.times_ms(test), truth_z=truth_z,
        truth_raw=windows.to_raw(truth_z, test.cell),
        pred_z=pred_z, pred_raw={m: windows.to_raw(p, test.cell) for m, p in pred_z.items()},
        history=forecaster.history, fit_metrics=fit_metrics, forecaster=forecaster,
        wall_s=time.perf_counter() - t0, n_windows={k: len(v) for k, v in windows.splits.items()},
    )


def report_rows(report: TwinReport, methods: Sequence[str] = METHODS) -> list[list[Any]]:
    """Rows for :func:`dnt.report.print_table` with :data:`REPORT_COLUMNS`: each cell, then ``all``."""
    rows: list[list[Any]] = []
    keys: list[int | None] = [int(c) for c in report.cell_ids] + [None]
    for cid in keys:
        for m in methods:
            fm = report.overall[m] if cid is None else report.per_cell[m][cid]
            windows = f"{fm.n}" if fm.n == fm.n_total else f"{fm.n}/{fm.n_total}"
            rows.append(["all" if cid is None else cid, m, fm.mse, fm.mae, fm.nrmse,
                         report.ratio(m, "persistence", cid), report.ratio(m, "seasonal_day", cid), windows])
    return rows


def plot_forecasts(report: TwinReport, path: str | Path, cells: Sequence[int] | None = None,
                   n_steps: int | None = None) -> Path:
    """Plot truth vs the 1-step and ``h``-step-ahead LSTM forecasts (raw units) for a few cells.

    Parameters
    ----------
    cells : cell ids to show (default: up to the first three).
    n_steps : how many test steps to show from the start of the test period (default: two days).

    Each forecast line joins the ``j``-step-ahead predictions of consecutive windows at their target
    times; the ``h``-step-ahead persistence and seasonal-day forecasts are drawn for comparison.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    ids = list(cells) if cells is not None else [int(c) for c in report.cell_ids[:3]]
    unknown = [c for c in ids if c not in report.cell_ids]
    if unknown:
        raise DataError(f"cells {unknown} are not in this report ({report.cell_ids.tolist()})")
    day = 86_400_000 // report.step_ms
    n_steps = n_steps or 2 * day
    h = report.window_cfg.horizon
    fig, axes = plt.subplots(len(ids), 1, figsize=(11, 2.8 * len(ids)), squeeze=False)
    for ax, cid in zip(axes[:, 0], ids, strict=True):
        row = int(np.searchsorted(report.cell_ids, cid))
        sel = np.flatnonzero(report.test_cell == row)
        sel = sel[np.argsort(report.test_start_ms[sel])][:n_steps]
        t = report.test_start_ms[sel]

        def at(j: int, _t: np.ndarray = t) -> np.ndarray:
            return (_t + j * report.step_ms).astype("datetime64[ms]")

        ax.plot(at(0), report.truth_raw[sel, 0], color="black", lw=1.4, label="truth")
        ax.plot(at(0), report.pred_raw["lstm"][sel, 0], color="tab:blue", lw=1, label="LSTM 1-step")
        if h > 1:
            ax.plot(at(h - 1), report.pred_raw["lstm"][sel, h - 1], color="tab:orange", lw=1,
                    label=f"LSTM {h}-step")
            ax.plot(at(h - 1), report.pred_raw["persistence"][sel, h - 1], color="tab:gray", lw=0.8,
                    ls="--", label=f"persistence {h}-step")
        ax.plot(at(0), report.pred_raw["seasonal_day"][sel, 0], color="tab:green", lw=0.8, ls=":",
                label="seasonal day")
        mse = report.per_cell["lstm"][cid].mse
        ax.set_title(f"cell {cid} — {report.channel}, test MSE (z) {mse:.4f}", fontsize=9)
        ax.set_ylabel("activity")
        ax.legend(fontsize=7, loc="upper right", ncol=3)
    axes[-1, 0].set_xlabel("time (UTC)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
