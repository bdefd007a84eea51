"""Bad input to the fabric is a counted, logged drop or a 4xx with the reason; the fabric keeps running."""

from __future__ import annotations

import json
import socket
import threading

import pytest
from fabric_support import attach, rest, start_sim, wait_until

from dnt.e2 import e2ap, kpm
from dnt.e2.e2ap_types import ErrorIndication
from dnt.e2.mtypes import RIC_CONTROL_REQ, RIC_INDICATION
from dnt.e2.rnib import read_nodes
from dnt.e2.transport import TransportClosed, connect
from dnt.ric.local_runtime import KIND_DATA, KIND_HELLO, Frame, encode_frame
from dnt.ric.runtime import Message
from dnt.ric.subscription import ClientEndpoint, subscription_params
from sim.ricside import kpm_subscriptions

pytestmark = pytest.mark.integration

CUSTOM = 60001  # a free application message type, routed xApp to xApp


def _raw_xapp(port: int, name: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    hello = {"name": name, "rx": [], "policies": [], "http": {}}
    sock.sendall(encode_frame(Frame(KIND_HELLO, payload=json.dumps(hello).encode(), endpoint=name)))
    return sock


def _closed(sock: socket.socket) -> bool:
    try:
        while chunk := sock.recv(65536):  # WELCOME first, then EOF when the fabric hangs up
            del chunk
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_malformed_frames_unknown_types_and_meids_are_counted_drops_and_routing_goes_on(fabric):
    # Prepare: a well-behaved xApp that receives CUSTOM
    got: list[Message] = []
    good = attach(fabric, "good")
    good.on(CUSTOM, lambda msg, rt: got.append(msg))
    good.start()
    port = fabric.endpoints["xapp_port"]
    wait_until(lambda: f"mse|{CUSTOM}|-1|good" in rest("GET", fabric.url + "/ric/v1/routes")[1]["table"],
               what="the route of the custom type")
    try:
        # Execute: a stream with a bad version byte (framing lost: the fabric hangs up) ...
        lost = _raw_xapp(port, "garbage")
        lost.sendall(b"\x00\x00\x00\x20\x09" + b"\xff" * 31)
        lost_closed = _closed(lost)
        # ... a frame whose inner lengths do not fit, a frame before HELLO, an unknown type, an unknown MEID,
        # a control that is not E2AP: each dropped, and the same connection still routes a valid message
        sock = _raw_xapp(port, "sloppy")
        sock.sendall(bytearray(encode_frame(Frame(KIND_DATA, CUSTOM, b"x", meid="m")))[:7] + b"\x1f" +
                     encode_frame(Frame(KIND_DATA, CUSTOM, b"x", meid="m"))[8:])
        sock.sendall(encode_frame(Frame(KIND_DATA, 59999, b"unknown type")))
        sock.sendall(encode_frame(Frame(KIND_DATA, RIC_CONTROL_REQ, b"\x00\x04", meid="gnb_nope")))
        sock.sendall(encode_frame(Frame(KIND_DATA, CUSTOM, b"still routed")))
        wait_until(lambda: got, what="the valid message after the bad ones")
        before_hello = socket.create_connection(("127.0.0.1", port), timeout=5)
        before_hello.sendall(encode_frame(Frame(KIND_DATA, CUSTOM, b"who am I")))
        metrics = wait_until(lambda: (m := fabric.metrics()).get("fabric/dropped/bad_frame", 0) >= 3 and m,
                             what="the drops counted")
        alive = rest("GET", fabric.url + "/ric/v1/health/alive")[0]
        sock.close()
        before_hello.close()
    finally:
        good.stop()
    # Assert
    assert lost_closed
    assert [m.payload for m in got] == [b"still routed"] and got[0].source == "sloppy"
    assert metrics["fabric/dropped/no_route"] == 1 and metrics["fabric/dropped/unknown_meid"] == 1
    assert alive == 200


def test_bad_e2ap_from_nodes_and_xapps_and_bad_subscription_requests(fabric, fabric_store):
    # Prepare: one simulated gNB, one xApp
    sim = start_sim(fabric.endpoints["e2_port"], "topology.n_gnbs=1")
    xapp = attach(fabric, "bad")
    indications = threading.Event()
    xapp.on(RIC_INDICATION, lambda msg, rt: indications.set())
    xapp.start()
    url = fabric.url + "/ric/v1/subscriptions"
    try:
        name = wait_until(lambda: [n.ran_name for n in read_nodes(fabric_store)], what="E2 setup")[0]
        endpoint = ClientEndpoint("127.0.0.1", xapp.http.port, 0)
        trigger = kpm.encode_event_trigger(kpm.KpmEventTrigger(100))
        # Execute: undecodable PDU from a node; a PDU before E2 setup; garbage control for a connected node
        with connect("tcp", "127.0.0.1", fabric.endpoints["e2_port"]) as tr:
            tr.send(b"\x00\x05\x40\x7f\xde\xad\xbe\xef")
            answer = e2ap.decode(tr.recv(timeout=10))
        with connect("tcp", "127.0.0.1", fabric.endpoints["e2_port"]) as tr:
            tr.send(e2ap.encode(ErrorIndication(transaction_id=1)))
            hung_up = _e2_closed(tr)
        xapp.send(RIC_CONTROL_REQ, b"\x07not e2ap", meid=name)
        # bad subscription requests: not JSON, missing fields, unknown node, a client that is not an xApp
        not_json = rest("POST", url, raw=b"{]")
        no_details = rest("POST", url, {"ClientEndpoint": {"Host": "127.0.0.1", "HTTPPort": 1, "RMRPort": 0},
                                        "Meid": name, "RANFunctionID": 2})
        node = sim.node(name).gnb
        actions = kpm_subscriptions(node.plmn, node.gnb_id, node.cells[:1], requestor_id=1, first_instance=1,
                                    period_ms=100, meas_names=("RRU.PrbAvailDl",))[0].request.actions
        unknown_node = rest("POST", url, subscription_params(endpoint, "gnb_999_999_ffffff", 2, trigger, actions,
                                                             xapp_event_instance_id=1))
        stranger = rest("POST", url, subscription_params(ClientEndpoint("127.0.0.1", 1, 0), name, 2, trigger, actions,
                                                         xapp_event_instance_id=1))
        refused = rest("POST", url, subscription_params(endpoint, name, 77, trigger, actions, xapp_event_instance_id=1))
        wait_until(lambda: fabric.metrics().get("fabric/submgr/requests") == 1, what="the refused request")
        # the fabric still works: a valid subscription delivers indications
        sub_id = xapp.subscribe(name, 2, trigger, actions)
        got = indications.wait(15)
        metrics = fabric.metrics()
    finally:
        xapp.stop()
        sim.stop()
        sim.join(10)
    # Assert
    assert isinstance(answer, ErrorIndication) and answer.cause.value == "transfer-syntax-error"
    assert hung_up
    assert metrics["fabric/dropped/e2_decode_error"] >= 2 and metrics["fabric/dropped/e2_before_setup"] == 1
    assert not_json[0] == 400 and "JSON" in not_json[1]["error"]
    assert no_details[0] == 400 and "SubscriptionDetails" in no_details[1]["error"]
    assert unknown_node == (503, {"error": "No E2 connection for ranName gnb_999_999_ffffff"})
    assert stranger[0] == 400 and "not an attached xApp" in stranger[1]["error"]
    assert refused[0] == 201  # submgr accepts; the node refuses the unknown RAN function: failure notified
    assert sub_id > 0 and got


def _e2_closed(tr) -> bool:
    try:
        tr.recv(timeout=10)
    except TransportClosed:  # the fabric ended the association
        return True
    return False
