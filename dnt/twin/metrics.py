"""Forecast error metrics as FedDA reports them: MSE, MAE and NRMSE in z-units.

FedDA (``chuanting/FedDA``) computes MSE and MAE over all cells' test predictions in the normalised
space, and NRMSE per cell as ``RMSE / (max - min)`` of that cell's truth, averaged over cells. Here each
is also given per horizon step. Windows whose prediction has a NaN (a baseline without the lag it
needs) are left out and counted in ``n``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dnt.errors import DataError

__all__ = ["ForecastMetrics", "forecast_metrics", "per_cell_metrics", "mse", "mae", "nrmse"]


@dataclass(frozen=True, eq=False)
class ForecastMetrics:
    """Errors of one method on one set of windows.

    Parameters
    ----------
    mse, mae, nrmse : averaged over all windows and horizon steps.
    n : number of windows scored (those with a NaN-free prediction).
    n_total : number of windows offered.
    step_mse, step_mae, step_nrmse : (h,) the same per horizon step (step ``j`` = ``j+1`` ahead).
    """

    mse: float
    mae: float
    nrmse: float
    n: int
    n_total: int
    step_mse: np.ndarray
    step_mae: np.ndarray
    step_nrmse: np.ndarray

    @property
    def coverage(self) -> float:
        """Fraction of the offered windows that were scored."""
        return self.n / self.n_total if self.n_total else 0.0

    def as_dict(self) -> dict[str, object]:
        return {"mse": self.mse, "mae": self.mae, "nrmse": self.nrmse, "n": self.n,
                "n_total": self.n_total, "coverage": self.coverage,
                "step_mse": self.step_mse.tolist(), "step_mae": self.step_mae.tolist(),
                "step_nrmse": self.step_nrmse.tolist()}


def _check(pred: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(pred, dtype=np.float64)
    truth = np.asarray(truth, dtype=np.float64)
    if pred.ndim == 1:
        pred = pred[:, None]
    if truth.ndim == 1:
        truth = truth[:, None]
    if pred.shape != truth.shape:
        raise DataError(f"prediction shape {pred.shape} != truth shape {truth.shape}")
    return pred, truth


def mse(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean squared error over every element."""
    p, t = _check(pred, truth)
    return float(np.mean((p - t) ** 2))


def mae(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute error over every element."""
    p, t = _check(pred, truth)
    return float(np.mean(np.abs(p - t)))


def nrmse(pred: np.ndarray, truth: np.ndarray, cell: np.ndarray | None = None) -> float:
    """Per-cell ``RMSE / (max - min)`` of the cell's truth, averaged over cells (FedDA).

    Cells whose truth is constant have no range and are left out of the average (NaN if all are).
    """
    p, t = _check(pred, truth)
    groups = np.zeros(len(p), dtype=np.int64) if cell is None else np.asarray(cell)
    vals = []
    for g in np.unique(groups):
        sel = groups == g
        span = float(t[sel].max() - t[sel].min())
        if span > 0:
            vals.append(float(np.sqrt(np.mean((p[sel] - t[sel]) ** 2))) / span)
    return float(np.mean(vals)) if vals else float("nan")


def forecast_metrics(pred: np.ndarray, truth: np.ndarray, cell: np.ndarray | None = None) -> ForecastMetrics:
    """MSE, MAE, NRMSE overall and per horizon step.

    Parameters
    ----------
    pred, truth : (N, h) or (N,) arrays in the same units (z-units for FedDA comparability).
    cell : (N,) group of each window for NRMSE (``None``: one group).
    """
    p, t = _check(pred, truth)
    ok = ~np.isnan(p).any(axis=1)
    if np.isnan(t[ok]).any():
        raise DataError("truth contains NaN")
    n_total, h = p.shape
    c = None if cell is None else np.asarray(cell)[ok]
    p, t = p[ok], t[ok]
    if len(p) == 0:
        nan_h = np.full(h, np.nan)
        return ForecastMetrics(float("nan"), float("nan"), float("nan"), 0, n_total, nan_h, nan_h, nan_h)
    return ForecastMetrics(
        mse=mse(p, t), mae=mae(p, t), nrmse=nrmse(p, t, c), n=int(len(p)), n_total=int(n_total),
        step_mse=np.mean((p - t) ** 2, axis=0), step_mae=np.mean(np.abs(p - t), axis=0),
        step_nrmse=np.array([nrmse(p[:, j], t[:, j], c) for j in range(h)]),
    )


def per_cell_metrics(pred: np.ndarray, truth: np.ndarray, cell: np.ndarray) -> dict[int, ForecastMetrics]:
    """:func:`forecast_metrics` for each distinct value of ``cell`` (keyed by that value)."""
    p, t = _check(pred, truth)
    cell = np.asarray(cell)
    return {int(c): forecast_metrics(p[cell == c], t[cell == c]) for c in np.unique(cell)}
