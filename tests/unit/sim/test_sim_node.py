"""The E2 node state machine, fed with RIC-side PDUs (no sockets)."""

from __future__ import annotations

import pytest

from dnt.e2 import e2ap, fastpath, kpm, rc
from dnt.e2.e2ap_ies import Cause, GlobalRicId, PlmnId, RicAction, RicRequestId
from dnt.e2.e2ap_types import (
    E2setupFailure,
    E2setupRequest,
    ErrorIndication,
    ResetResponse,
    RICcontrolAcknowledge,
    RICcontrolFailure,
    RICindication,
    RICsubscriptionDeleteFailure,
    RICsubscriptionDeleteResponse,
    RICsubscriptionFailure,
    RICsubscriptionRequest,
    RICsubscriptionResponse,
)
from sim import ricside
from sim.measurements import default_names
from sim.node import E2Node, NodeState

RIC = GlobalRicId(PlmnId("001", "01"), 1)


def setup(node: E2Node) -> E2setupRequest:
    [pdu] = node.connection_made(0.0)
    req = e2ap.decode(pdu)
    assert node.handle(e2ap.encode(e2ap.e2_setup_response(req, RIC, {kpm.KPM_OID, rc.RC_OID})), 0.0) == []
    return req


def subscribe(node: E2Node, cells, period_ms=1000, names=None, instance=1):
    g = node.gnb
    subs = ricside.kpm_subscriptions(g.plmn, g.gnb_id, cells, requestor_id=7, first_instance=instance,
                                     period_ms=period_ms, meas_names=names or default_names())
    return subs, [e2ap.decode(p) for s in subs for p in node.handle(e2ap.encode(s.request), 0.0)]


def reports(pdus: list[bytes]) -> list[RICindication]:
    return [fastpath.decode_indication(p) for p in pdus]


def test_setup_advertises_kpm_2_and_rc_3_with_their_oids(node):
    req = setup(node)
    assert node.state is NodeState.CONNECTED
    assert [(f.ran_function_id, f.oid) for f in req.ran_functions] == [(2, kpm.KPM_OID), (3, rc.RC_OID)]
    names = kpm.decode_ran_function_definition(req.ran_functions[0].definition).report_styles[0].meas_names
    assert set(default_names()) <= set(names)
    assert e2ap.ran_name(req.global_e2node_id) == "gnb_001_001_000001" and node.accepted_functions == (2, 3)


def test_25_cells_take_two_subscriptions_of_16_and_9_actions(node):
    setup(node)
    subs, answers = subscribe(node, node.gnb.cells)
    assert [len(s.request.actions) for s in subs] == [16, 9]
    assert all(isinstance(a, RICsubscriptionResponse) for a in answers)
    assert [len(a.admitted) for a in answers] == [16, 9] and node.n_actions == 25


def test_one_indication_per_cell_per_period_with_contiguous_sequence_numbers(node):
    # Prepare
    setup(node)
    subs, _ = subscribe(node, node.gnb.cells[:3], period_ms=500)
    # Execute: due at 0.5, 1.0, 1.5 s (steps 0, 1, 1)
    batches = [reports(node.due(t)) for t in (0.4, 0.5, 1.0, 1.5)]
    # Assert
    assert [len(b) for b in batches] == [0, 3, 3, 3]
    assert [[i.sn for i in b] for b in batches[1:]] == [[0, 0, 0], [1, 1, 1], [2, 2, 2]]
    first = batches[1][0]
    assert first.ran_function_id == 2 and first.action_id == 1 and first.request_id == RicRequestId(7, 1)
    assert kpm.decode_indication_header(first.header).unix_ms == 1_383_260_400_000  # step 0's data time
    values = kpm.decode_indication_message(first.message).named()
    assert values["DNT.OfferedLoadDl.1-000001"] == 4000  # 100 units x 0.04 Mbit/s
    assert kpm.decode_indication_message(batches[2][0].message).named()["DNT.OfferedLoadDl.1-000001"] == 8000
    assert node.next_due() == pytest.approx(2.0)


def test_a_node_behind_schedule_skips_missed_periods(node):
    setup(node)
    subscribe(node, node.gnb.cells[:1], period_ms=100)
    assert len(node.due(1.05)) == 1  # ten periods late: one report, nine skipped
    assert node.counters["e2/report_periods_skipped"] == 9 and node.next_due() == pytest.approx(1.1)


