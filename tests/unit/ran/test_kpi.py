"""Per-cell KPI records from KPM reports and the per-cell subscriptions behind them (in-memory runtime)."""

from __future__ import annotations

import pytest

from dnt.e2 import e2ap, kpm
from dnt.e2.e2ap_ies import ComponentIdNG, E2nodeComponentConfig, E2nodeGnb, RanFunction, RicRequestId
from dnt.e2.e2ap_types import E2setupRequest, RICindication
from dnt.e2.kpm_types import KpmIndicationHeader, KpmIndicationMessage
from dnt.e2.rnib import NodebInfo
from dnt.errors import DataError, DecodeError
from dnt.ran.kpi import CellKpmSubscriptions, cell_nci, kpi_record, kpm_cell_actions, node_cells, split_measurement
from dnt.ric.memory import MemoryBus

NAMES = ("DRB.UEThpDl.1-000001", "DRB.UEThpDl.2-000002", "DRB.UEThpDl", "RRU.PrbTotDl", "X.Y.9-000009")


def test_measurement_names_split_into_base_and_slice() -> None:
    assert split_measurement("DRB.UEThpDl.1-000001") == ("DRB.UEThpDl", "embb")
    assert split_measurement("RRU.PrbUsedDl.3-000003") == ("RRU.PrbUsedDl", "messaging")
    assert split_measurement("RRU.PrbAvailDl") == ("RRU.PrbAvailDl", None)
    assert split_measurement("X.Y.9-000009") == ("X.Y.9-000009", None)  # no such slice: kept whole


def test_a_report_becomes_a_cell_record_with_per_slice_values() -> None:
    # Prepare
    msg = KpmIndicationMessage(records=((10, 2, 12, 40, 5),), meas_names=NAMES, granul_period_ms=1000)
    # Execute
    rec = kpi_record(msg, cell=5161, ran_name="gnb_001_001_0000d3", time_ms=1, sn=4, updated_ms=9)
    # Assert
    assert rec == {"cell": 5161, "ran_name": "gnb_001_001_0000d3", "time_ms": 1, "sn": 4, "updated_ms": 9,
                   "cell_kpis": {"DRB.UEThpDl": 12, "RRU.PrbTotDl": 40, "X.Y.9-000009": 5},
                   "slices": {"embb": {"DRB.UEThpDl": 10}, "voice": {"DRB.UEThpDl": 2}}}


def test_cells_of_a_gnb_and_their_actions_in_groups_of_16() -> None:
    # Execute
    cells = node_cells(1)
    groups = kpm_cell_actions(E2nodeGnb.build("001", "01", 1, 22).global_gnb_id.plmn, 1, cells, NAMES[:1], 500)
    # Assert
    assert len(cells) == 25 and cell_nci(1, cells[0]) == (1 << 14) | cells[0]
    assert [len(a) for a, _ in groups] == [16, 9] and groups[1][1] == {i + 1: c for i, c in enumerate(cells[16:])}
    definition = kpm.decode_action_definition(groups[0][0][3].definition)
    assert definition.cell.nr_cell_id == cell_nci(1, cells[3]) and definition.granul_period_ms == 500
    with pytest.raises(DataError):
        node_cells(10**6)


def _node(gnb_id: int) -> NodebInfo:
    req = E2setupRequest(transaction_id=1, global_e2node_id=E2nodeGnb.build("001", "01", gnb_id, 22),
                         ran_functions=(RanFunction(2, b"", 1, kpm.KPM_OID),),
                         component_configs=(E2nodeComponentConfig("ng", ComponentIdNG("amf"), b"\x00", b"\x00"),))
    return NodebInfo.from_setup(req, [2])


def test_subscriptions_are_found_again_after_a_restart_and_indications_become_records() -> None:
    # Prepare
    bus = MemoryBus()
    node = _node(1)
    subs = CellKpmSubscriptions(NAMES[:2], 1000)
    # Execute
    n = subs.subscribe(bus.runtime("kpimon"), node)
    again = CellKpmSubscriptions(NAMES[:2], 1000)
    again.subscribe(bus.runtime("kpimon"), node)  # the xApp restarted: same SDL, same subscriptions
    header = kpm.encode_indication_header(KpmIndicationHeader.from_unix_ms(1_700_000_000_000))
    message = kpm.encode_indication_message(KpmIndicationMessage(records=((7, 8),), meas_names=NAMES[:2]))
    sub_id = again.sub_ids[1]
    ind = e2ap.encode(RICindication(request_id=RicRequestId(1, sub_id), ran_function_id=2, action_id=2, sn=3,
                                    header=header, message=message))
    records = again.records(ind, sub_id)
    # Assert
    assert n == 2 and len(bus.e2.subscriptions) == 2 and again.sub_ids == subs.sub_ids
    assert again.nodes == {node.ran_name} and again.cell_of(sub_id, 2) == (node.ran_name, node_cells(1)[17])
    assert records[0]["cell"] == node_cells(1)[17] and records[0]["time_ms"] == 1_700_000_000_000
    assert records[0]["slices"] == {"embb": {"DRB.UEThpDl": 7}, "voice": {"DRB.UEThpDl": 8}}
    assert again.records(ind, 999) == []
    with pytest.raises(DecodeError):
        again.records(b"\x00\x05\x40\x01\x00", sub_id)


def test_a_node_without_kpm_cannot_be_subscribed() -> None:
    node = NodebInfo("gnb_x", "CONNECTED")
    with pytest.raises(DataError):
        CellKpmSubscriptions(NAMES[:1], 1000).subscribe(MemoryBus().runtime("k"), node)
