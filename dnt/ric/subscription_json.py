"""The JSON submgr speaks: ``SubscriptionParams`` (xApp -> submgr) and ``SubscriptionResponse`` (submgr -> xApp).

Pure functions both ways, so the xApp client (:mod:`dnt.ric.subscription`) and the local fabric's
subscription manager share one definition. Keys follow the swagger of ``ric-plt-xapp-frame-py:
api/xapp_rest_api.yaml`` (basePath ``/ric/v1``) that submgr serves (oran-conventions.md §3.7):

* ``SubscriptionParams``: ``SubscriptionId`` (optional), ``ClientEndpoint {Host, HTTPPort, RMRPort}``,
  ``Meid``, ``RANFunctionID`` (0..4095), ``E2SubscriptionDirectives {E2TimeoutTimerValue 1..10,
  E2RetryCount 0..10, RMRRoutingNeeded}`` (optional), ``SubscriptionDetails [{XappEventInstanceId
  0..65535, EventTriggers [bytes as ints], ActionToBeSetupList [{ActionID 0..255, ActionType
  insert|policy|report, ActionDefinition [ints], SubsequentAction {SubsequentActionType continue|wait,
  TimeToWait zero|w1ms..w60s}}]}]``.
* ``SubscriptionResponse``: ``SubscriptionId``, ``SubscriptionInstances [{XappEventInstanceId,
  E2EventInstanceId, ErrorCause, ErrorSource, TimeoutType}]``. Go decodes JSON keys case-insensitively,
  so parsers here do too; builders emit the swagger spelling.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dnt.e2.e2ap_ies import RicAction, RicSubsequentAction
from dnt.errors import DecodeError, EncodeError

__all__ = [
    "NOTIFICATION_PATH",
    "SUBMGR_URL",
    "TIME_TO_WAIT",
    "ClientEndpoint",
    "E2Directives",
    "SubscriptionDetail",
    "SubscriptionRequest",
    "SubscriptionInstance",
    "SubscriptionNotification",
    "subscription_params",
    "parse_subscription_params",
    "notification_json",
    "parse_notification",
    "field_of",
]

NOTIFICATION_PATH = "/ric/v1/subscriptions/response"
"""Where submgr posts subscription results on the xApp's HTTP port."""
SUBMGR_URL = "http://service-ricplt-submgr-http.ricplt:8088/ric/v1"
"""submgr's REST base in the OSC platform (the REST server listens on 8088, not the service's 3800)."""
TIME_TO_WAIT = ("zero", "w1ms", "w2ms", "w5ms", "w10ms", "w20ms", "w30ms", "w40ms", "w50ms", "w100ms",
                 "w200ms", "w500ms", "w1s", "w2s", "w5s", "w10s", "w20s", "w60s")


@dataclass(frozen=True)
class ClientEndpoint:
    """``SubscriptionParams.ClientEndpoint``: how submgr reaches this xApp (HTTP for results, RMR)."""

    host: str
    http_port: int = 8080
    rmr_port: int = 4560


@dataclass(frozen=True)
class E2Directives:
    """``E2SubscriptionDirectives`` (all optional): E2 timeout 1..10 s, retries 0..10, RMR routing."""

    timeout_timer_s: int | None = None
    retry_count: int | None = None
    rmr_routing_needed: bool | None = None


def _byte_list(data: bytes | None, what: str) -> list[int]:
    if data is None:
        return []
    if not isinstance(data, bytes | bytearray | memoryview):
        raise EncodeError(f"{what} must be bytes (an encoded E2SM IE), got {type(data).__name__}")
    return list(bytes(data))


def _in_range(value: int, lo: int, hi: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise EncodeError(f"{what}={value!r} must be an int in {lo}..{hi}")
    return value


def _action_json(action: RicAction) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ActionID": _in_range(action.action_id, 0, 255, "ActionID"),
        "ActionType": action.action_type,
        "ActionDefinition": _byte_list(action.definition, f"ActionDefinition of action {action.action_id}"),
    }
    if action.action_type not in ("insert", "policy", "report"):
        raise EncodeError(f"ActionType {action.action_type!r} must be insert, policy or report")
    if action.subsequent_action is not None:
        sub = action.subsequent_action
        if sub.action_type not in ("continue", "wait") or sub.time_to_wait not in TIME_TO_WAIT:
            raise EncodeError(f"SubsequentAction {sub!r}: type continue|wait, TimeToWait one of {TIME_TO_WAIT}")
        out["SubsequentAction"] = {"SubsequentActionType": sub.action_type, "TimeToWait": sub.time_to_wait}
    return out


