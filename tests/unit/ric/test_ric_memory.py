"""The in-memory bus: RMR-like routing, the fake E2 side, subscriptions that survive a restart."""

from __future__ import annotations

import pytest
from ric_payloads import indication, indication_bytes, kpm_actions, kpm_trigger

from dnt.e2 import e2ap
from dnt.e2.mtypes import RIC_CONTROL_ACK, RIC_CONTROL_REQ, RIC_INDICATION, TS_QOE_PREDICTION, TS_UE_LIST
from dnt.errors import TransportError
from dnt.ric.memory import MemoryBus, MemoryRuntime
from dnt.ric.runtime import Message, Runtime
from dnt.ric.subscription import SubscriptionError

NODE = "gnb_001_001_00000001"


def test_messages_go_to_the_runtimes_that_handle_the_type_in_order(bus: MemoryBus) -> None:
    # Prepare: two consumers of TS_UE_LIST, a producer
    producer, c1, c2 = bus.runtime("ts"), bus.runtime("qp"), bus.runtime("ad")
    got: dict[str, list[bytes]] = {"qp": [], "ad": []}
    c1.on(TS_UE_LIST, lambda m, r: got["qp"].append(m.payload))
    c2.on(TS_UE_LIST, lambda m, r: got["ad"].append(m.payload))

    # Execute
    for i in range(3):
        producer.send(TS_UE_LIST, bytes([i]))
    n = bus.drain()

    # Assert
    assert n == 6
    assert got == {"qp": [b"\0", b"\1", b"\2"], "ad": [b"\0", b"\1", b"\2"]}


def test_an_explicit_route_wins_and_may_point_outside(bus: MemoryBus, rt: MemoryRuntime) -> None:
    # Prepare
    other = bus.runtime("other")
    other.on(TS_QOE_PREDICTION, lambda m, r: None)
    bus.add_route(TS_QOE_PREDICTION, "dashboard")

    # Execute
    rt.send(TS_QOE_PREDICTION, b"p")

    # Assert
    assert [m.payload for m in bus.outbox["dashboard"]] == [b"p"]
    assert not other.inbox


def test_routes_by_sub_id_like_mse_records(bus: MemoryBus, rt: MemoryRuntime) -> None:
    bus.add_route(30010, "x", sub_id=1)
    bus.add_route(30010, "y")
    rt.send(30010, b"1", sub_id=1)
    rt.send(30010, b"2", sub_id=2)
    assert [m.payload for m in bus.outbox["x"]] == [b"1"] and [m.payload for m in bus.outbox["y"]] == [b"2"]


def test_sending_without_any_route_is_rmr_noendpt(rt: MemoryRuntime) -> None:
    with pytest.raises(TransportError, match="no route.*NOENDPT"):
        rt.send(TS_UE_LIST, b"x")
    assert rt.metrics()["ric/send_failed"] == 1


def test_control_goes_to_the_e2_side_by_meid_and_its_ack_comes_back(bus: MemoryBus, rt: MemoryRuntime) -> None:
    # Prepare
    acks: list[Message] = []
    rt.on(RIC_CONTROL_ACK, lambda m, r: acks.append(m))

    # Execute
    rt.send(RIC_CONTROL_REQ, b"ctrl", meid=NODE)
    (req,) = bus.e2.received
    bus.e2.answer(req, RIC_CONTROL_ACK, b"ack")
    rt.drain()

    # Assert
    assert (req.mtype, req.meid, req.source) == (RIC_CONTROL_REQ, NODE, "kpimon")
    assert [(a.payload, a.meid) for a in acks] == [(b"ack", NODE)]


def test_subscribe_then_indications_arrive_with_the_sub_id(bus: MemoryBus, rt: MemoryRuntime) -> None:
    # Prepare
    decoded = []
    rt.on(RIC_INDICATION, lambda m, r: decoded.append((m.sub_id, m.meid, e2ap.decode(m.payload))))

    # Execute
    sub_id = rt.subscribe(NODE, 2, kpm_trigger(), kpm_actions())
    bus.e2.indicate(sub_id, indication_bytes(sn=1))
    bus.e2.indicate(sub_id, indication_bytes(sn=2))
    rt.drain()

    # Assert
    assert sub_id == 1
    assert bus.e2.subscriptions[sub_id].ran_function_id == 2
    assert [(s, m, d.sn) for s, m, d in decoded] == [(1, NODE, 1), (1, NODE, 2)]
    assert decoded[0][2] == indication(sn=1)


def test_a_restarted_xapp_resumes_its_subscription_without_duplicating_it(bus: MemoryBus) -> None:
    # Prepare: subscribe, then "restart" the xApp (same name, same SDL)
    first = bus.runtime("htwin")
    sub_id = first.subscribe(NODE, 2, kpm_trigger(), kpm_actions())
    restarted = bus.runtime("htwin")
    got = []
    restarted.on(RIC_INDICATION, lambda m, r: got.append(m.sub_id))

    # Execute
    again = restarted.subscribe(NODE, 2, kpm_trigger(), kpm_actions())
    bus.e2.indicate(sub_id, indication_bytes())
    bus.drain()

    # Assert
    assert first.stopped
    assert again == sub_id and len(bus.e2.subscriptions) == 1
    assert got == [sub_id]
    assert [r.sub_id for r in restarted.subscriptions.all()] == [sub_id]


def test_a_different_request_is_a_new_subscription_and_unsubscribe_forgets_it(rt: MemoryRuntime) -> None:
    # Execute
    a = rt.subscribe(NODE, 2, kpm_trigger(1000), kpm_actions())
    b = rt.subscribe(NODE, 2, kpm_trigger(500), kpm_actions())
    rt.unsubscribe(a)

    # Assert
    assert a != b
    assert list(rt.bus.e2.subscriptions) == [b]
    assert [r.sub_id for r in rt.subscriptions.all()] == [b]


def test_subscribing_to_a_node_that_is_not_connected_fails(bus: MemoryBus, rt: MemoryRuntime) -> None:
    bus.e2.nodes = {"gnb_other"}
    with pytest.raises(SubscriptionError, match="No E2 connection"):
        rt.subscribe(NODE, 2, kpm_trigger(), kpm_actions())


def test_two_runtimes_answering_each_other_forever_are_stopped_by_the_drain_guard(bus: MemoryBus) -> None:
    # Prepare
    ping, pong = bus.runtime("ping"), bus.runtime("pong")

    def bounce(msg: Message, rt: Runtime) -> None:
        rt.send(30000, msg.payload)

    ping.on(30000, bounce)
    pong.on(30000, bounce)
    ping.send(30000, b"!")

    # Execute / Assert
    with pytest.raises(RuntimeError, match="message loop"):
        bus.drain(max_messages=50)


def test_run_dispatches_everything_pending(bus: MemoryBus, rt: MemoryRuntime) -> None:
    got = []
    rt.on(TS_UE_LIST, lambda m, r: got.append(m.payload))
    bus.inject("kpimon", TS_UE_LIST, b"a")
    rt.run()
    assert got == [b"a"]
