"""gNB ↔ cell blocks, identities, control targets."""

import pytest

from dnt.e2.rc_ueid import UeIdGnbCuUp
from dnt.errors import ConfigError
from sim.topology import Topology, TopologyConfig, control_target, nci, nearest_gnbs, split_nci, target_cells


def test_gnb_zero_owns_the_south_west_5x5_block():
    g = Topology(TopologyConfig(gnbs=(0,))).gnbs[0]
    assert g.cells == (1, 2, 3, 4, 5, 101, 102, 103, 104, 105, 201, 202, 203, 204, 205, 301, 302, 303, 304, 305,
                       401, 402, 403, 404, 405)
    assert g.gnb_id == 1 and g.ran_name == "gnb_001_001_000001"
    assert g.plmn.to_bytes() == bytes.fromhex("00f110")


def test_full_grid_is_400_gnbs_of_25_cells_without_overlap():
    t = Topology(TopologyConfig(n_gnbs=400))
    assert len(t.gnbs) == 400 and t.n_cells == 10_000
    assert sorted(t.cell_ids.tolist()) == list(range(1, 10_001))


def test_nci_carries_gnb_id_and_square():
    value = nci(0x3FFFFF, 10_000)
    assert value < 1 << 36
    assert split_nci(value) == (0x3FFFFF, 10_000)
    g = Topology(TopologyConfig(gnbs=(0,))).gnbs[0]
    assert g.cell_of_nci(g.nci(305)) == 305 and g.cell_of_nci(nci(2, 305)) is None


def test_nearest_gnbs_surround_the_centre_cell():
    # 5161 is row 51, col 60: in block 212 (rows 50-54, cols 60-64), near its south-west corner,
    # so the next blocks are west (211), south (192) and south-west (191)
    cfg = TopologyConfig(n_gnbs=4, centre_cell=5161)
    assert nearest_gnbs(cfg) == [191, 192, 211, 212]
    assert nearest_gnbs(TopologyConfig(n_gnbs=1, centre_cell=5161)) == [212]


def test_control_targets_one_cell_or_the_whole_node():
    g = Topology(TopologyConfig(gnbs=(0,))).gnbs[0]
    assert target_cells(g, control_target(None)) == g.cells
    assert target_cells(g, control_target(305)) == (305,)
    assert target_cells(g, control_target(306)) is None
    assert target_cells(g, UeIdGnbCuUp(1)) is None


@pytest.mark.parametrize("kwargs, match", [({"block": 3}, "divisor of 100"), ({"n_gnbs": 401}, "n_gnbs"),
                                            ({"gnbs": (1, 1)}, "distinct"), ({"mnc": "1"}, "mnc")])
def test_topology_config_names_the_bad_field(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        TopologyConfig(**kwargs)