def subscription_params(endpoint: ClientEndpoint, meid: str, ran_function_id: int, event_trigger: bytes,
                        actions: Sequence[RicAction], *, xapp_event_instance_id: int,
                        directives: E2Directives | None = None, subscription_id: str | None = None
                        ) -> dict[str, Any]:
    """The ``SubscriptionParams`` JSON object submgr expects (CamelCase keys).

    Raises
    ------
    EncodeError
        A field is out of the swagger's range, actions are empty or mix REPORT/POLICY/INSERT.
    """
    if not meid or not isinstance(meid, str):
        raise EncodeError(f"Meid {meid!r} must be the E2 node's inventory name")
    if not actions:
        raise EncodeError("a subscription needs at least one action")
    if len({a.action_type for a in actions}) > 1:
        raise EncodeError("submgr does not accept mixed action types in one subscription")
    params: dict[str, Any] = {}
    if subscription_id is not None:
        params["SubscriptionId"] = subscription_id
    params["ClientEndpoint"] = {"Host": endpoint.host, "HTTPPort": _in_range(endpoint.http_port, 0, 65535, "HTTPPort"),
                                "RMRPort": _in_range(endpoint.rmr_port, 0, 65535, "RMRPort")}
    params["Meid"] = meid
    params["RANFunctionID"] = _in_range(ran_function_id, 0, 4095, "RANFunctionID")
    if directives is not None:
        d: dict[str, Any] = {}
        if directives.timeout_timer_s is not None:
            d["E2TimeoutTimerValue"] = _in_range(directives.timeout_timer_s, 1, 10, "E2TimeoutTimerValue")
        if directives.retry_count is not None:
            d["E2RetryCount"] = _in_range(directives.retry_count, 0, 10, "E2RetryCount")
        if directives.rmr_routing_needed is not None:
            d["RMRRoutingNeeded"] = bool(directives.rmr_routing_needed)
        if d:
            params["E2SubscriptionDirectives"] = d
    params["SubscriptionDetails"] = [{
        "XappEventInstanceId": _in_range(xapp_event_instance_id, 0, 65535, "XappEventInstanceId"),
        "EventTriggers": _byte_list(event_trigger, "EventTriggers"),
        "ActionToBeSetupList": [_action_json(a) for a in actions],
    }]
    return params


@dataclass(frozen=True)
class SubscriptionInstance:
    """One ``SubscriptionInstance`` of a notification."""

    xapp_event_instance_id: int
    e2_event_instance_id: int
    error_cause: str | None = None
    error_source: str | None = None
    timeout_type: str | None = None

    @property
    def ok(self) -> bool:
        """True when the E2 subscription exists (non-zero E2EventInstanceId and no error cause)."""
        return self.e2_event_instance_id != 0 and not self.error_cause


@dataclass(frozen=True)
class SubscriptionNotification:
    """``SubscriptionResponse`` as posted by submgr to the xApp."""

    subscription_id: str
    instances: tuple[SubscriptionInstance, ...]


def field_of(obj: Mapping[str, Any], name: str) -> Any:
    """``obj[name]`` matched case-insensitively (Go's JSON decoding accepts any case, so peers vary)."""
    if name in obj:
        return obj[name]
    low = name.lower()
    for key, value in obj.items():
        if isinstance(key, str) and key.lower() == low:
            return value
    return None


def parse_notification(body: bytes | str | Mapping[str, Any]) -> SubscriptionNotification:
    """Parse submgr's ``SubscriptionResponse`` JSON.

    Raises
    ------
    DecodeError
        Not JSON, not an object, or SubscriptionId / SubscriptionInstances are missing or mistyped.
    """
    try:
        obj = json.loads(body) if isinstance(body, bytes | str) else body
    except ValueError as err:
        raise DecodeError(f"subscription notification is not JSON: {err}") from err
    if not isinstance(obj, Mapping):
        raise DecodeError(f"subscription notification must be a JSON object, got {type(obj).__name__}")
    sid = field_of(obj, "SubscriptionId")
    raw_instances = field_of(obj, "SubscriptionInstances") or []
    if not isinstance(sid, str | int) or isinstance(sid, bool) or not isinstance(raw_instances, list):
        raise DecodeError(f"subscription notification lacks SubscriptionId / SubscriptionInstances: {obj!r}")
    instances = []
    for item in raw_instances:
        if not isinstance(item, Mapping):
            raise DecodeError(f"SubscriptionInstance must be an object, got {item!r}")
        xid, eid = field_of(item, "XappEventInstanceId"), field_of(item, "E2EventInstanceId")
        if not isinstance(xid, int) or not isinstance(eid, int) or isinstance(xid, bool) or isinstance(eid, bool):
            raise DecodeError(f"SubscriptionInstance needs integer XappEventInstanceId and E2EventInstanceId: {item!r}")
        instances.append(SubscriptionInstance(xid, eid, field_of(item, "ErrorCause") or None,
                                              field_of(item, "ErrorSource") or None,
                                              field_of(item, "TimeoutType") or None))
    return SubscriptionNotification(str(sid), tuple(instances))


@dataclass(frozen=True)
class SubscriptionDetail:
    """One ``SubscriptionDetails`` item: an E2 subscription's trigger and actions."""

    xapp_event_instance_id: int
    event_trigger: bytes
    actions: tuple[RicAction, ...]


@dataclass(frozen=True)
class SubscriptionRequest:
    """A parsed ``SubscriptionParams`` (what a subscription manager receives)."""

    endpoint: ClientEndpoint
    meid: str
    ran_function_id: int
    details: tuple[SubscriptionDetail, ...]
    directives: E2Directives | None = None
    subscription_id: str | None = None


