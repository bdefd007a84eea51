"""Forecast metrics on hand-computed arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dnt.errors import DataError
from dnt.twin.metrics import forecast_metrics, mae, mse, nrmse, per_cell_metrics


def test_mse_mae_overall_and_per_step() -> None:
    # Prepare: errors [[1, 0], [-1, -2]]
    pred = np.array([[1.0, 2.0], [3.0, 4.0]])
    truth = np.array([[0.0, 2.0], [4.0, 6.0]])
    # Execute
    m = forecast_metrics(pred, truth)
    # Assert
    assert m.mse == pytest.approx(1.5)
    assert m.mae == pytest.approx(1.0)
    np.testing.assert_allclose(m.step_mse, [1.0, 2.0])
    np.testing.assert_allclose(m.step_mae, [1.0, 1.0])
    assert m.nrmse == pytest.approx(math.sqrt(1.5) / 6.0)
    np.testing.assert_allclose(m.step_nrmse, [1 / 4, math.sqrt(2) / 4])
    assert (m.n, m.n_total, m.coverage) == (2, 2, 1.0)


def test_nrmse_is_averaged_over_cells() -> None:
    # cell 0: errors [1, 0], range 2 -> sqrt(.5)/2; cell 1: errors [-1, -2], range 2 -> sqrt(2.5)/2
    pred = np.array([1.0, 2.0, 3.0, 4.0])
    truth = np.array([0.0, 2.0, 4.0, 6.0])
    cell = np.array([0, 0, 1, 1])
    assert nrmse(pred, truth, cell) == pytest.approx((math.sqrt(0.5) + math.sqrt(2.5)) / 4)
    assert mse(pred, truth) == pytest.approx(1.5)
    assert mae(pred, truth) == pytest.approx(1.0)


def test_nan_predictions_are_left_out_and_counted() -> None:
    pred = np.array([[1.0], [np.nan], [3.0]])
    truth = np.array([[0.0], [100.0], [3.0]])
    m = forecast_metrics(pred, truth)
    assert m.mse == pytest.approx(0.5)
    assert (m.n, m.n_total) == (2, 3)
    assert m.coverage == pytest.approx(2 / 3)


def test_all_nan_gives_nan_metrics() -> None:
    m = forecast_metrics(np.full((2, 2), np.nan), np.zeros((2, 2)))
    assert m.n == 0 and math.isnan(m.mse) and m.coverage == 0.0


def test_per_cell_metrics_split_by_cell() -> None:
    pred = np.array([[1.0], [2.0], [5.0]])
    truth = np.array([[0.0], [2.0], [3.0]])
    pc = per_cell_metrics(pred, truth, np.array([4, 4, 9]))
    assert sorted(pc) == [4, 9]
    assert pc[4].mse == pytest.approx(0.5)
    assert pc[9].mse == pytest.approx(4.0)


def test_shape_mismatch_raises() -> None:
    with pytest.raises(DataError, match="shape"):
        forecast_metrics(np.zeros((2, 3)), np.zeros((2, 2)))
