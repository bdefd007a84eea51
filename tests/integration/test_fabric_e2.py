"""The local fabric's E2 side, end to end: real fabric process, real Redis, simulator, a LocalRuntime xApp."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from fabric_support import attach, rest, start_sim, wait_until

from dnt.e2 import e2ap, kpm, rc
from dnt.e2.e2ap_ies import ComponentIdNG, E2nodeComponentConfig, E2nodeGnb, RanFunction, RicRequestId
from dnt.e2.e2ap_types import E2setupRequest, E2setupResponse, RICcontrolRequest
from dnt.e2.mtypes import RIC_CONTROL_ACK, RIC_CONTROL_REQ, RIC_INDICATION
from dnt.e2.rnib import E2MGR_NS, decode_nodeb, ran_key, read_nodes
from dnt.e2.transport import connect
from dnt.ran import SLICES, slice_demand
from dnt.ran.kpi import kpm_cell_actions
from dnt.ric.runtime import Message
from sim.config import load_config
from sim.replay import load_replay_traffic
from sim.topology import Topology, control_target

pytestmark = pytest.mark.integration

EMBB = "DRB.UEThpDl.1-000001"
MEAS = (EMBB, "DNT.OfferedLoadDl.1-000001", "RRU.PrbAvailDl")
# real-time replay from 20:00 of day one, 5 Mbit/s per unit of internet activity: eMBB is congested
SETTINGS = ("topology.n_gnbs=2", "replay.speed=1", "replay.start_step=120",
            "replay.radio.mbps_per_unit=[5.0, 0.04, 0.004]")


def test_e2_setup_records_nodes_in_sdl_and_marks_them_disconnected_when_they_leave(fabric, fabric_store):
    # Execute
    sim = start_sim(fabric.endpoints["e2_port"], "topology.n_gnbs=2")
    try:
        nodes = wait_until(lambda: len(read_nodes(fabric_store)) == 2 and read_nodes(fabric_store),
                           what="2 connected nodes")
    finally:
        sim.stop()
        sim.join(10)
    # Assert
    assert [n.ran_name for n in nodes] == sorted(sim.ran_names)
    for n in nodes:
        assert {f.oid for f in n.ran_functions} == {kpm.KPM_OID, rc.RC_OID} and n.plmn is not None
        assert n.nb_id is not None and n.e2t_address.endswith(str(fabric.endpoints["e2_port"]))
    wait_until(lambda: not read_nodes(fabric_store), what="nodes DISCONNECTED")
    assert {n.connection_status for n in read_nodes(fabric_store, connected_only=False)} == {"DISCONNECTED"}
    states = rest("GET", fabric.url + "/v1/nodeb/states")[1]
    assert sorted(s["inventoryName"] for s in states) == sorted(sim.ran_names)


def test_e2_setup_accepts_known_ran_functions_and_rejects_unknown_ones_without_failing(fabric, fabric_store):
    # Prepare: a node offering KPM and a RAN function with an OID the RIC does not serve
    node = E2nodeGnb.build("001", "01", 77, 22)
    funcs = (RanFunction(2, b"\x00", 1, kpm.KPM_OID), RanFunction(9, b"\x01", 1, "1.3.6.1.4.1.99999.1"))
    req = E2setupRequest(transaction_id=5, global_e2node_id=node, ran_functions=funcs,
                         component_configs=(E2nodeComponentConfig("ng", ComponentIdNG("amf"), b"\x00", b"\x00"),))
    # Execute
    with connect("tcp", "127.0.0.1", fabric.endpoints["e2_port"]) as tr:
        tr.send(e2ap.encode(req))
        resp = e2ap.decode(tr.recv(timeout=10))
        key = ran_key(e2ap.ran_name(node))
        record = decode_nodeb(wait_until(lambda: fabric_store.get(E2MGR_NS, key), what="the node's record"))
    # Assert
    assert isinstance(resp, E2setupResponse) and resp.transaction_id == 5
    assert [f.ran_function_id for f in resp.accepted] == [2]
    assert [(f.ran_function_id, f.cause.value) for f in resp.rejected] == [(9, "ran-function-not-supported")]
    assert [f.ran_function_id for f in record.ran_functions] == [2] and record.nb_id == 77


def _control(cell: int, max_ratio: int, instance: int) -> bytes:
    quota = rc.SlicePrbQuota(plmn=SLICE_PLMN, sst=SLICES[0].sst, sd=SLICES[0].sd, min_prb_ratio=0,
                             max_prb_ratio=max_ratio, dedicated_prb_ratio=0)
    header, message = rc.control_slice_prb_quota([quota], ue_id=control_target(cell))
    return e2ap.encode(RICcontrolRequest(request_id=RicRequestId(77, instance), ran_function_id=3, header=header,
                                         message=message, ack_request="ack"))


SLICE_PLMN = Topology().gnbs[0].plmn


def test_subscription_indications_and_a_control_that_changes_the_next_report_of_the_right_node(fabric, fabric_store):
    # Prepare: the busiest cell of the first gNB; an xApp subscribing its per-cell KPM report every 50 ms
    cfg = load_config(None, list(SETTINGS))
    topo = Topology(cfg.topology)
    traffic = load_replay_traffic(cfg.replay, topo.cell_ids)
    gnb = topo.gnbs[0]
    demand = slice_demand(traffic)[:, 120, 0]
    cell = max(gnb.cells, key=lambda c: demand[int(np.flatnonzero(traffic.cell_ids == c)[0])])
    sim = start_sim(fabric.endpoints["e2_port"], *SETTINGS)
    xapp = attach(fabric, "e2test")
    reports: list[dict] = []
    acks: list[Message] = []
    lock = threading.Lock()

    def on_indication(msg: Message, rt: object) -> None:
        ind = e2ap.decode(msg.payload)
        with lock:
            reports.append(kpm.decode_indication_message(ind.message).named() | {"meid": msg.meid})

    xapp.on(RIC_INDICATION, on_indication)
    xapp.on(RIC_CONTROL_ACK, lambda msg, rt: acks.append(msg))
    xapp.start()
    try:
        wait_until(lambda: len(read_nodes(fabric_store)) == 2, what="E2 setup of both nodes")
        (actions, _), = kpm_cell_actions(gnb.plmn, gnb.gnb_id, [cell], MEAS, 50)
        sub_id = xapp.subscribe(gnb.ran_name, 2, kpm.encode_event_trigger(kpm.KpmEventTrigger(50)), actions)
        wait_until(lambda: len(reports) >= 2, what="two indications")
        before = reports[-1]
        # Execute
        xapp.send(RIC_CONTROL_REQ, _control(cell, 50, 1), meid=gnb.ran_name)
        wait_until(lambda: acks, what="RIC_CONTROL_ACK back at the xApp")
        n = len(reports)
        wait_until(lambda: len(reports) > n, what="the next report")
        after = reports[n]
        subs = fabric.subscriptions()
        counters = {name: sim.node(name).counters["e2/controls_applied"] for name in sim.ran_names}
    finally:
        xapp.stop()
        sim.stop()
        sim.join(10)
    # Assert: the subscription, its indications, the control at the right node, the next report
    assert sub_id > 0 and [i["E2EventInstanceId"] for s in subs for i in s["SubscriptionInstances"]] == [sub_id]
    assert subs[0]["Meid"] == gnb.ran_name and subs[0]["XappName"] == "e2test"
    assert {r["meid"] for r in reports} == {gnb.ran_name}
    assert acks[0].meid == gnb.ran_name
    assert counters == {gnb.ran_name: 1, topo.gnbs[1].ran_name: 0}
    assert after["DNT.OfferedLoadDl.1-000001"] == before["DNT.OfferedLoadDl.1-000001"]
    assert after[EMBB] == pytest.approx(before[EMBB] / 2, rel=0.05)
