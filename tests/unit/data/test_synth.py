"""Unit tests of the synthetic Milan traffic generator (small configs; no ../shared needed)."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources

import numpy as np
import pytest

from dnt.data.frame import CHANNELS, HOUR_MS, STEP_10MIN_MS, local_calendar
from dnt.data.grid import cell_to_rc
from dnt.data.synth import SynthConfig, block_cells, day_calendar, generate, load_calibration, spatial_fields
from dnt.errors import ConfigError, DataError


def _top_share(values: np.ndarray, fraction: float = 0.1) -> float:
    s = np.sort(values.astype(np.float64))[::-1]
    return float(s[: int(round(fraction * s.size))].sum() / s.sum())


def _daily(values: np.ndarray) -> np.ndarray:
    """(C, T) → (C, days) sums."""
    return values.astype(np.float64).reshape(values.shape[0], -1, 144).sum(axis=2)


def test_shapes_dtype_channels_and_non_negative() -> None:
    # Prepare
    cfg = SynthConfig(n_cells=25, days=2, seed=1)
    # Execute
    tr = generate(cfg)
    # Assert
    assert tr.values.shape == (25, 288, 5)
    assert tr.values.dtype == np.float32
    assert tr.channels == CHANNELS
    assert tr.step_ms == STEP_10MIN_MS
    assert tr.start_ms == 1383260400000  # 2013-11-01 00:00 Milan = 2013-10-31T23:00Z
    assert np.isfinite(tr.values).all() and (tr.values >= 0).all()
    assert (tr.values.sum(axis=1) > 0).all()  # every cell has traffic on every channel


def test_same_seed_identical_and_different_seed_differs() -> None:
    # Prepare
    cfg = SynthConfig(n_cells=30, days=1, seed=7)
    # Execute
    a, b = generate(cfg), generate(cfg)
    c = generate(SynthConfig(n_cells=30, days=1, seed=8))
    # Assert
    assert np.array_equal(a.values, b.values) and np.array_equal(a.cell_ids, b.cell_ids)
    assert not np.allclose(a.values, c.values)


def test_subset_is_the_same_realisation_as_a_larger_block() -> None:
    # Prepare
    big = generate(SynthConfig(n_cells=100, days=1, seed=3))
    # Execute
    small = generate(SynthConfig(cell_ids=(5161, 5060), days=1, seed=3))
    # Assert
    assert list(small.cell_ids) == [5060, 5161]
    # equal up to float32 rounding (the batched AR(1) filter may round differently per batch size)
    assert np.allclose(small.values, big.values[[big.row(5060), big.row(5161)]], rtol=1e-5)


def test_block_400_is_the_20x20_square_around_the_duomo() -> None:
    # Execute
    ids = block_cells(400, 5161)
    rows, cols = cell_to_rc(ids)
    # Assert
    assert ids.size == 400 and 5161 in ids
    assert rows.max() - rows.min() == 19 and cols.max() - cols.min() == 19


@pytest.mark.parametrize("n", [1, 2, 37, 150, 9999])
def test_block_is_contiguous_centred_and_of_the_asked_size(n: int) -> None:
    # Execute
    ids = block_cells(n, 5161)
    # Assert
    assert ids.size == n and np.unique(ids).size == n and 5161 in ids
    rows, cols = cell_to_rc(ids)
    cells = set(zip(rows.tolist(), cols.tolist(), strict=True))
    seen, todo = {next(iter(cells))}, [next(iter(cells))]
    while todo:  # 4-connected flood fill reaches every cell
        r, c = todo.pop()
        for nb in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if nb in cells and nb not in seen:
                seen.add(nb)
                todo.append(nb)
    assert seen == cells


def test_block_near_the_edge_stays_on_the_grid_and_full_grid_is_all_cells() -> None:
    # Execute
    corner = block_cells(25, 1)
    full = block_cells(10_000)
    # Assert
    assert corner.size == 25 and corner.min() == 1 and 1 in corner
    assert np.array_equal(full, np.arange(1, 10_001))
    assert generate(SynthConfig(n_cells=1, days=1)).cell_ids.tolist() == [5161]


def test_explicit_cell_ids_are_sorted() -> None:
    # Execute
    tr = generate(SynthConfig(cell_ids=(9000, 12, 5000), days=1))
    # Assert
    assert tr.cell_ids.tolist() == [12, 5000, 9000]


def test_weekday_and_weekend_differ_in_shape_and_channel_mix() -> None:
    # Prepare: Mon 4 Nov .. Sun 17 Nov 2013, noiseless to see the structure
    cfg = SynthConfig(n_cells=64, days=14, start_date="2013-11-04", noise_scale=0.0, burst_rate_scale=0.0)
    # Execute
    tr = generate(cfg)
    _, weekday, _ = local_calendar(tr.times_ms)
    inet = tr.channel("internet").sum(axis=0).astype(np.float64)
    call = tr.channel("call_in").sum(axis=0).astype(np.float64)
    wd, sun = weekday < 5, weekday == 6
    # Assert: calls relative to internet fall at weekends; the day shapes differ
    assert call[sun].sum() / inet[sun].sum() < 0.7 * call[wd].sum() / inet[wd].sum()
    shape_wd = inet[wd].reshape(-1, 144).mean(axis=0) / inet[wd].mean()
    shape_sun = inet[sun].reshape(-1, 144).mean(axis=0) / inet[sun].mean()
    assert np.abs(shape_wd - shape_sun).max() > 0.15
    # and the same weekday a week later is identical without noise
    assert np.allclose(tr.values[:, :144], tr.values[:, 7 * 144: 8 * 144], rtol=1e-5)


def test_holidays_take_the_sunday_type_and_christmas_lowers_traffic() -> None:
    # Prepare: Wed 18 Dec 2013 .. Wed 1 Jan 2014
    base = dict(n_cells=49, days=15, start_date="2013-12-18", noise_scale=0.0, burst_rate_scale=0.0)
    # Execute
    with_xmas = _daily(generate(SynthConfig(**base)).channel("internet")).sum(axis=0)  # type: ignore[arg-type]
    without = _daily(generate(SynthConfig(**base, christmas_effect=False)).channel("internet")).sum(axis=0)  # type: ignore[arg-type]
    # Assert: 25 Dec (index 7) is far below the Wednesday a week earlier; the effect can be switched off
    assert with_xmas[7] < 0.4 * with_xmas[0]
    assert without[7] > 2 * with_xmas[7]
    dates = [dt.date(2013, 11, 1), dt.date(2013, 11, 8), dt.date(2014, 4, 21), dt.date(2014, 4, 22)]
    kinds, _, _ = day_calendar(SynthConfig(), dates)
    assert kinds.tolist() == [2, 0, 2, 0]  # All Saints, a plain Friday, Easter Monday 2014, a Tuesday
    kinds, _, _ = day_calendar(SynthConfig(easter_monday=False), dates)
    assert kinds[2] == 0


def test_coarser_step_sums_the_ten_minute_values() -> None:
    # Prepare
    fine = generate(SynthConfig(n_cells=9, days=1, seed=2))
    # Execute
    hourly = generate(SynthConfig(n_cells=9, days=1, seed=2, step_minutes=60))
    # Assert
    assert hourly.step_ms == HOUR_MS and hourly.values.shape == (9, 24, 5)
    assert np.allclose(hourly.values, fine.resample(HOUR_MS).values, rtol=1e-5)


def test_progress_reports_every_cell() -> None:
    # Prepare
    calls: list[tuple[int, int]] = []
    # Execute
    generate(SynthConfig(n_cells=20, days=1), progress=lambda done, total: calls.append((done, total)))
    # Assert
    assert calls and calls[-1] == (20, 20)


def test_spatial_map_has_the_calibrated_tail_and_clusters_around_the_centre() -> None:
    # Prepare
    cal = load_calibration()
    # Execute
    f = spatial_fields(seed=0)
    weekly = np.asarray(cal["weekly_factors"])
    share = weekly[5:].sum() / weekly.sum()
    week = f["level"] * ((1 - share) + share * f["weekend"])
    grid = np.log(f["level"]).reshape(100, 100)
    # Assert: week totals have the real concentration; the map is smooth and centred on the Duomo
    assert abs(_top_share(week) - cal["spatial"]["top_shares"]["0.1"]) < 0.01
    assert np.corrcoef(grid[:, :-1].ravel(), grid[:, 1:].ravel())[0, 1] > 0.6
    rows, cols = cell_to_rc(np.arange(1, 10_001))
    dist = np.hypot(rows - 51, cols - 60)
    assert np.median(f["level"][dist < 8]) > 5 * np.median(f["level"][dist > 40])
    assert abs(f["level"].mean() - cal["spatial"]["mean_per_step"]) < 1e-6 * cal["spatial"]["mean_per_step"]


def test_full_grid_one_day_concentration_near_calibrated() -> None:
    # Prepare: one ordinary Monday of the full grid
    cfg = SynthConfig(days=1, start_date="2013-11-04")
    # Execute
    tr = generate(cfg)
    # Assert
    assert tr.values.shape == (10_000, 144, 5)
    target = load_calibration()["spatial"]["top_shares"]["0.1"]
    assert abs(_top_share(tr.channel("internet").sum(axis=1)) - target) < 0.03


def test_calibration_holds_only_aggregate_constants() -> None:
    # Prepare
    text = resources.files("dnt.data").joinpath("calibration.json").read_text(encoding="utf-8")

    def longest(node: object) -> int:
        if isinstance(node, dict):
            return max((longest(v) for v in node.values()), default=0)
        if isinstance(node, list):
            return max([len(node), *(longest(v) for v in node)])
        return 0

    # Execute
    n = longest(json.loads(text))
    # Assert: no per-square map (10,000) and no real series (> one day of 10-minute steps)
    assert n <= 144


def test_bad_calibration_path_raises_data_error(tmp_path: object) -> None:
    # Prepare
    bad = str(tmp_path) + "/nope.json"
    # Execute / Assert
    with pytest.raises(DataError):
        load_calibration(bad)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"days": 0},
        {"days": -3},
        {"days": 1.5},
        {"n_cells": 0},
        {"n_cells": 10_001},
        {"cell_ids": ()},
        {"cell_ids": (1, 1)},
        {"cell_ids": (0, 5)},
        {"cell_ids": (10_001,)},
        {"start_date": "2013-13-01"},
        {"seed": -1},
        {"step_minutes": 15},
        {"centre_cell": 0},
        {"holidays": ((2, 30),)},
        {"holidays": ((1, 2, 3),)},
        {"noise_scale": -0.1},
        {"burst_rate_scale": float("nan")},
    ],
)
def test_bad_config_raises_config_error(kwargs: dict[str, object]) -> None:
    # Execute / Assert
    with pytest.raises(ConfigError):
        SynthConfig(**kwargs)  # type: ignore[arg-type]
