"""Slice PRB allocation: hand-computed cases, invariants, policy validation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dnt.data.frame import CHANNELS, Traffic
from dnt.errors import ConfigError, DataError
from dnt.ran import CapacityModel, CellRadioConfig, SlicePolicy, allocate_prbs, slice_by_snssai, slice_demand

FREE = (np.zeros(3), np.full(3, 100.0), np.zeros(3))


def test_uncongested_cell_serves_everything():
    alloc = allocate_prbs(np.array([10.0, 5.0, 1.0]), 100, *FREE)
    np.testing.assert_allclose(alloc, [10, 5, 1])


def test_congestion_is_shared_in_proportion_to_need_capped_at_the_cell():
    # embb could use at most the whole cell (100), voice 50: the 100 PRBs split 2:1
    alloc = allocate_prbs(np.array([150.0, 50.0, 0.0]), 100, *FREE)
    np.testing.assert_allclose(alloc, [200 / 3, 100 / 3, 0])
    alloc = allocate_prbs(np.array([60.0, 60.0, 0.0]), 100, *FREE)
    np.testing.assert_allclose(alloc, [50, 50, 0])


def test_max_ratio_caps_and_the_rest_goes_to_others():
    alloc = allocate_prbs(np.array([150.0, 50.0, 0.0]), 100, np.zeros(3), np.array([50.0, 100, 100]), np.zeros(3))
    np.testing.assert_allclose(alloc, [50, 50, 0])


def test_min_ratio_is_prioritised_and_idle_dedicated_is_wasted():
    # voice guaranteed 40 %: gets its 30 first; embb takes the remaining 70
    alloc = allocate_prbs(np.array([150.0, 30.0, 0.0]), 100, np.array([0.0, 40, 0]), np.full(3, 100.0), np.zeros(3))
    np.testing.assert_allclose(alloc, [70, 30, 0])
    # same, but the 40 % is dedicated: 10 idle PRBs are not lent to embb
    alloc = allocate_prbs(np.array([150.0, 30.0, 0.0]), 100, np.zeros(3), np.full(3, 100.0), np.array([0.0, 40, 0]))
    np.testing.assert_allclose(alloc, [60, 30, 0])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 300), min_size=3, max_size=3), st.lists(st.floats(0, 33), min_size=3, max_size=3),
       st.lists(st.floats(34, 100), min_size=3, max_size=3))
def test_allocation_invariants(need, mins, maxs):
    need, mins, maxs = np.array(need), np.array(mins), np.array(maxs)
    alloc = allocate_prbs(need, 100, mins, maxs, np.zeros(3))
    assert (alloc >= -1e-9).all() and (alloc <= need + 1e-9).all() and (alloc <= maxs + 1e-9).all()
    assert alloc.sum() <= 100 + 1e-9
    # work-conserving: if someone is still short and below its cap, no PRB is left idle
    short = (alloc < need - 1e-6) & (alloc < maxs - 1e-6)
    if short.any():
        assert alloc.sum() == pytest.approx(100, abs=1e-6)


def test_vectorised_over_cells_matches_per_cell():
    rng = np.random.default_rng(0)
    need = rng.uniform(0, 120, size=(50, 3))
    mins = np.array([10.0, 20, 5])
    batch = allocate_prbs(need, 106, mins, np.full(3, 80.0), np.zeros(3))
    for i in range(50):
        np.testing.assert_allclose(batch[i], allocate_prbs(need[i], 106, mins, np.full(3, 80.0), np.zeros(3)))


def test_halving_max_share_halves_served_of_a_saturated_slice():
    model = CapacityModel(CellRadioConfig())
    cap = model.radio.capacity_mbps
    activity = np.array([[cap / 0.04 * 2, 0.0, 0.0]])  # embb offers twice the cell
    full = model.serve(activity, *SlicePolicy().arrays())
    half = model.serve(activity, *SlicePolicy().with_slice(0, max_ratio=50).arrays())
    np.testing.assert_allclose(half.offered_mbps, full.offered_mbps)
    assert half.served_mbps[0, 0] == pytest.approx(full.served_mbps[0, 0] / 2)


def test_policy_validation_names_the_problem():
    with pytest.raises(ConfigError, match="must not exceed max"):
        SlicePolicy(min_ratio=(60, 0, 0), max_ratio=(50, 100, 100))
    with pytest.raises(ConfigError, match="more than 100"):
        SlicePolicy(min_ratio=(60, 50, 0))
    with pytest.raises(ConfigError, match="0..100"):
        SlicePolicy(max_ratio=(120, 100, 100))
    with pytest.raises(ConfigError, match="no NR carrier"):
        CellRadioConfig(bandwidth_mhz=33)


def test_radio_numbers():
    r = CellRadioConfig(bandwidth_mhz=40, scs_khz=30, spectral_efficiency=3.0, overhead=0.14)
    assert r.n_prb == 106
    assert r.mbps_per_prb == pytest.approx(3.0 * 12 * 30e3 * 0.86 / 1e6)


def test_slice_demand_sums_channels_and_snssai_lookup():
    vals = np.arange(2 * 3 * 5, dtype=np.float32).reshape(2, 3, 5)
    tr = Traffic(np.array([1, 2]), 0, 600_000, vals, CHANNELS)
    d = slice_demand(tr)
    np.testing.assert_allclose(d[..., 0], vals[..., 4])
    np.testing.assert_allclose(d[..., 1], vals[..., 2] + vals[..., 3])
    np.testing.assert_allclose(d[..., 2], vals[..., 0] + vals[..., 1])
    assert slice_by_snssai(2, 0x000002) == 1 and slice_by_snssai(3, None) == 2
    with pytest.raises(DataError, match="no slice"):
        slice_by_snssai(9, 1)
    with pytest.raises(DataError, match="lacks channels"):
        slice_demand(tr.select_channels(["internet"]))
