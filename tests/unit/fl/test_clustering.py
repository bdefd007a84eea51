"""FedDA dual-stage clustering: recovers planted groups, canonical stable labels, clear errors."""

import numpy as np
import pytest

from dnt.data.frame import HOUR_MS, Traffic
from dnt.data.grid import rc_to_cell
from dnt.errors import ConfigError, DataError
from dnt.fl.clustering import ClusterConfig, cluster_cells, weekly_profiles

START_MS = 1383260400000  # 2013-11-01 00:00 local


def _two_districts() -> tuple[Traffic, np.ndarray]:
    """West block peaks at 08:00 (offices), east block at 21:00 (nightlife); two weeks hourly."""
    west = rc_to_cell(np.repeat(np.arange(40, 44), 4), np.tile(np.arange(10, 14), 4))
    east = rc_to_cell(np.repeat(np.arange(40, 44), 4), np.tile(np.arange(80, 84), 4))
    ids = np.sort(np.concatenate([west, east]))
    hours = (np.arange(14 * 24) + 0) % 24  # start_ms is local midnight (UTC+1), first step 00:00 local
    rng = np.random.default_rng(0)
    rows = []
    for cid in ids:
        peak = 8 if cid in west else 21
        base = np.exp(-0.5 * ((hours - peak) / 2.0) ** 2) * 10 + 1
        rows.append(base * rng.uniform(0.5, 2.0) + rng.normal(0, 0.05, base.size))
    vals = np.clip(np.array(rows), 0, None)[:, :, None]
    truth = np.isin(ids, east).astype(int)
    return Traffic(ids, START_MS, HOUR_MS, vals, ("internet",)), truth


def test_recovers_planted_districts():
    traffic, truth = _two_districts()
    result = cluster_cells(traffic, ClusterConfig(n_clusters=2, seed=3))
    # same partition as the truth, whatever the numbering
    assert len(set(zip(result.labels.tolist(), truth.tolist(), strict=True))) == 2
    assert result.converged
    assert result.sizes.tolist() == [16, 16]


def test_labels_are_canonical_and_seed_stable():
    traffic, _ = _two_districts()
    a = cluster_cells(traffic, ClusterConfig(n_clusters=3, seed=1))
    b = cluster_cells(traffic, ClusterConfig(n_clusters=3, seed=1))
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.labels[0] == 0  # the lowest cell id is always in cluster 0
    first_seen = [int(lab) for lab in dict.fromkeys(a.labels.tolist())]
    assert first_seen == sorted(first_seen)


def test_weekly_profile_is_zscored_and_uses_local_hours():
    traffic, _ = _two_districts()
    prof = weekly_profiles(traffic)
    assert prof.shape == (traffic.n_cells, 168)
    np.testing.assert_allclose(prof.mean(axis=1), 0, atol=1e-9)
    np.testing.assert_allclose(prof.std(axis=1), 1, atol=1e-9)
    west_row = 0  # lowest id is in the west block (col 10 < col 80)
    assert int(np.argmax(prof[west_row, :24])) == 8


def test_too_few_cells_is_a_config_error():
    traffic, _ = _two_districts()
    with pytest.raises(ConfigError, match="lower n_clusters"):
        cluster_cells(traffic.select_cells(traffic.cell_ids[:2]), ClusterConfig(n_clusters=3))


def test_cell_without_data_is_named():
    traffic, _ = _two_districts()
    vals = traffic.values.copy()
    vals[5] = np.nan
    broken = Traffic(traffic.cell_ids, traffic.start_ms, traffic.step_ms, vals, traffic.channels)
    with pytest.raises(DataError, match=f"cell {traffic.cell_ids[5]}"):
        weekly_profiles(broken)
