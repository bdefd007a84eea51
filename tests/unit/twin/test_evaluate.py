"""train_and_evaluate / report_rows / plot_forecasts on a tiny synthetic series."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from dnt.data.frame import Traffic
from dnt.data.windows import WindowConfig
from dnt.errors import DataError
from dnt.twin.evaluate import (
    METHODS,
    REPORT_COLUMNS,
    TwinReport,
    plot_forecasts,
    report_rows,
    train_and_evaluate,
)
from dnt.twin.model import ModelConfig
from dnt.twin.train import TrainConfig

TRAIN = TrainConfig(epochs=2, batch_size=32, lr=1e-2, threads=1)
MODEL = ModelConfig(hidden=8, layers=1, dropout=0.0)


@pytest.fixture(scope="module")
def report(make_sine_traffic: Callable[..., Traffic]) -> TwinReport:
    # 9 days hourly, test = last 3 days: the week lag exists only for the last 2 test days
    cfg = WindowConfig(closeness=3, period=1, horizon=2, test_days=3, val_days=1)
    return train_and_evaluate(make_sine_traffic(days=9), "internet", cfg, TRAIN, model_cfg=MODEL)


def test_report_scores_every_method_on_the_same_windows(report: TwinReport) -> None:
    n = report.n_windows["test"]
    assert n == 2 * (3 * 24 - 1)
    assert set(report.overall) == set(METHODS)
    for m in ("lstm", "persistence", "seasonal_day"):
        assert report.overall[m].n == n
    # week baseline: only targets at t >= 168 (day 7 on) are scored, and the report says so
    week = report.overall["seasonal_week"]
    assert week.n_total == n and week.n == 2 * (2 * 24 - 1) and week.coverage < 1
    assert report.truth_raw.shape == report.pred_raw["lstm"].shape == (n, 2)
    np.testing.assert_allclose(report.summary()["overall"]["lstm"]["mse"], report.overall["lstm"].mse)


def test_raw_and_z_units_are_consistent(report: TwinReport) -> None:
    z, raw = report.pred_z["persistence"], report.pred_raw["persistence"]
    i = report.test_cell == 1
    ratio = (raw[i] - raw[i].mean()) / (z[i] - z[i].mean())
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-4)


def test_report_rows_shape(report: TwinReport) -> None:
    rows = report_rows(report)
    assert len(rows) == (2 + 1) * len(METHODS)
    assert all(len(r) == len(REPORT_COLUMNS) for r in rows)
    assert rows[-len(METHODS)][0] == "all"
    persistence_row = [r for r in rows if r[0] == "all" and r[1] == "persistence"][0]
    assert persistence_row[5] == pytest.approx(1.0)


def test_plot_forecasts_writes_png(report: TwinReport, tmp_path: Path) -> None:
    out = plot_forecasts(report, tmp_path / "f.png", cells=[22], n_steps=30)
    assert out.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(DataError, match="not in this report"):
        plot_forecasts(report, tmp_path / "g.png", cells=[5])
