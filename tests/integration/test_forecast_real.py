"""The twin on the real Milan 3-cell series (needs ../shared/data; skips cleanly without it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dnt.data.converted import read_converted
from dnt.data.frame import HOUR_MS
from dnt.data.windows import WindowConfig
from dnt.twin import METHODS, ModelConfig, TrainConfig, load_bundle, save_bundle, train_and_evaluate

DATA = Path(__file__).resolve().parents[2].parent / "shared/data/milan/internet_3cells_10min_62days.csv.gz"

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not DATA.exists(), reason=f"shared Milan data absent ({DATA})"),
]


def test_hourly_twin_on_real_cells(tmp_path: Path) -> None:
    # Prepare: FedDA's hourly setup, a small model and few epochs
    traffic = read_converted(DATA).resample(HOUR_MS)
    wcfg = WindowConfig(closeness=3, period=3, horizon=1, test_days=7, val_days=7)
    tcfg = TrainConfig(epochs=6, batch_size=64, lr=3e-3, patience=6, seed=0, threads=1)
    # Execute
    rep = train_and_evaluate(traffic, "internet", wcfg, tcfg, model_cfg=ModelConfig(hidden=16, layers=1))
    # Assert: one test window per cell and hour of the last 7 days, every baseline scored on all of them
    assert rep.n_windows["test"] == 3 * 7 * 24
    assert sorted(rep.per_cell["lstm"]) == [4159, 4556, 5161]
    for m in METHODS:
        assert rep.overall[m].n == 3 * 7 * 24 and np.isfinite(rep.overall[m].mse)
    # persistence, recomputed from the raw hourly series, matches the report (raw units)
    raw = traffic.channel("internet")
    rows = rep.test_cell
    t = ((rep.test_start_ms - traffic.start_ms) // HOUR_MS).astype(int)
    np.testing.assert_allclose(rep.pred_raw["persistence"][:, 0], raw[rows, t - 1], rtol=1e-5)
    np.testing.assert_allclose(rep.truth_raw[:, 0], raw[rows, t], rtol=1e-5)
    # even a short training beats the week-old value in the (holiday) test week
    assert rep.overall["lstm"].mse < rep.overall["seasonal_week"].mse
    # the bundle reproduces the report's forecast from the raw history
    path = tmp_path / "twin.dntm"
    save_bundle(rep.forecaster, path)
    f = load_bundle(path).forecaster
    i = 0
    out = f.predict(raw[rows[i], : t[i]], cell_id=int(rep.cell_ids[rows[i]]))
    np.testing.assert_allclose(out, rep.pred_raw["lstm"][i], rtol=1e-4)