def _ints_to_bytes(value: Any, what: str) -> bytes:
    if value is None:
        return b""
    if not isinstance(value, list) or not all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255
                                              for b in value):
        raise DecodeError(f"{what} must be a list of byte values 0..255")
    return bytes(value)


def _int_field(obj: Mapping[str, Any], name: str, lo: int, hi: int, required: bool = True) -> int | None:
    value = field_of(obj, name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise DecodeError(f"{name}={value!r} must be an integer in {lo}..{hi}")
    return value


def _parse_action(obj: Any) -> RicAction:
    if not isinstance(obj, Mapping):
        raise DecodeError(f"ActionToBeSetup must be an object, got {obj!r}")
    action_type = field_of(obj, "ActionType")
    if action_type not in ("insert", "policy", "report"):
        raise DecodeError(f"ActionType {action_type!r} must be insert, policy or report")
    sub = field_of(obj, "SubsequentAction")
    subsequent = None
    if sub is not None:
        kind, wait = (field_of(sub, "SubsequentActionType"), field_of(sub, "TimeToWait")) if isinstance(
            sub, Mapping) else (None, None)
        if kind not in ("continue", "wait") or wait not in TIME_TO_WAIT:
            raise DecodeError(f"SubsequentAction {sub!r}: type continue|wait, TimeToWait one of {TIME_TO_WAIT}")
        subsequent = RicSubsequentAction(kind, wait)
    definition = _ints_to_bytes(field_of(obj, "ActionDefinition"), "ActionDefinition")
    return RicAction(_int_field(obj, "ActionID", 0, 255), action_type,  # type: ignore[arg-type]
                     definition or None, subsequent)


def parse_subscription_params(body: bytes | str | Mapping[str, Any]) -> SubscriptionRequest:
    """Parse a ``SubscriptionParams`` body (the inverse of :func:`subscription_params`).

    Raises
    ------
    DecodeError
        Not JSON, a required field missing, or a value outside the swagger's range.
    """
    try:
        obj = json.loads(body) if isinstance(body, bytes | str) else body
    except ValueError as err:
        raise DecodeError(f"SubscriptionParams is not JSON: {err}") from err
    if not isinstance(obj, Mapping):
        raise DecodeError("SubscriptionParams must be a JSON object")
    ep = field_of(obj, "ClientEndpoint")
    meid = field_of(obj, "Meid")
    if not isinstance(ep, Mapping) or not isinstance(field_of(ep, "Host"), str) or not isinstance(meid, str) \
            or not meid:
        raise DecodeError("SubscriptionParams needs ClientEndpoint {Host, HTTPPort, RMRPort} and Meid")
    endpoint = ClientEndpoint(field_of(ep, "Host"), _int_field(ep, "HTTPPort", 0, 65535),  # type: ignore[arg-type]
                              _int_field(ep, "RMRPort", 0, 65535))  # type: ignore[arg-type]
    raw_details = field_of(obj, "SubscriptionDetails")
    if not isinstance(raw_details, list) or not raw_details:
        raise DecodeError("SubscriptionDetails must be a non-empty list")
    details = []
    for d in raw_details:
        if not isinstance(d, Mapping) or not isinstance(field_of(d, "ActionToBeSetupList"), list):
            raise DecodeError(f"SubscriptionDetail needs an ActionToBeSetupList: {d!r}")
        details.append(SubscriptionDetail(
            _int_field(d, "XappEventInstanceId", 0, 65535),  # type: ignore[arg-type]
            _ints_to_bytes(field_of(d, "EventTriggers"), "EventTriggers"),
            tuple(_parse_action(a) for a in field_of(d, "ActionToBeSetupList"))))
    raw_dir = field_of(obj, "E2SubscriptionDirectives")
    directives = None
    if isinstance(raw_dir, Mapping):
        routing = field_of(raw_dir, "RMRRoutingNeeded")
        directives = E2Directives(_int_field(raw_dir, "E2TimeoutTimerValue", 1, 10, required=False),
                                  _int_field(raw_dir, "E2RetryCount", 0, 10, required=False),
                                  routing if isinstance(routing, bool) else None)
    sid = field_of(obj, "SubscriptionId")
    return SubscriptionRequest(endpoint, meid, _int_field(obj, "RANFunctionID", 0, 4095),  # type: ignore[arg-type]
                               tuple(details), directives, None if sid in (None, "") else str(sid))


def notification_json(subscription_id: str, instances: Sequence[SubscriptionInstance]) -> dict[str, Any]:
    """The ``SubscriptionResponse`` submgr posts to the xApp (inverse of :func:`parse_notification`)."""
    items = []
    for inst in instances:
        item: dict[str, Any] = {"XappEventInstanceId": inst.xapp_event_instance_id,
                                "E2EventInstanceId": inst.e2_event_instance_id}
        for key, value in (("ErrorCause", inst.error_cause), ("ErrorSource", inst.error_source),
                           ("TimeoutType", inst.timeout_type)):
            if value:
                item[key] = value
        items.append(item)
    return {"SubscriptionId": subscription_id, "SubscriptionInstances": items}