@pytest.mark.parametrize("change, cause", [
    ({"ran_function_id": 9}, "ran-function-id-invalid"),
    ({"ran_function_id": 3}, "action-not-supported"),
    ({"event_trigger": b"\xff"}, "eventTriggerNotSupported"),
    ({"event_trigger": kpm.encode_event_trigger(kpm.KpmEventTrigger(5))}, "eventTriggerNotSupported"),
])
def test_bad_subscriptions_fail_with_a_cause(node, change, cause):
    setup(node)
    subs, _ = subscribe(node, node.gnb.cells[:1], instance=1)
    req = subs[0].request
    fields = {"request_id": RicRequestId(7, 2), "ran_function_id": 2, "event_trigger": req.event_trigger,
              "actions": req.actions, **change}
    [answer] = [e2ap.decode(p) for p in node.handle(e2ap.encode(RICsubscriptionRequest(**fields)), 0.0)]
    assert isinstance(answer, RICsubscriptionFailure) and answer.cause == Cause("ricRequest", cause)


def test_actions_for_foreign_cells_or_unknown_measurements_are_not_admitted(node):
    setup(node)
    g = node.gnb
    good, foreign = ricside.kpm_subscriptions(g.plmn, g.gnb_id, [1], requestor_id=7, first_instance=1,
                                              period_ms=1000, meas_names=default_names())[0], \
        ricside.kpm_subscriptions(g.plmn, 2, [1], requestor_id=7, first_instance=1, period_ms=1000,
                                  meas_names=default_names())[0]
    unknown = kpm.encode_action_definition(kpm.KpmActionDefinition(("DRB.Nope",), 1000, kpm.NrCgi(g.plmn, g.nci(1))))
    actions = (good.request.actions[0], RicAction(2, "report", foreign.request.actions[0].definition),
               RicAction(3, "report", unknown), RicAction(4, "insert", unknown), RicAction(1, "report", unknown))
    req = RICsubscriptionRequest(request_id=RicRequestId(7, 1), ran_function_id=2,
                                 event_trigger=good.request.event_trigger, actions=actions)
    [answer] = [e2ap.decode(p) for p in node.handle(e2ap.encode(req), 0.0)]
    assert answer.admitted == (1,)
    assert [(n.action_id, n.cause.value) for n in answer.not_admitted] == [
        (2, "invalid-information-request"), (3, "requested-information-unavailable"), (4, "action-not-supported"),
        (1, "duplicate-action")]
    [dup] = [e2ap.decode(p) for p in node.handle(e2ap.encode(req), 0.0)]
    assert dup.cause == Cause("ricRequest", "duplicate-ric-request-id")


def test_subscription_delete_stops_reports_and_unknown_ids_fail(node):
    setup(node)
    subs, _ = subscribe(node, node.gnb.cells)
    rid = subs[0].request.request_id
    [ok] = [e2ap.decode(p) for p in node.handle(e2ap.encode(ricside.subscription_delete(rid)), 0.0)]
    [bad] = [e2ap.decode(p) for p in node.handle(e2ap.encode(ricside.subscription_delete(rid)), 0.0)]
    assert isinstance(ok, RICsubscriptionDeleteResponse) and isinstance(bad, RICsubscriptionDeleteFailure)
    assert bad.cause == Cause("ricRequest", "request-id-unknown")
    assert len(node.due(1.0)) == 9  # only the second subscription reports


def test_reset_drops_every_subscription_and_answers(node):
    setup(node)
    subscribe(node, node.gnb.cells)
    [answer] = [e2ap.decode(p) for p in node.handle(e2ap.encode(ricside.reset_request(42)), 0.0)]
    assert isinstance(answer, ResetResponse) and answer.transaction_id == 42
    assert node.due(5.0) == [] and node.next_due() is None and node.state is NodeState.CONNECTED


def test_malformed_and_unexpected_pdus_get_an_error_indication_and_the_node_carries_on(node):
    [before] = [e2ap.decode(p) for p in node.handle(e2ap.encode(ricside.reset_request(1)), 0.0)]  # before setup
    assert isinstance(before, ErrorIndication)
    assert before.cause == Cause("protocol", "message-not-compatible-with-receiver-state")
    setup(node)
    subscribe(node, node.gnb.cells[:2])
    [err] = [e2ap.decode(p) for p in node.handle(b"\x00\x05\x40\x7f\xde\xad", 0.5)]
    assert isinstance(err, ErrorIndication) and err.cause == Cause("protocol", "transfer-syntax-error")
    assert node.counters["e2/decode_errors"] == 1 and len(node.due(1.0)) == 2


