"""The A1 mediator contract: A1_POLICY_REQ in (str or int ids, str or object payload), A1_POLICY_RESP out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dnt.e2.mtypes import A1_POLICY_QUERY, A1_POLICY_REQ, A1_POLICY_RESP
from dnt.errors import ConfigError, DecodeError, PolicyError
from dnt.ric.a1 import A1Policy, A1PolicyHandler, encode_response, parse_request
from dnt.ric.memory import MemoryBus, MemoryRuntime
from dnt.ric.runtime import Runtime

TYPE_ID = 20008
POLICY_TYPE = {
    "name": "slice_prb_quota",
    "description": "per-slice PRB share bounds",
    "policy_type_id": TYPE_ID,
    "create_schema": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"slice": {"type": "string", "enum": ["eMBB", "voice", "messaging"]},
                       "max_prb_ratio": {"type": "integer", "minimum": 0, "maximum": 100}},
        "required": ["slice", "max_prb_ratio"],
        "additionalProperties": False,
    },
}


@pytest.fixture
def applied() -> list[A1Policy]:
    return []


@pytest.fixture
def handler(rt: MemoryRuntime, applied: list[A1Policy]) -> A1PolicyHandler:
    h = A1PolicyHandler({TYPE_ID: POLICY_TYPE}, lambda policy, r: applied.append(policy))
    h.register(rt)
    return h


def a1_request(bus: MemoryBus, rt: MemoryRuntime, body: dict[str, Any] | bytes) -> dict[str, Any] | None:
    """Send one A1_POLICY_REQ as the mediator does (sub_id = type id) and return the decoded reply."""
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    bus.inject(rt.name, A1_POLICY_REQ, payload, sub_id=TYPE_ID, source="a1mediator")
    rt.drain()
    replies = bus.outbox.pop("a1mediator", [])
    assert len(replies) <= 1
    if not replies:
        return None
    assert replies[0].mtype == A1_POLICY_RESP and replies[0].sub_id == TYPE_ID
    return json.loads(replies[0].payload)


def test_go_mediator_form_string_ids_and_string_payload(bus: MemoryBus, rt: MemoryRuntime, handler: A1PolicyHandler,
                                                        applied: list[A1Policy]) -> None:
    # Execute: exactly what the K-release Go mediator sends
    reply = a1_request(bus, rt, {"operation": "CREATE", "policy_type_id": str(TYPE_ID), "policy_instance_id": "p-1",
                                 "payload": json.dumps({"slice": "eMBB", "max_prb_ratio": 60})})

    # Assert: the type id comes back as a JSON number
    assert reply == {"policy_type_id": TYPE_ID, "policy_instance_id": "p-1", "handler_id": "kpimon", "status": "OK"}
    assert isinstance(reply["policy_type_id"], int)
    assert applied == [A1Policy("CREATE", TYPE_ID, "p-1", {"slice": "eMBB", "max_prb_ratio": 60})]
    assert handler.policies == {(TYPE_ID, "p-1"): {"slice": "eMBB", "max_prb_ratio": 60}}
    assert rt.metrics()["a1/accepted"] == 1


def test_documented_form_int_id_and_object_payload_then_update_and_delete(
        bus: MemoryBus, rt: MemoryRuntime, handler: A1PolicyHandler, applied: list[A1Policy]) -> None:
    # Execute
    created = a1_request(bus, rt, {"operation": "CREATE", "policy_type_id": TYPE_ID, "policy_instance_id": "p-2",
                                   "payload": {"slice": "voice", "max_prb_ratio": 10}})
    updated = a1_request(bus, rt, {"operation": "UPDATE", "policy_type_id": TYPE_ID, "policy_instance_id": "p-2",
                                   "payload": {"slice": "voice", "max_prb_ratio": 20}})
    deleted = a1_request(bus, rt, {"operation": "DELETE", "policy_type_id": str(TYPE_ID),
                                   "policy_instance_id": "p-2", "payload": ""})

    # Assert
    assert [r["status"] for r in (created, updated, deleted)] == ["OK", "OK", "DELETED"]  # type: ignore[index]
    assert [(p.operation, p.body) for p in applied] == [
        ("CREATE", {"slice": "voice", "max_prb_ratio": 10}), ("UPDATE", {"slice": "voice", "max_prb_ratio": 20}),
        ("DELETE", None)]
    assert handler.policies == {}
    assert rt.metrics()["a1/deleted"] == 1


@pytest.mark.parametrize("payload, reason", [
    ({"slice": "eMBB", "max_prb_ratio": 101}, "at max_prb_ratio: 101 is greater than the maximum of 100"),
    ({"slice": "gold", "max_prb_ratio": 1}, "at slice: 'gold' is not one of"),
    ({"slice": "eMBB"}, "at (root): 'max_prb_ratio' is a required property"),
    ({"slice": "eMBB", "max_prb_ratio": 1, "extra": 1}, "Additional properties are not allowed"),
    ("{not json", "payload is not JSON"),
    ("[1, 2]", "payload must be a JSON object"),
])
def test_schema_violations_are_answered_error_with_a_reason(bus: MemoryBus, rt: MemoryRuntime,
                                                           handler: A1PolicyHandler, applied: list[A1Policy],
                                                           payload: Any, reason: str) -> None:
    # Execute
    reply = a1_request(bus, rt, {"operation": "CREATE", "policy_type_id": str(TYPE_ID), "policy_instance_id": "p-3",
                                 "payload": payload if isinstance(payload, str) else json.dumps(payload)})

    # Assert
    assert reply is not None and reply["status"] == "ERROR" and reply["policy_type_id"] == TYPE_ID
    assert reason in reply["reason"]
    assert applied == [] and handler.policies == {}
    assert rt.metrics()["a1/rejected"] == 1 and "ric/dropped" not in rt.metrics()


@pytest.mark.parametrize("body, reason", [
    ({"operation": "CREATE", "policy_type_id": 1, "policy_instance_id": "x", "payload": {}}, "policy type 1 is not"),
    ({"operation": "PATCH", "policy_type_id": TYPE_ID, "policy_instance_id": "x", "payload": {}}, "operation 'PATCH'"),
    ({"policy_type_id": TYPE_ID, "policy_instance_id": "x", "payload": {}}, "operation ''"),
])
def test_unknown_type_or_operation_is_answered_error(bus: MemoryBus, rt: MemoryRuntime, handler: A1PolicyHandler,
                                                    body: dict[str, Any], reason: str) -> None:
    reply = a1_request(bus, rt, body)
    assert reply is not None and reply["status"] == "ERROR" and reason in reply["reason"]


@pytest.mark.parametrize("payload, bucket", [
    (b"\xff not json", "ric/dropped/decode_error"),
    (b"[1]", "ric/dropped/decode_error"),
    (json.dumps({"operation": "CREATE", "payload": {}}).encode(), "ric/dropped/policy_error"),
])
def test_requests_without_usable_ids_cannot_be_answered_and_are_dropped(bus: MemoryBus, rt: MemoryRuntime,
                                                                       handler: A1PolicyHandler, payload: bytes,
                                                                       bucket: str) -> None:
    assert a1_request(bus, rt, payload) is None
    assert rt.metrics()[bucket] == 1


def test_application_rejection_and_application_bug_are_both_answered(bus: MemoryBus, rt: MemoryRuntime) -> None:
    # Prepare
    def on_policy(policy: A1Policy, r: Runtime) -> None:
        if policy.policy_instance_id == "reject":
            raise PolicyError("model digest does not match")
        raise RuntimeError("bug")

    A1PolicyHandler({TYPE_ID: POLICY_TYPE}, on_policy, handler_id="rrm-1").register(rt)
    body = {"operation": "CREATE", "policy_type_id": TYPE_ID, "payload": {"slice": "eMBB", "max_prb_ratio": 1}}

    # Execute
    rejected = a1_request(bus, rt, body | {"policy_instance_id": "reject"})
    crashed = a1_request(bus, rt, body | {"policy_instance_id": "crash"})

    # Assert: both answered ERROR; the bug is also counted as a handler error by the runtime
    assert rejected == {"policy_type_id": TYPE_ID, "policy_instance_id": "reject", "handler_id": "rrm-1",
                        "status": "ERROR", "reason": "model digest does not match"}
    assert crashed is not None and crashed["status"] == "ERROR" and "RuntimeError: bug" in crashed["reason"]
    assert rt.metrics()["ric/dropped/handler_error"] == 1


def test_query_asks_the_mediator_to_resend_each_type(bus: MemoryBus, rt: MemoryRuntime,
                                                     handler: A1PolicyHandler) -> None:
    bus.add_route(A1_POLICY_QUERY, "a1mediator")
    handler.query(rt)
    (q,) = bus.outbox["a1mediator"]
    assert (q.mtype, json.loads(q.payload), q.sub_id) == (A1_POLICY_QUERY, {"policy_type_id": TYPE_ID}, -1)


def test_a_bare_schema_is_accepted_and_an_invalid_one_rejected() -> None:
    assert A1PolicyHandler({5: POLICY_TYPE["create_schema"]}, lambda p, r: None).policy_type_ids == [5]
    with pytest.raises(ConfigError, match="invalid JSON Schema"):
        A1PolicyHandler({5: {"type": "no-such-type"}}, lambda p, r: None)


def test_response_encoding_is_the_mediator_contract() -> None:
    assert json.loads(encode_response(7, "i", "h", "ERROR", "why")) == {
        "policy_type_id": 7, "policy_instance_id": "i", "handler_id": "h", "status": "ERROR", "reason": "why"}
    assert "reason" not in json.loads(encode_response(7, "i", "h", "OK"))


@given(type_id=st.integers(1, 2**31 - 1), as_str=st.booleans(), instance=st.text(min_size=1, max_size=40))
def test_parse_request_normalises_any_id_form(type_id: int, as_str: bool, instance: str) -> None:
    body = {"operation": "create", "policy_type_id": str(type_id) if as_str else type_id,
            "policy_instance_id": instance, "payload": ""}
    req = parse_request(json.dumps(body).encode())
    assert (req.operation, req.policy_type_id, req.policy_instance_id) == ("CREATE", type_id, instance)


@given(st.binary(max_size=200))
def test_parse_request_never_fails_other_than_with_a_dnt_error(data: bytes) -> None:
    try:
        parse_request(data)
    except (DecodeError, PolicyError):
        pass
