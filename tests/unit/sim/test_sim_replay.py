"""Replay clock and traffic model (no sockets)."""

import numpy as np
import pytest
from sim_fixtures import START_MS, hand_traffic

from dnt.errors import ConfigError, DataError
from dnt.ran import CellRadioConfig, SlicePolicy
from sim.replay import ReplayClock, ReplayConfig, TrafficModel


def test_clock_replays_a_10_minute_step_in_600_over_speed_seconds():
    clock = ReplayClock(600_000, 10, speed=600.0, t0=100.0)
    assert clock.step_wall_s == pytest.approx(1.0)
    assert [clock.step_at(100.0 + t) for t in (0.0, 0.99, 1.0, 9.5)] == [0, 0, 1, 9]
    assert clock.step_at(110.0) == 0  # loops
    assert clock.sim_elapsed_s(102.5) == pytest.approx(1500.0)


def test_clock_without_loop_ends_and_starts_where_told():
    clock = ReplayClock(600_000, 10, speed=60.0, start_step=8, loop=False)
    assert clock.step_at(0.0) == 8 and clock.step_at(10.0) == 9 and clock.step_at(20.0) is None
    with pytest.raises(ConfigError, match="start_step 10"):
        ReplayClock(600_000, 10, speed=1.0, start_step=10)


def test_model_serves_offered_load_with_the_capacity_model(topology):
    cells = topology.cell_ids
    model = TrafficModel(hand_traffic(cells), cells, CellRadioConfig())
    rep = model.report(2)
    # embb = internet 300 x 0.04; voice = 10 call x 0.04; messaging = 10 SMS x 0.004 Mbit/s
    np.testing.assert_allclose(rep.offered_mbps[0], [12.0, 0.4, 0.04], rtol=1e-6)
    np.testing.assert_allclose(rep.served_mbps, rep.offered_mbps)  # far below the 98 Mbit/s carrier
    assert model.step_start_ms(2) == START_MS + 1_200_000


def test_policy_change_caps_a_saturated_slice_and_invalid_policies_are_kept_out(topology):
    cells = topology.cell_ids
    radio = CellRadioConfig(mbps_per_unit=(1.0, 0.04, 0.004))  # embb offers 100..600 Mbit/s
    model = TrafficModel(hand_traffic(cells), cells, radio)
    before = model.report(5).served_mbps[0, 0]
    model.set_policy(int(cells[0]), 0, max_ratio=50)
    after = model.report(5)
    assert after.served_mbps[0, 0] == pytest.approx(radio.capacity_mbps * 0.5)
    assert before > after.served_mbps[0, 0] and after.served_mbps[1, 0] == pytest.approx(before)
    with pytest.raises(ConfigError, match="must not exceed max"):
        model.set_policy(int(cells[0]), 0, min_ratio=60)
    assert model.policy(int(cells[0])) == SlicePolicy(max_ratio=(50.0, 100.0, 100.0))


def test_cells_missing_from_the_data_replay_zero_with_a_warning(topology):
    cells = topology.cell_ids
    with pytest.warns(UserWarning, match="absent from the data"):
        model = TrafficModel(hand_traffic(cells[:5]), cells)
    assert model.report(0).offered_mbps[5:].sum() == 0
    with pytest.raises(DataError, match="not simulated"):
        model.row(9999)


@pytest.mark.parametrize("kwargs, match", [({"speed": 0}, "speed"), ({"days": 0}, "days"),
                                            ({"duration_sim_s": -1.0}, "duration_sim_s")])
def test_replay_config_names_the_bad_field(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ReplayConfig(**kwargs)
