"""Naive forecasts the twin must beat, on exactly the twin's windows.

* persistence: the last observed value ``x[t-1]`` repeated over the horizon;
* seasonal-naive (day): ``x[t+j-P_day]`` for horizon step ``j``;
* seasonal-naive (week): ``x[t+j-P_week]``.

All read the window's own (z-scored) series at the window's cell and target start, so they are scored on
the same windows as the LSTM. A lag that falls before the series start, or on an unobserved value,
gives NaN for that window: metrics then score the baseline on the windows where it exists and report
the coverage (see :class:`dnt.twin.metrics.ForecastMetrics`). With FedDA's 3-day period lags the day
lag is always inside the window's own inputs; the week lag needs 7 days of history before a test target.
"""

from __future__ import annotations

import numpy as np

from dnt.data.frame import DAY_MS
from dnt.data.windows import Split, Windows
from dnt.errors import ConfigError

__all__ = ["BASELINES", "persistence", "seasonal_naive", "baseline_forecasts"]

BASELINES: tuple[str, ...] = ("persistence", "seasonal_day", "seasonal_week")


def _lookup(series: np.ndarray, cell: np.ndarray, idx: np.ndarray) -> np.ndarray:
    series = np.asarray(series, dtype=np.float64)
    if series.ndim == 1:
        series = series[None, :]
    cell = np.asarray(cell, dtype=np.int64)[:, None]
    ok = (idx >= 0) & (idx < series.shape[1])
    out = np.full(idx.shape, np.nan)
    cells = np.broadcast_to(cell, idx.shape)
    out[ok] = series[cells[ok], idx[ok]]
    return out


def persistence(series: np.ndarray, cell: np.ndarray, start: np.ndarray, horizon: int) -> np.ndarray:
    """(N, h) forecasts ``x[t-1]`` for every horizon step.

    Parameters
    ----------
    series : (C, T) or (T,) values (NaN = unobserved).
    cell : (N,) row of each window's cell in ``series`` (zeros for a 1-D series).
    start : (N,) step ``t`` of each window's first target.
    """
    start = np.asarray(start, dtype=np.int64)
    idx = np.repeat((start - 1)[:, None], horizon, axis=1)
    return _lookup(series, cell, idx)


def seasonal_naive(series: np.ndarray, cell: np.ndarray, start: np.ndarray, horizon: int,
                   lag_steps: int) -> np.ndarray:
    """(N, h) forecasts ``x[t+j-lag]``; NaN where that step is before the series or unobserved.

    Raises
    ------
    ConfigError
        if ``lag_steps < horizon`` (the forecast would read the future).
    """
    if lag_steps < horizon:
        raise ConfigError(f"seasonal lag {lag_steps} is shorter than the horizon {horizon}")
    start = np.asarray(start, dtype=np.int64)
    idx = start[:, None] + np.arange(horizon)[None, :] - lag_steps
    return _lookup(series, cell, idx)


def baseline_forecasts(windows: Windows, split: Split) -> dict[str, np.ndarray]:
    """The three baselines for ``split``'s windows, in z-units, keyed as :data:`BASELINES`."""
    h = windows.cfg.horizon
    if DAY_MS % windows.step_ms:
        raise ConfigError(f"step {windows.step_ms} ms does not divide a day; no seasonal baselines")
    day = DAY_MS // windows.step_ms
    s = windows.series
    return {
        "persistence": persistence(s, split.cell, split.start, h),
        "seasonal_day": seasonal_naive(s, split.cell, split.start, h, day),
        "seasonal_week": seasonal_naive(s, split.cell, split.start, h, 7 * day),
    }
