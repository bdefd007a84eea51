"""Naive baselines on hand-checked series."""

from __future__ import annotations

import numpy as np
import pytest

from dnt.data.frame import HOUR_MS, Traffic
from dnt.data.windows import WindowConfig, build_windows
from dnt.errors import ConfigError
from dnt.twin.baselines import baseline_forecasts, persistence, seasonal_naive


def test_persistence_repeats_last_value() -> None:
    s = np.arange(20.0)
    out = persistence(s, np.zeros(2, dtype=np.int64), np.array([5, 10]), horizon=3)
    np.testing.assert_array_equal(out, [[4, 4, 4], [9, 9, 9]])


def test_seasonal_naive_reads_lagged_block_and_marks_missing() -> None:
    s = np.arange(20.0)
    out = seasonal_naive(s, np.zeros(2, dtype=np.int64), np.array([5, 2]), horizon=3, lag_steps=4)
    np.testing.assert_array_equal(out[0], [1, 2, 3])
    assert np.isnan(out[1, :2]).all() and out[1, 2] == 0


def test_seasonal_naive_uses_the_right_cell_and_nan_values() -> None:
    s = np.array([[0.0, 1, 2, 3, 4], [10, np.nan, 12, 13, 14]])
    out = seasonal_naive(s, np.array([0, 1]), np.array([3, 3]), horizon=2, lag_steps=2)
    np.testing.assert_array_equal(out[0], [1, 2])
    assert np.isnan(out[1, 0]) and out[1, 1] == 12


def test_lag_shorter_than_horizon_raises() -> None:
    with pytest.raises(ConfigError, match="horizon"):
        seasonal_naive(np.arange(10.0), np.zeros(1, dtype=np.int64), np.array([5]), horizon=3, lag_steps=2)


def test_baseline_forecasts_on_windows_day_and_week() -> None:
    # Prepare: 10 days hourly arange; test = last day, no validation; horizon 2
    x = np.arange(240, dtype=np.float32).reshape(1, -1, 1)
    tr = Traffic(np.array([1]), 0, HOUR_MS, x, ("internet",))
    w = build_windows(tr, "internet", WindowConfig(horizon=2, test_days=1, val_days=0))
    # Execute
    b = baseline_forecasts(w, w.test)
    raw = {k: w.to_raw(v, w.test.cell) for k, v in b.items()}
    # Assert: first test window starts at t = 216
    t = int(w.test.start[0])
    assert t == 216
    np.testing.assert_allclose(raw["persistence"][0], [t - 1, t - 1], atol=1e-3)
    np.testing.assert_allclose(raw["seasonal_day"][0], [t - 24, t - 23], atol=1e-3)
    np.testing.assert_allclose(raw["seasonal_week"][0], [t - 168, t - 167], atol=1e-3)
    # the day baseline is the window's own k=1 period block
    np.testing.assert_allclose(b["seasonal_day"], w.test.xp[:, 0, :], atol=1e-6)
