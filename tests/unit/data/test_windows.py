"""Window builder: lags and targets on arange series, leak-free splits, NaN skipping, errors."""

from __future__ import annotations

import numpy as np
import pytest

from dnt.data.frame import HOUR_MS, STEP_10MIN_MS, Traffic
from dnt.data.windows import Normaliser, WindowConfig, build_windows, window_inputs
from dnt.errors import ConfigError, DataError

H = 1 / 24  # one hourly step, in days


def _traffic(values: np.ndarray, step_ms: int = HOUR_MS, cells: tuple[int, ...] = (7,)) -> Traffic:
    v = np.asarray(values, dtype=np.float32).reshape(len(cells), -1, 1)
    return Traffic(np.array(cells), 0, step_ms, v, ("internet",))


# 30 hourly steps, P = 4, c = 2, p = 2, h = 2, test 4 steps, val 4 steps:
# lookback 8, train targets start 8..20, val 22..24, test 26..28.
TINY = WindowConfig(closeness=2, period=2, period_steps=4, horizon=2, test_days=4 * H, val_days=4 * H)


def test_lags_and_targets_on_arange_series() -> None:
    # Prepare
    tr = _traffic(np.arange(30))
    # Execute
    w = build_windows(tr, "internet", TINY)
    raw = lambda split: w.to_raw(split, np.zeros(len(split), dtype=np.int64))  # noqa: E731
    first = w.train
    # Assert: window at t = 8
    assert first.start[0] == 8
    np.testing.assert_allclose(raw(first.xc)[0], [7, 6], atol=1e-4)
    np.testing.assert_allclose(raw(first.xp)[0], [[4, 5], [0, 1]], atol=1e-4)
    np.testing.assert_allclose(raw(first.y)[0], [8, 9], atol=1e-4)
    np.testing.assert_array_equal(w.train.start, np.arange(8, 21))
    np.testing.assert_array_equal(w.val.start, [22, 23, 24])
    np.testing.assert_array_equal(w.test.start, [26, 27, 28])
    np.testing.assert_allclose(raw(w.test.y)[-1], [28, 29], atol=1e-4)
    assert w.bounds == (22, 26)
    np.testing.assert_array_equal(w.times_ms(w.test), np.array([26, 27, 28]) * HOUR_MS)


def test_zscore_uses_training_period_only() -> None:
    # Prepare: huge values in the val and test periods must not move the statistics
    x = np.arange(30, dtype=float)
    x[22:] = 1e6
    # Execute
    w = build_windows(_traffic(x), "internet", TINY)
    # Assert: mean/std of x[0:22] = 0..21 (ddof 1, as FedDA's pandas std)
    assert w.mean[0] == pytest.approx(10.5)
    assert w.std[0] == pytest.approx(np.std(np.arange(22), ddof=1))
    np.testing.assert_allclose(w.series[0, :3], (np.arange(3) - 10.5) / w.std[0], rtol=1e-6)


def test_splits_time_ordered_without_target_overlap() -> None:
    # Prepare
    rng = np.random.default_rng(0)
    tr = _traffic(rng.random((2, 30)), cells=(3, 9))
    # Execute
    w = build_windows(tr, "internet", TINY)
    h = TINY.horizon
    # Assert: every target block lies inside its own split's period
    train_end, val_end = w.bounds
    assert w.train.start.max() + h <= train_end <= w.val.start.min()
    assert w.val.start.max() + h <= val_end <= w.test.start.min()
    assert w.test.start.max() + h <= tr.n_steps
    assert set(w.train.cell.tolist()) == {0, 1}
    assert len(w.train) == 2 * 13


