"""Reconnection with backoff, subscription delete, reset, malformed PDUs and control failures, over sockets."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from dnt.e2.e2ap_ies import Cause
from dnt.e2.e2ap_types import (
    ErrorIndication,
    ResetResponse,
    RICcontrolAcknowledge,
    RICcontrolFailure,
    RICsubscriptionDeleteResponse,
)
from sim.config import load_config
from sim.runner import SimRunner
from sim.testing import ReceiverConfig, TestReceiver

pytestmark = pytest.mark.integration

FAST_BACKOFF = ["backoff.initial_s=0.05", "backoff.max_s=0.4", "backoff.jitter=0.2"]


def until(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` passes (bounded, no fixed sleep)."""
    deadline, pause = time.monotonic() + timeout, threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            return False
        pause.wait(0.01)
    return True


def make_runner(port: int, *extra: str) -> SimRunner:
    cfg = load_config(None, ["ric.transport=tcp", f"ric.port={port}", "topology.n_gnbs=2", "replay.speed=600",
                             *FAST_BACKOFF, *extra])
    return SimRunner(cfg)


@pytest.fixture
def live() -> Iterator[tuple[TestReceiver, SimRunner]]:
    with TestReceiver(ReceiverConfig(report_period_ms=50)) as rx:
        runner = make_runner(rx.port).start()
        try:
            assert rx.wait_for(lambda: len(rx.nodes) == 2 and all(len(r.reports) == 25 for r in rx.nodes.values()))
            yield rx, runner
        finally:
            runner.stop()
            assert runner.join(20)


def other_node_reports_three_more_periods(rx: TestReceiver, name: str) -> bool:
    other = next(r for n, r in rx.nodes.items() if n != name)
    start = other.indications
    return rx.wait_for(lambda: other.indications >= start + 3 * 25)


def test_node_reconnects_with_backoff_and_redoes_e2_setup_when_the_ric_comes_back():
    # Prepare: a RIC, two nodes reporting
    rx = TestReceiver(ReceiverConfig(report_period_ms=50)).start()
    port = rx.port
    runner = make_runner(port).start()
    try:
        assert rx.wait_for(lambda: rx.indications() >= 100)
        # Execute: the RIC goes away; the nodes fail to reconnect for a while; the RIC comes back
        rx.stop()
        assert until(lambda: runner.counters()["e2/connect_failures"] >= 4)
        assert runner.counters()["e2/associations_up"] == 0
        with TestReceiver(ReceiverConfig(port=port, report_period_ms=50)) as rx2:
            # Assert: each node connected again, did E2 setup again, and reports again
            assert rx2.wait_for(lambda: len(rx2.nodes) == 2 and all(r.setups == 1 and r.indications >= 25
                                                                     for r in rx2.nodes.values()))
            c = runner.counters()
            assert c["e2/reconnects"] >= 2 and c["e2/setups"] == 4 and c["e2/backoff_waits"] >= 4
    finally:
        runner.stop()
        assert runner.join(20)


def test_dropped_association_fault_reconnects(live):
    rx, runner = live
    name = runner.ran_names[0]
    runner.drop_association(name)
    assert rx.wait_for(lambda: rx.nodes[name].setups == 2 and rx.nodes[name].connected
                       and rx.nodes[name].indications > 0)
    n = rx.nodes[name].indications
    assert rx.wait_for(lambda: rx.nodes[name].indications >= n + 25)
    c = runner.counters()
    assert c["e2/associations_dropped"] == 1 and c["e2/reconnects"] == 1


def test_subscription_delete_stops_reports(live):
    rx, runner = live
    name = runner.ran_names[0]
    answers = rx.delete_subscriptions(name)
    assert len(answers) == 2 and all(isinstance(a, RICsubscriptionDeleteResponse) for a in answers)
    n = rx.nodes[name].indications  # reports sent before the delete response arrived before it
    assert other_node_reports_three_more_periods(rx, name)
    assert rx.nodes[name].indications == n
    assert runner.node(name).n_subscriptions == 0 and runner.counters()["e2/subscription_deletes"] == 2


def test_reset_drops_subscriptions_and_the_node_stays_up(live):
    rx, runner = live
    name = runner.ran_names[0]
    answer = rx.reset(name)
    assert isinstance(answer, ResetResponse)
    n = rx.nodes[name].indications
    assert other_node_reports_three_more_periods(rx, name)
    assert rx.nodes[name].indications == n and rx.nodes[name].connected
    assert runner.counters()["e2/resets"] == 1


def test_malformed_pdu_from_the_ric_gets_an_error_indication_and_the_node_keeps_reporting(live):
    rx, runner = live
    name = runner.ran_names[0]
    rx.send_raw(name, b"\x00\x05\x40\x7f\xde\xad\xbe\xef")
    rec = rx.nodes[name]
    assert rx.wait_for(lambda: len(rec.error_indications) == 1)
    assert rec.error_indications[0] == ErrorIndication(cause=Cause("protocol", "transfer-syntax-error"))
    n = rec.indications
    assert rx.wait_for(lambda: rec.indications >= n + 25)
    assert runner.counters()["e2/decode_errors"] == 1 and runner.counters()["e2/reconnects"] == 0


def test_malformed_pdu_fault_from_the_node_is_answered_and_reporting_goes_on(live):
    rx, runner = live
    name = runner.ran_names[0]
    runner.send_malformed(name)
    assert rx.wait_for(lambda: rx.counters["rx/decode_errors"] == 1)
    assert until(lambda: runner.counters()["e2/error_indications_received"] == 1)
    n = rx.nodes[name].indications
    assert rx.wait_for(lambda: rx.nodes[name].indications >= n + 25)


def test_controls_are_acknowledged_or_fail_with_a_cause(live):
    rx, runner = live
    name = runner.ran_names[0]
    cell = rx.nodes[name].cells[0]
    ok = rx.control(name, "voice", cell=cell, min_ratio=10, max_ratio=40)
    invalid = rx.control(name, "embb", cell=cell, min_ratio=70, max_ratio=60)
    unknown_cell = rx.control(name, "embb", cell=rx.nodes[runner.ran_names[1]].cells[0], max_ratio=60)
    unknown_function = rx.control(name, "embb", cell=cell, max_ratio=60, ran_function_id=7)
    assert isinstance(ok, RICcontrolAcknowledge)
    assert [(type(a), a.cause.value) for a in (invalid, unknown_cell, unknown_function)] == [
        (RICcontrolFailure, "control-message-invalid"), (RICcontrolFailure, "invalid-information-request"),
        (RICcontrolFailure, "ran-function-id-invalid")]
    assert runner.model.policy(cell).max_ratio == (100.0, 40.0, 100.0)
    c = runner.counters()
    assert c["e2/controls_applied"] == 1 and c["e2/controls_failed"] == 3
