"""e2mgr's node records (RNIB): from an E2 setup, as the protobuf JSON mapping, and from protobuf bytes."""

from __future__ import annotations

import dataclasses

import pytest

from dnt.e2.e2ap_ies import ComponentIdNG, E2nodeComponentConfig, E2nodeGnb, PlmnId, RanFunction
from dnt.e2.e2ap_types import E2setupRequest
from dnt.e2.rnib import DISCONNECTED, E2MGR_NS, NodebInfo, decode_nodeb, ran_key, read_nodes
from dnt.errors import DecodeError
from dnt.ric.sdl import MemoryStore


def _setup(gnb_id: int = 0xD3) -> E2setupRequest:
    funcs = (RanFunction(2, b"\x01\x02", 1, "1.3.6.1.4.1.53148.1.2.2.2"), RanFunction(9, b"", 1, "9.9"))
    return E2setupRequest(transaction_id=1, global_e2node_id=E2nodeGnb.build("001", "01", gnb_id, 22),
                          ran_functions=funcs,
                          component_configs=(E2nodeComponentConfig("ng", ComponentIdNG("amf"), b"\x00", b"\x00"),))


def test_a_setup_becomes_a_record_that_round_trips_through_json() -> None:
    # Execute
    info = NodebInfo.from_setup(_setup(), accepted=[2], e2t_address="127.0.0.1:36422")
    doc = info.to_json()
    back = decode_nodeb(info.to_bytes())
    # Assert
    assert info.ran_name == "gnb_001_001_0000d3" and info.connected
    assert doc["globalNbId"] == {"plmnId": "00f110", "nbId": format(0xD3, "022b")}
    assert doc["gnb"]["ranFunctions"] == [{"ranFunctionId": 2, "ranFunctionRevision": 1,
                                           "ranFunctionDefinition": "0102",
                                           "ranFunctionOid": "1.3.6.1.4.1.53148.1.2.2.2"}]
    assert back == info and back.plmn == PlmnId("001", "01") and back.nb_id == 0xD3 and back.nb_id_bits == 22
    assert back.ran_function("1.3.6.1.4.1.53148.1.2.2.2").definition == b"\x01\x02"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ricxappframe's generated pb2 modules (protobuf 3.20)
def test_e2mgr_protobuf_bytes_decode_to_the_same_record() -> None:
    # Prepare: what e2mgr writes, built with ricxappframe's generated classes
    from ricxappframe.entities.rnib import nodeb_info_pb2

    msg = nodeb_info_pb2.NodebInfo(ran_name="gnb_001_001_0000d3", connection_status=1, node_type=2)
    msg.global_nb_id.plmn_id, msg.global_nb_id.nb_id = "00f110", format(0xD3, "022b")
    f = msg.gnb.ran_functions.add()
    f.ran_function_id, f.ran_function_revision, f.ran_function_oid = 2, 1, "1.3.6.1.4.1.53148.1.2.2.2"
    # Execute
    info = decode_nodeb(msg.SerializeToString())
    # Assert
    assert (info.ran_name, info.connection_status, info.nb_id, info.plmn) == (
        "gnb_001_001_0000d3", "CONNECTED", 0xD3, PlmnId("001", "01"))
    assert [fn.ran_function_id for fn in info.ran_functions] == [2]


@pytest.mark.parametrize("raw", [b'{"connectionStatus": "CONNECTED"}', b"[1, 2]", b"\xff\xfe garbage"])
def test_what_is_not_a_record_is_a_decode_error(raw: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_nodeb(raw)


def test_read_nodes_lists_connected_nodes_and_skips_bad_records() -> None:
    # Prepare
    store = MemoryStore()
    up = NodebInfo.from_setup(_setup(1), [2])
    down = dataclasses.replace(NodebInfo.from_setup(_setup(2), [2]), connection_status=DISCONNECTED)
    for info in (up, down):
        store.set(E2MGR_NS, ran_key(info.ran_name), info.to_bytes())
    store.set(E2MGR_NS, "RAN:broken", b"{nope")
    # Execute / Assert
    assert [n.ran_name for n in read_nodes(store)] == [up.ran_name]
    assert [n.ran_name for n in read_nodes(store, connected_only=False)] == [up.ran_name, down.ran_name]