def test_setup_failure_asks_for_a_retry_after_the_time_to_wait(node):
    [pdu] = node.connection_made(0.0)
    tid = e2ap.decode(pdu).transaction_id
    fail = E2setupFailure(transaction_id=tid, cause=Cause("misc", "unspecified"), time_to_wait="v5s")
    assert node.handle(e2ap.encode(fail), 0.0) == []
    assert node.state is NodeState.DISCONNECTED and node.retry_after_s == 5.0


def control(node, **kw):
    req = ricside.slice_quota_control(node.gnb.plmn, request_id=RicRequestId(7, 99), **kw)
    [answer] = [e2ap.decode(p) for p in node.handle(e2ap.encode(req), 0.0)]
    return answer


def test_control_halves_a_saturated_slice_in_the_next_report(topology):
    # Prepare: embb offers 100 Mbit/s per 100 units, far above the 98 Mbit/s carrier
    from sim_fixtures import hand_traffic

    from dnt.ran import CellRadioConfig
    from sim.config import E2Config
    from sim.measurements import MeasurementSource
    from sim.replay import ReplayClock, TrafficModel

    cells = topology.cell_ids
    radio = CellRadioConfig(mbps_per_unit=(1.0, 0.04, 0.004))
    model = TrafficModel(hand_traffic(cells), cells, radio)
    node = E2Node(topology.gnbs[0], MeasurementSource(model), ReplayClock(600_000, 6, speed=1.0), E2Config())
    setup(node)
    subscribe(node, [int(cells[0])], period_ms=100)
    before = kpm.decode_indication_message(reports(node.due(0.1))[0].message).named()
    # Execute
    ack = control(node, slice_name="embb", cell=int(cells[0]), max_ratio=50)
    after = kpm.decode_indication_message(reports(node.due(0.2))[0].message).named()
    # Assert
    assert isinstance(ack, RICcontrolAcknowledge)
    assert after["DNT.OfferedLoadDl.1-000001"] == before["DNT.OfferedLoadDl.1-000001"] == 100_000
    assert after["DRB.UEThpDl.1-000001"] == round(radio.capacity_mbps * 1000 / 2)
    assert after["RRU.PrbUsedDl.1-000001"] == 53 and before["RRU.PrbUsedDl.1-000001"] > 100


@pytest.mark.parametrize("kw, cause", [
    ({"slice_name": "embb", "min_ratio": 60, "max_ratio": 50}, "control-message-invalid"),
    ({"slice_name": "voice", "dedicated_ratio": 80, "max_ratio": 80, "cell": 1}, None),
    ({"slice_name": "embb", "cell": 9999}, "invalid-information-request"),
    ({"slice_name": "embb", "ran_function_id": 2}, "ran-function-id-invalid"),
])
def test_control_outcomes(node, kw, cause):
    setup(node)
    answer = control(node, **kw)
    if cause is None:
        assert isinstance(answer, RICcontrolAcknowledge) and node.counters["e2/controls_applied"] == 1
    else:
        assert isinstance(answer, RICcontrolFailure) and answer.cause == Cause("ricRequest", cause)
        assert node.counters["e2/controls_failed"] == 1


def test_control_with_an_undecodable_rc_message_and_a_foreign_plmn_fail(node):
    setup(node)
    req = ricside.slice_quota_control(node.gnb.plmn, request_id=RicRequestId(7, 1), slice_name="embb")
    bad = type(req)(request_id=req.request_id, ran_function_id=3, header=req.header, message=b"\x01\x02")
    [answer] = [e2ap.decode(p) for p in node.handle(e2ap.encode(bad), 0.0)]
    assert answer.cause == Cause("ricRequest", "control-message-invalid")
    foreign = ricside.slice_quota_control(PlmnId("222", "01"), request_id=RicRequestId(7, 2), slice_name="embb")
    [answer] = [e2ap.decode(p) for p in node.handle(e2ap.encode(foreign), 0.0)]
    assert answer.cause == Cause("ricRequest", "invalid-information-request")
