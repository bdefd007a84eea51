"""fit / predict / Forecaster on a tiny synthetic sine series."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dnt.data.windows import WindowConfig, Windows
from dnt.errors import ConfigError, DataError
from dnt.twin.baselines import persistence
from dnt.twin.metrics import mse
from dnt.twin.model import TwinLSTM
from dnt.twin.train import Forecaster, TrainConfig, fit, predict

FAST = TrainConfig(epochs=25, batch_size=32, lr=1e-2, patience=25, seed=0, threads=1)


def _model(seed: int = 0) -> TwinLSTM:
    torch.manual_seed(seed)
    return TwinLSTM(horizon=2, hidden=8, layers=1, dropout=0.0)


def test_fit_reduces_val_loss_and_beats_persistence(sine_windows: Windows) -> None:
    # Prepare
    model = _model()
    untrained = mse(predict(model, sine_windows.val), sine_windows.val.y)
    # Execute
    hist = fit(model, sine_windows, FAST)
    # Assert
    assert hist.best_val_loss < 0.25 * untrained
    te = sine_windows.test
    lstm = mse(predict(model, te), te.y)
    naive = mse(persistence(sine_windows.series, te.cell, te.start, sine_windows.cfg.horizon), te.y)
    assert lstm < naive


def test_early_stopping_restores_best_weights(sine_windows: Windows) -> None:
    # Prepare: a too-high learning rate makes the validation loss bounce; patience 1 stops at once
    cfg = TrainConfig(epochs=30, batch_size=32, lr=0.2, patience=1, seed=0, threads=1)
    model = _model()
    # Execute
    hist = fit(model, sine_windows, cfg)
    # Assert: stopped by patience, so the last epoch is not the best, yet the model is the best one
    assert hist.stop_reason == "patience"
    assert hist.best_epoch < len(hist.epochs)
    val = mse(predict(model, sine_windows.val), sine_windows.val.y)
    assert val == pytest.approx(hist.best_val_loss, rel=1e-5)
    assert val != pytest.approx(hist.epochs[-1].val_loss, rel=1e-5)


def test_same_seed_same_weights(sine_windows: Windows) -> None:
    cfg = TrainConfig(epochs=2, batch_size=32, lr=1e-2, seed=5, threads=1)
    a, b, c = _model(1), _model(1), _model(1)
    fit(a, sine_windows, cfg)
    fit(b, sine_windows, cfg)
    fit(c, sine_windows, TrainConfig(epochs=2, batch_size=32, lr=1e-2, seed=6, threads=1))
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(va, vb), k
    assert any(not torch.equal(va, vc) for va, vc in zip(a.state_dict().values(), c.state_dict().values(),
                                                         strict=True))


def test_forecaster_predict_from_raw_history_matches_windows(tiny_forecaster: Forecaster,
                                                             sine_windows: Windows) -> None:
    # Prepare: the raw series of cell row 1 up to the first test target
    te = sine_windows.test
    i = int(np.flatnonzero(te.cell == 1)[0])
    t = int(te.start[i])
    raw = sine_windows.series[1, :t] * sine_windows.std[1] + sine_windows.mean[1]
    cell_id = int(sine_windows.cell_ids[1])
    # Execute
    out = tiny_forecaster.predict(raw, cell_id=cell_id)
    # Assert
    expected = sine_windows.to_raw(tiny_forecaster.predict_split(te)[i:i + 1], te.cell[i:i + 1])[0]
    assert out.shape == (2,)
    np.testing.assert_allclose(out, expected, rtol=1e-4)


def test_forecaster_predict_errors(tiny_forecaster: Forecaster) -> None:
    with pytest.raises(DataError, match="at least 24"):
        tiny_forecaster.predict(np.ones(10), cell_id=11)
    with pytest.raises(DataError, match="cell_id"):
        tiny_forecaster.predict(np.ones(30))
    with pytest.raises(DataError, match="NaN"):
        tiny_forecaster.predict(np.r_[np.ones(29), np.nan], cell_id=11)
    with pytest.raises(DataError, match="not trained"):
        Forecaster().predict(np.ones(30))


def test_forecaster_fit_metrics_and_state(tiny_forecaster: Forecaster) -> None:
    state = tiny_forecaster.state_dict()
    assert state["cell_ids"] == [11, 22] and state["window_cfg"]["horizon"] == 2
    again = Forecaster.from_state_dict(state)
    x = np.linspace(10, 90, 30)
    np.testing.assert_allclose(again.predict(x, 22), tiny_forecaster.predict(x, 22))


def test_forecaster_rejects_other_window_config(sine_windows: Windows) -> None:
    f = Forecaster(WindowConfig(horizon=3), train_cfg=TrainConfig(epochs=1))
    with pytest.raises(ConfigError, match="windows were built"):
        f.fit(sine_windows)


@pytest.mark.parametrize("kwargs", [{"epochs": 0}, {"lr": 0.0}, {"batch_size": 0}, {"max_minutes": 0.0},
                                    {"threads": -1}])
def test_bad_train_config_raises(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        TrainConfig(**kwargs)  # type: ignore[arg-type]


def test_ema_weights_are_the_ones_validated_and_kept(sine_windows: Windows) -> None:
    # Prepare
    cfg = TrainConfig(epochs=4, batch_size=32, lr=1e-2, patience=4, seed=0, threads=1, ema_decay=0.9)
    model = _model()
    # Execute
    hist = fit(model, sine_windows, cfg)
    # Assert: the kept weights reproduce the best validation loss that was recorded for the EMA weights
    val = mse(predict(model, sine_windows.val), sine_windows.val.y)
    assert val == pytest.approx(hist.best_val_loss, rel=1e-5)
    with pytest.raises(ConfigError, match="ema_decay"):
        TrainConfig(ema_decay=1.0)


def test_diverging_training_raises(sine_windows: Windows) -> None:
    cfg = TrainConfig(epochs=2, batch_size=32, lr=1e-2, patience=2, threads=1)
    model = _model()
    with torch.no_grad():
        model.head.bias.fill_(float("nan"))
    with pytest.raises(DataError, match="diverged"):
        fit(model, sine_windows, cfg)
