"""RC slice PRB quota over a live association: the next reports show the new share."""

from __future__ import annotations

import numpy as np
import pytest

from dnt.e2.e2ap_types import RICcontrolAcknowledge
from dnt.ran import CapacityModel, slice_demand
from sim.config import load_config
from sim.replay import load_replay_traffic
from sim.runner import SimRunner
from sim.testing import ReceiverConfig, TestReceiver
from sim.topology import Topology

pytestmark = pytest.mark.integration

EMBB = "DRB.UEThpDl.1-000001"
EMBB_OFFERED = "DNT.OfferedLoadDl.1-000001"
EMBB_PRB = "RRU.PrbUsedDl.1-000001"
# real-time replay (the data step does not change during the test) from 20:00 of the first day, with
# 5 Mbit/s per unit of internet activity so that eMBB offers more than the carrier can carry
SETTINGS = ["ric.transport=tcp", "topology.n_gnbs=1", "replay.speed=1", "replay.start_step=120",
            "replay.radio.mbps_per_unit=[5.0, 0.04, 0.004]"]


def test_halving_the_embb_share_halves_served_traffic_of_a_congested_cell_and_keeps_offered_load():
    # Prepare: the busiest cell of the gNB at the start step
    cfg = load_config(None, SETTINGS)
    traffic = load_replay_traffic(cfg.replay, Topology(cfg.topology).cell_ids)
    cell = int(traffic.cell_ids[int(np.argmax(slice_demand(traffic)[:, 120, 0]))])
    capacity_kbps = CapacityModel(cfg.replay.radio).radio.capacity_mbps * 1000
    with TestReceiver(ReceiverConfig(report_period_ms=50, cells=(cell,))) as rx:
        runner = SimRunner(load_config(None, [*SETTINGS, f"ric.port={rx.port}"]), traffic).start()
        name = runner.ran_names[0]
        try:
            assert rx.wait_for(lambda: len(rx.reports(name, cell)) >= 2, timeout=20)
            before = rx.reports(name, cell)[-1].values
            # Execute
            ack = rx.control(name, "embb", cell=cell, max_ratio=50)
            n = len(rx.reports(name, cell))  # every report from here on was built after the control
            assert rx.wait_for(lambda: len(rx.reports(name, cell)) >= n + 1, timeout=20)
            after = rx.reports(name, cell)[n].values
        finally:
            runner.stop()
            runner.join(20)
    # Assert
    assert isinstance(ack, RICcontrolAcknowledge)
    assert before[EMBB_OFFERED] > 1.5 * capacity_kbps and before[EMBB] > 0.9 * capacity_kbps  # the cap binds
    assert after[EMBB_OFFERED] == before[EMBB_OFFERED]
    assert after[EMBB] == pytest.approx(capacity_kbps / 2, abs=1)
    assert after[EMBB] / before[EMBB] == pytest.approx(0.5, rel=0.05)
    assert after[EMBB_PRB] == round(after["RRU.PrbAvailDl"] / 2)
    assert runner.counters()["e2/controls_applied"] == 1
