"""The raw reader on real bytes: the first 1000 lines of the official 2013-11-01 file (../shared)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dnt.data.converted import read_converted
from dnt.data.raw import raw_cache_path, read_raw

pytestmark = pytest.mark.shared

REPO = Path(__file__).resolve().parents[2]  # the folder holding pyproject.toml
MILAN = REPO / ".." / "shared" / "data" / "milan"
RAW_SAMPLE = MILAN / "original" / "CharlesGaydon__Understanding-Telecom-Dynamics-in-Milano" / "data" / \
    "Example_of_MI_file.txt"
CONVERTED = MILAN / "multichannel_cells_1_10_100_10min.csv"


@pytest.fixture
def sample() -> Path:
    if not (RAW_SAMPLE.is_file() and CONVERTED.is_file()):
        pytest.skip(f"../shared Milan data not present ({MILAN})")
    return RAW_SAMPLE


def test_raw_sample_sums_equal_the_converted_file(sample: Path, tmp_path: Path) -> None:
    # Prepare
    converted = read_converted(CONVERTED)
    # Execute
    raw = read_raw(sample, cache_dir=tmp_path)
    # Assert: same cells; on every (cell, interval) present in both, the same five sums
    assert raw.cell_ids.tolist() == [1, 10, 100] and raw.n_steps == 144
    assert raw.start_ms == 1383260400000  # 2013-11-01 00:00 local
    assert converted.channels == raw.channels
    first = (raw.start_ms - converted.start_ms) // converted.step_ms
    compared = 0
    for cell in raw.cell_ids:
        mine = raw.values[raw.row(int(cell))]
        theirs = converted.values[converted.row(int(cell)), first:first + raw.n_steps]
        both = ~np.isnan(mine).all(axis=1) & ~np.isnan(theirs).all(axis=1)
        np.testing.assert_allclose(mine[both], theirs[both], rtol=1e-6, atol=0)
        compared += int(both.sum())
        # the converted file dropped only the last (possibly cut) interval of cell 100
        observed = np.flatnonzero(~np.isnan(mine).all(axis=1))
        only_raw = np.setdiff1d(observed, np.flatnonzero(both))
        assert only_raw.tolist() == ([observed.max()] if cell == 100 else [])
    assert compared == 144 + 144 + 95
    # a value quoted in independent reports: cell 1, first interval, internet (country 39 only)
    assert raw.values[0, 0, raw.channels.index("internet")] == pytest.approx(11.028366381681026, rel=1e-7)


def test_raw_sample_on_read_only_shared_caches_in_the_user_cache(
        sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Prepare: ../shared has no write bits; the cache must go to $XDG_CACHE_HOME/dnt/raw
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    # Execute
    first = read_raw(sample)
    second = read_raw(sample)
    # Assert
    cache = raw_cache_path(sample)
    assert cache.parent == tmp_path / "dnt" / "raw" and cache.exists()
    assert not (sample.parent / ".dnt-cache").exists()
    np.testing.assert_array_equal(second.values, first.values)
