"""A one-gNB simulator model on hand-made traffic for the pure simulator tests."""

from __future__ import annotations

import pytest
from sim_fixtures import hand_traffic

from sim.config import E2Config
from sim.measurements import MeasurementSource
from sim.node import E2Node
from sim.replay import ReplayClock, TrafficModel
from sim.topology import Topology, TopologyConfig


@pytest.fixture
def topology() -> Topology:
    return Topology(TopologyConfig(gnbs=(0,)))


@pytest.fixture
def node(topology: Topology) -> E2Node:
    cells = topology.cell_ids
    model = TrafficModel(hand_traffic(cells), cells)
    clock = ReplayClock(600_000, 6, speed=600.0)  # one step per second
    return E2Node(topology.gnbs[0], MeasurementSource(model), clock, E2Config())
