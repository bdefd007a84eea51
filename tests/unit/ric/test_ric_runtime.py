"""Dispatch semantics shared by every runtime (BaseRuntime), exercised on the in-memory runtime."""

from __future__ import annotations

import logging
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from ric_payloads import indication, indication_bytes

from dnt.e2 import e2ap
from dnt.e2.mtypes import RIC_CONTROL_REQ, RIC_HEALTH_CHECK_REQ, RIC_HEALTH_CHECK_RESP, RIC_INDICATION, TS_UE_LIST
from dnt.errors import ConfigError, PolicyError, TransportError
from dnt.ric import Runtime
from dnt.ric.memory import MemoryBus, MemoryRuntime
from dnt.ric.runtime import Message, drop_reason, stop_on_signals


def test_memory_runtime_implements_the_runtime_protocol(rt: MemoryRuntime) -> None:
    assert isinstance(rt, Runtime)


def test_a_handler_gets_the_message_and_the_runtime(bus: MemoryBus, rt: MemoryRuntime) -> None:
    # Prepare
    seen: list[tuple[Message, Any]] = []
    rt.on(RIC_INDICATION, lambda msg, r: seen.append((msg, r)))
    payload = indication_bytes()

    # Execute
    bus.inject("kpimon", RIC_INDICATION, payload, meid="gnb_001_001_00000001", sub_id=7, source="e2term")
    handled = rt.drain()

    # Assert
    assert handled == 1
    (msg, got_rt), = seen
    assert got_rt is rt
    assert (msg.mtype, msg.meid, msg.sub_id, msg.source) == (RIC_INDICATION, "gnb_001_001_00000001", 7, "e2term")
    assert e2ap.decode(msg.payload) == indication()
    assert msg.name == "RIC_INDICATION"


def test_a_second_registration_is_rejected_unless_replace(rt: MemoryRuntime) -> None:
    # Prepare
    first, second = [], []
    rt.on(TS_UE_LIST, lambda m, r: first.append(m))

    # Execute / Assert
    with pytest.raises(ConfigError, match="already has a handler"):
        rt.on(TS_UE_LIST, lambda m, r: second.append(m))
    rt.on(TS_UE_LIST, lambda m, r: second.append(m), replace=True)
    rt.bus.inject("kpimon", TS_UE_LIST, b"x")
    rt.drain()
    assert (len(first), len(second)) == (0, 1)


def test_the_builtin_health_handler_answers_ok_and_may_be_replaced_without_flag(bus: MemoryBus,
                                                                              rt: MemoryRuntime) -> None:
    # Execute
    bus.inject("kpimon", RIC_HEALTH_CHECK_REQ, b"", source="probe")
    rt.drain()
    rt.on(RIC_HEALTH_CHECK_REQ, lambda m, r: r.reply(m, RIC_HEALTH_CHECK_RESP, b"custom\n"))
    bus.inject("kpimon", RIC_HEALTH_CHECK_REQ, b"", source="probe")
    rt.drain()

    # Assert
    assert [(m.mtype, m.payload) for m in bus.outbox["probe"]] == [(RIC_HEALTH_CHECK_RESP, b"OK\n"),
                                                                   (RIC_HEALTH_CHECK_RESP, b"custom\n")]


def test_health_reports_error_when_the_runtime_is_unhealthy(bus: MemoryBus, rt: MemoryRuntime) -> None:
    # Prepare: a store that is down
    class DownStore(type(rt.store)):  # type: ignore[misc]
        def healthy(self) -> bool:
            return False

    sick = bus.runtime("sick", store=DownStore())

    # Execute
    bus.inject("sick", RIC_HEALTH_CHECK_REQ, b"", source="probe")
    sick.drain()

    # Assert
    assert not sick.healthy()
    assert bus.outbox["probe"][0].payload.startswith(b"ERROR")


def test_dispatch_survives_every_kind_of_handler_error_and_counts_each_reason(bus: MemoryBus, rt: MemoryRuntime,
                                                                              caplog: pytest.LogCaptureFixture) -> None:
    # Prepare: a decoding handler (bad bytes -> DecodeError), a policy rejection, a send without route,
    # a plain bug, and a type nobody handles
    decoded = []
    rt.on(RIC_INDICATION, lambda m, r: decoded.append(e2ap.decode(m.payload)))
    def reject(msg: Message, r: Runtime) -> None:
        raise PolicyError("bad policy")

    rt.on(30000, reject)
    rt.on(30001, lambda m, r: r.send(39999, b"nowhere"))
    rt.on(30002, lambda m, r: [][1])
    sends = [(RIC_INDICATION, b"\x00\x01garbage"), (30000, b""), (30001, b""), (30002, b""), (30003, b""),
             (RIC_INDICATION, indication_bytes(sn=2))]

    # Execute
    with caplog.at_level(logging.WARNING, logger="dnt.ric.runtime"):
        for mtype, payload in sends:
            bus.inject("kpimon", mtype, payload, meid="gnb_1", sub_id=5)
        rt.drain()

    # Assert: the last, good indication was still handled
    assert [d.sn for d in decoded] == [2]
    m = rt.metrics()
    assert m["ric/received"] == 6 and m["ric/handled"] == 1 and m["ric/dropped"] == 5
    assert {k: v for k, v in m.items() if k.startswith("ric/dropped/")} == {
        "ric/dropped/decode_error": 1, "ric/dropped/policy_error": 1, "ric/dropped/transport_error": 1,
        "ric/dropped/handler_error": 1, "ric/dropped/no_handler": 1}
    assert m["ric/send_failed"] == 1
    # every drop is logged with type, MEID and sub_id
    drops = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert len(drops) == 5
    assert all("meid=gnb_1 sub_id=5" in r.getMessage() for r in drops)
    assert {r.reason for r in drops} == {"decode_error", "policy_error", "transport_error", "handler_error",  # type: ignore[attr-defined]
                                         "no_handler"}