def test_nan_windows_are_skipped() -> None:
    # Prepare: x[15] unobserved touches targets t in 14..15, closeness 16..17, period 18..19, 22..23
    x = np.arange(30, dtype=float)
    x[15] = np.nan
    # Execute
    w = build_windows(_traffic(x), "internet", TINY)
    # Assert
    np.testing.assert_array_equal(w.train.start, [8, 9, 10, 11, 12, 13, 20])
    np.testing.assert_array_equal(w.val.start, [24])
    np.testing.assert_array_equal(w.test.start, [26, 27, 28])
    assert not np.isnan(w.train.xp).any()
    assert w.mean[0] == pytest.approx(np.nanmean(np.r_[np.arange(15), np.arange(16, 22)]))


def test_hourly_resample_uses_daily_period() -> None:
    # Prepare: 12 days of 10-min arange; hourly bin k sums 6k..6k+5 = 36k + 15
    tr = _traffic(np.arange(12 * 144), step_ms=STEP_10MIN_MS).resample(HOUR_MS)
    cfg = WindowConfig(closeness=3, period=3, horizon=1, test_days=2, val_days=1)
    # Execute
    w = build_windows(tr, "internet", cfg)
    # Assert
    assert w.period_steps == 24 and w.step_ms == HOUR_MS
    t = int(w.test.start[0])
    assert t == 10 * 24
    i = np.zeros(1, dtype=np.int64)
    assert w.to_raw(w.test.xp[:1], i)[0, 0, 0] == pytest.approx(36 * (t - 24) + 15, rel=1e-5)
    assert w.to_raw(w.test.xp[:1], i)[0, 2, 0] == pytest.approx(36 * (t - 72) + 15, rel=1e-5)
    assert w.to_raw(w.test.xc[:1], i)[0, 0] == pytest.approx(36 * (t - 1) + 15, rel=1e-5)
    assert len(w.test) == 48 and len(w.val) == 24


def test_window_inputs_match_definition() -> None:
    # Prepare
    s = np.arange(20.0)
    # Execute
    xc, xp = window_inputs(s, np.array([10]), closeness=3, period=2, period_steps=4, horizon=2)
    # Assert
    np.testing.assert_array_equal(xc, [[9, 8, 7]])
    np.testing.assert_array_equal(xp, [[[6, 7], [2, 3]]])


def test_normaliser_round_trip_and_unknown_cell() -> None:
    norm = Normaliser(np.array([3, 9]), np.array([1.0, 10.0]), np.array([2.0, 5.0]))
    np.testing.assert_allclose(norm.transform([5.0], 9), [-1.0])
    np.testing.assert_allclose(norm.inverse(norm.transform([7.0], 3), 3), [7.0])
    with pytest.raises(DataError, match="cell 4"):
        norm.row(4)
    with pytest.raises(DataError, match="2 cells"):
        norm.row(None)


@pytest.mark.parametrize("kwargs", [
    {"closeness": 0}, {"period": 0}, {"horizon": 0}, {"test_days": 0}, {"val_days": -1},
    {"period_steps": 4, "horizon": 5},
])
def test_bad_config_raises(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        WindowConfig(**kwargs)  # type: ignore[arg-type]


def test_too_short_series_raises() -> None:
    with pytest.raises(DataError, match="too short"):
        build_windows(_traffic(np.arange(14)), "internet", TINY)


def test_horizon_longer_than_a_day_raises() -> None:
    cfg = WindowConfig(horizon=25, test_days=2, val_days=0)
    with pytest.raises(ConfigError, match="exceeds one day"):
        build_windows(_traffic(np.arange(24 * 10)), "internet", cfg)


def test_step_not_dividing_a_day_needs_period_steps() -> None:
    tr = _traffic(np.arange(50), step_ms=7 * 60_000)
    with pytest.raises(ConfigError, match="period_steps"):
        build_windows(tr, "internet", WindowConfig())


def test_unknown_channel_and_all_nan_cell_raise() -> None:
    tr = _traffic(np.arange(30))
    with pytest.raises(DataError, match="channel"):
        build_windows(tr, "sms_in", TINY)
    x = np.full(30, np.nan)
    with pytest.raises(DataError, match="fewer than 2 observed"):
        build_windows(_traffic(x), "internet", TINY)
