from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from dnt.data.frame import MILAN_TZ, STEP_10MIN_MS
from dnt.errors import ConfigError
from dnt.rl.events import EventConfig, holiday_ratio, sample_events

QUIET = dict(flash_rate=0.0, outage_rate=0.0, holiday_rate=0.0)
LINE = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=bool)  # cells 0 - 1 - 2


def _times(date: str, n: int) -> np.ndarray:
    d = dt.date.fromisoformat(date)
    start = int(dt.datetime(d.year, d.month, d.day, tzinfo=MILAN_TZ).timestamp() * 1000)
    return start + STEP_10MIN_MS * np.arange(n, dtype=np.int64)


def test_flash_crowds_change_demand_where_and_when_they_say() -> None:
    cfg = EventConfig(**{**QUIET, "flash_rate": 3.0})
    sched = sample_events(cfg, 4, 288, np.random.default_rng(1))
    flashes = sched.of_kind("flash")
    assert flashes
    expected = np.ones((4, 288))
    for e in flashes:
        assert 2.0 <= e.factor <= 4.0 and e.stop - e.start <= 12 and (e.stop == 288 or e.stop - e.start >= 3)
        expected[e.cell, e.start:e.stop] *= e.factor
    np.testing.assert_allclose(sched.demand_mult, expected)
    np.testing.assert_array_equal(sched.capacity_mult, 1.0)


def test_outage_zeroes_capacity_and_spills_to_neighbours() -> None:
    cfg = EventConfig(**{**QUIET, "outage_rate": 2.0, "outage_spill": 0.5})
    base = np.array([[10.0], [20.0], [40.0]]) * np.ones((3, 144))
    sched = sample_events(cfg, 3, 144, np.random.default_rng(3), adjacency=LINE, base_demand=base)
    outs = sched.of_kind("outage")
    assert outs
    out = np.zeros((3, 144), bool)
    for e in outs:
        out[e.cell, e.start:e.stop] = True
    np.testing.assert_array_equal(sched.capacity_mult == 0, out)
    np.testing.assert_array_equal(sched.capacity_mult[~out], 1.0)
    np.testing.assert_array_equal(sched.demand_mult[:, ~out.any(axis=0)], 1.0)  # no outage: untouched
    moved = base * sched.demand_mult
    t_single = [t for t in range(144) if out[:, t].sum() == 1]
    assert t_single
    for t in t_single:
        i = int(np.flatnonzero(out[:, t])[0])
        recv = np.flatnonzero(LINE[i])
        # demand is conserved: half of the out cell's demand is shared equally by its neighbours
        assert moved[:, t].sum() == pytest.approx(base[:, t].sum())
        assert moved[i, t] == pytest.approx(0.5 * base[i, t])
        for j in recv:
            assert moved[j, t] == pytest.approx(base[j, t] + 0.5 * base[i, t] / recv.size)


def test_outage_without_neighbours_keeps_demand() -> None:
    cfg = EventConfig(**{**QUIET, "outage_rate": 5.0})
    sched = sample_events(cfg, 2, 144, np.random.default_rng(0))  # no adjacency
    assert sched.of_kind("outage")
    np.testing.assert_array_equal(sched.demand_mult, 1.0)


def test_holiday_on_a_weekday_only() -> None:
    cfg = EventConfig(**{**QUIET, "holiday_rate": 1.0})
    # 2013-11-06 is a Wednesday, 2013-11-09 a Saturday
    wed = sample_events(cfg, 2, 144, np.random.default_rng(0), times_ms=_times("2013-11-06", 144))
    (hol,) = wed.of_kind("holiday")
    assert (hol.start, hol.stop, hol.cell) == (0, 144, -1)
    hours = np.arange(144) / 6.0
    np.testing.assert_allclose(wed.demand_mult, np.tile(holiday_ratio(hours, np.full(144, 2)), (2, 1)))
    assert wed.demand_mult.mean() < 1.0  # holidays are quieter than weekdays
    sat = sample_events(cfg, 2, 144, np.random.default_rng(0), times_ms=_times("2013-11-09", 144))
    assert not sat.events
    np.testing.assert_array_equal(sat.demand_mult, 1.0)


def test_same_seed_same_events() -> None:
    cfg = EventConfig(flash_rate=1.0, outage_rate=1.0, holiday_rate=0.5)
    a = sample_events(cfg, 3, 288, np.random.default_rng(7), adjacency=LINE)
    b = sample_events(cfg, 3, 288, np.random.default_rng(7), adjacency=LINE)
    c = sample_events(cfg, 3, 288, np.random.default_rng(8), adjacency=LINE)
    assert a.events == b.events and np.array_equal(a.demand_mult, b.demand_mult)
    assert a.events != c.events


def test_zero_rates_no_events() -> None:
    sched = sample_events(EventConfig(**QUIET), 3, 100, np.random.default_rng(0), adjacency=LINE)
    assert not sched.events
    np.testing.assert_array_equal(sched.demand_mult, 1.0)
    np.testing.assert_array_equal(sched.capacity_mult, 1.0)


@pytest.mark.parametrize("bad", [{"flash_rate": -1.0}, {"outage_rate": float("nan")}, {"outage_spill": 1.5},
                                 {"holiday_rate": -0.1}, {"flash_mult": (0.5, 2.0)}, {"flash_mult": (3.0, 2.0)},
                                 {"flash_minutes": (5, 30)}, {"outage_minutes": (60, 30)}])
def test_bad_config_raises(bad: dict) -> None:
    with pytest.raises(ConfigError):
        EventConfig(**bad)


def test_bad_window_raises() -> None:
    with pytest.raises(ConfigError, match="adjacency"):
        sample_events(EventConfig(), 3, 10, np.random.default_rng(0), adjacency=np.zeros((2, 2)))
    with pytest.raises(ConfigError, match="window"):
        sample_events(EventConfig(), 0, 10, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="kind"):
        sample_events(EventConfig(), 1, 10, np.random.default_rng(0)).of_kind("earthquake")
