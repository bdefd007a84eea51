"""The fabric's pure pieces: the routing table, the RICrequestID peek, submgr's request checks."""

from __future__ import annotations

import pytest

from dnt.e2 import e2ap
from dnt.e2.e2ap_ies import Cause, RicAction, RicRequestId
from dnt.e2.e2ap_types import RICcontrolAcknowledge, RICcontrolFailure, RICcontrolRequest, RICindication
from dnt.e2.mtypes import A1_POLICY_REQ, RIC_INDICATION, TS_UE_LIST
from dnt.errors import DecodeError
from dnt.ric.subscription import ClientEndpoint, subscription_params
from sim.fabric.e2term import peek_request_id
from sim.fabric.router import RoutingTable
from sim.fabric.submgr import parse_params


def test_routes_follow_registrations_subscriptions_and_policy_types() -> None:
    # Prepare
    table = RoutingTable()
    table.register("qp", frozenset({TS_UE_LIST}), set(), ("127.0.0.1", 8080))
    table.register("ad", frozenset({TS_UE_LIST}), {20008}, None)
    table.add_sub(5, "kpimon")
    table.add_policy("rrm", 20008)
    # Execute / Assert
    assert table.targets(TS_UE_LIST, -1, "qp") == ["ad"]
    assert table.targets(TS_UE_LIST, -1, "ts") == ["ad", "qp"]
    assert table.targets(RIC_INDICATION, 5, None) == ["kpimon"] and table.targets(RIC_INDICATION, 6, None) == []
    assert table.targets(A1_POLICY_REQ, 20008, None) == ["ad", "rrm"]
    assert table.by_http("127.0.0.1", 8080) == "qp" and table.by_http("127.0.0.1", 1) is None
    table.register("ad", frozenset(), set(), None)  # re-registration keeps the policy types
    assert table.policy_handlers(20008) == ["ad", "rrm"]
    assert "mse|12050|5|kpimon" in table.table() and "mse|20010|20008|ad;rrm" in table.table()


@pytest.mark.parametrize("msg", [
    RICcontrolRequest(request_id=RicRequestId(1234, 65000), ran_function_id=3, header=b"h" * 300, message=b"m",
                      call_process_id=b"12345678", ack_request="ack"),
    RICcontrolAcknowledge(request_id=RicRequestId(7, 8), ran_function_id=3),
    RICcontrolFailure(request_id=RicRequestId(9, 10), ran_function_id=3, cause=Cause("misc", "unspecified")),
])
def test_the_request_id_is_read_from_the_aper_bytes(msg) -> None:
    assert peek_request_id(e2ap.encode(msg)) == (msg.request_id.requestor_id, msg.request_id.instance_id)


def test_other_bytes_have_no_request_id_to_peek() -> None:
    assert peek_request_id(b"\x00\x04\x00") is None and peek_request_id(b"\x99" * 40) is None
    ind = RICindication(request_id=RicRequestId(1, 2), ran_function_id=2, action_id=1, header=b"", message=b"")
    assert peek_request_id(e2ap.encode(ind)) == (1, 2)


def test_submgr_refuses_mixed_action_types_and_bad_bodies() -> None:
    # Prepare
    ok = subscription_params(ClientEndpoint("h", 1, 0), "gnb", 2, b"\x01", (RicAction(1, "report", b"\x00"),),
                             xapp_event_instance_id=1)
    mixed = subscription_params(ClientEndpoint("h", 1, 0), "gnb", 2, b"\x01", (RicAction(1, "report", b"\x00"),),
                                xapp_event_instance_id=1)
    mixed["SubscriptionDetails"][0]["ActionToBeSetupList"].append({"ActionID": 2, "ActionType": "policy",
                                                                   "ActionDefinition": []})
    # Execute / Assert
    assert parse_params(ok).meid == "gnb"
    with pytest.raises(DecodeError, match="mixed"):
        parse_params(mixed)
    with pytest.raises(DecodeError):
        parse_params({"Meid": "gnb"})