def test_drop_reason_buckets() -> None:
    assert drop_reason(ValueError("x")) == "handler_error"
    assert drop_reason(TransportError("x")) == "transport_error"


def test_on_unknown_catches_types_without_handler(bus: MemoryBus, rt: MemoryRuntime) -> None:
    # Prepare
    other = []
    rt.on_unknown(lambda m, r: other.append(m.mtype))

    # Execute
    bus.inject("kpimon", 31000, b"")
    rt.drain()

    # Assert
    assert other == [31000] and "ric/dropped" not in rt.metrics()


@pytest.mark.parametrize("kwargs, match", [
    ({"mtype": -1}, "not an RMR message type"),
    ({"mtype": True}, "not an RMR message type"),
    ({"payload": "text"}, "must be bytes"),
    ({"meid": "x" * 32}, "at most 31 bytes"),
    ({"meid": ""}, "non-empty"),
    ({"sub_id": -2}, "sub_id"),
])
def test_send_rejects_invalid_fields(rt: MemoryRuntime, kwargs: dict[str, Any], match: str) -> None:
    args = {"mtype": RIC_CONTROL_REQ, "payload": b"x", "meid": "gnb_1", "sub_id": -1} | kwargs
    with pytest.raises(TransportError, match=match):
        rt.send(args.pop("mtype"), args.pop("payload"), **args)


def test_reply_goes_to_the_sender_with_meid_sub_id_and_xid(bus: MemoryBus, rt: MemoryRuntime) -> None:
    # Prepare
    rt.on(30000, lambda m, r: r.reply(m, 30001, b"pong"))

    # Execute
    bus.inject("kpimon", 30000, b"ping", meid="gnb_9", sub_id=3, xid=b"tx-1", source="peer")
    rt.drain()

    # Assert
    assert bus.outbox["peer"] == [Message(30001, b"pong", "gnb_9", 3, b"tx-1", "kpimon")]
    assert rt.metrics()["ric/sent"] == 1


@dataclass(frozen=True)
class Controls:
    period_ms: int


def parse_controls(raw: Mapping[str, Any]) -> Controls:
    period = raw.get("controls", {}).get("period_ms")
    if not isinstance(period, int) or period <= 0:
        raise ConfigError(f"controls.period_ms={period!r} must be a positive int")
    return Controls(period)


def test_config_reload_validates_then_swaps_and_keeps_the_old_config_on_invalid_input(rt: MemoryRuntime) -> None:
    # Prepare: the descriptor arrives before the app installs its parser (as with RMRXapp at start)
    changes = []
    rt.reload_config({"controls": {"period_ms": 1000}})
    assert rt.watch_config(parse_controls, lambda cfg, r: changes.append(cfg)) == Controls(1000)

    # Execute
    ok_bad = rt.reload_config({"controls": {"period_ms": -5}})
    ok_not_mapping = rt.reload_config(["not", "a", "mapping"])  # type: ignore[arg-type]
    kept = rt.app_config
    ok_good = rt.reload_config({"controls": {"period_ms": 250}})

    # Assert
    assert (ok_bad, ok_not_mapping, ok_good) == (False, False, True)
    assert kept == Controls(1000)
    assert rt.app_config == Controls(250) and rt.raw_config == {"controls": {"period_ms": 250}}
    assert changes == [Controls(250)]
    assert rt.metrics()["ric/config/rejected"] == 2 and rt.metrics()["ric/config/reloads"] == 1


def test_an_invalid_config_at_startup_fails_loudly(rt: MemoryRuntime) -> None:
    rt.reload_config({"controls": {}})
    with pytest.raises(ConfigError, match="period_ms"):
        rt.watch_config(parse_controls)


def test_a_failing_config_listener_does_not_undo_the_swap(rt: MemoryRuntime) -> None:
    # Prepare
    rt.watch_config(parse_controls, lambda cfg, r: 1 / 0)

    # Execute
    ok = rt.reload_config({"controls": {"period_ms": 5}})

    # Assert
    assert ok and rt.app_config == Controls(5)
    assert rt.metrics()["ric/config/listener_errors"] == 1


def test_handler_may_count_its_own_metrics(bus: MemoryBus, rt: MemoryRuntime) -> None:
    rt.on(30000, lambda m, r: r.count("twin/updates", 3))
    bus.inject("kpimon", 30000, b"")
    rt.drain()
    assert rt.metrics()["twin/updates"] == 3


def test_a_stopped_runtime_neither_dispatches_nor_sends(bus: MemoryBus, rt: MemoryRuntime) -> None:
    # Prepare
    rt.on(30000, lambda m, r: None)
    bus.inject("kpimon", 30000, b"")

    # Execute
    rt.stop()

    # Assert
    assert rt.step() is False
    assert not rt.healthy()
    with pytest.raises(TransportError, match="stopped"):
        rt.send(30000, b"")


def test_stop_on_signals_stops_the_runtime(rt: MemoryRuntime) -> None:
    # Prepare
    previous = signal.getsignal(signal.SIGUSR1)
    try:
        stop_on_signals(rt, [signal.SIGUSR1])

        # Execute
        signal.raise_signal(signal.SIGUSR1)
    finally:
        signal.signal(signal.SIGUSR1, previous)

    # Assert
    assert rt.stopped
