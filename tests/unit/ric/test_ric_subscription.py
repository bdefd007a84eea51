"""SubscriptionParams JSON exactly as submgr expects it, result notifications, SDL-persisted records."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dnt.e2.e2ap_ies import RicAction, RicSubsequentAction
from dnt.errors import DecodeError, EncodeError
from dnt.ric.sdl import MemoryStore
from dnt.ric.subscription import SubscriptionBook, SubscriptionRecord, request_key
from dnt.ric.subscription_json import (
    ClientEndpoint,
    E2Directives,
    SubscriptionDetail,
    SubscriptionInstance,
    SubscriptionNotification,
    SubscriptionRequest,
    notification_json,
    parse_notification,
    parse_subscription_params,
    subscription_params,
)

ENDPOINT = ClientEndpoint("service-ricxapp-kpimon-http.ricxapp", 8080, 4560)


def test_subscription_params_golden() -> None:
    # Prepare: one REPORT action with a subsequent action, all directives
    actions = [RicAction(1, "report", b"\x01\x02\xff", RicSubsequentAction("continue", "w10ms"))]

    # Execute
    got = subscription_params(ENDPOINT, "gnb_001_001_00019b", 2, b"\x08\x03\xe7", actions, xapp_event_instance_id=12345,
                              directives=E2Directives(2, 2, True))

    # Assert: the swagger's CamelCase keys (ric-plt-xapp-frame-py api/xapp_rest_api.yaml, submgr)
    assert got == {
        "ClientEndpoint": {"Host": "service-ricxapp-kpimon-http.ricxapp", "HTTPPort": 8080, "RMRPort": 4560},
        "Meid": "gnb_001_001_00019b",
        "RANFunctionID": 2,
        "E2SubscriptionDirectives": {"E2TimeoutTimerValue": 2, "E2RetryCount": 2, "RMRRoutingNeeded": True},
        "SubscriptionDetails": [{
            "XappEventInstanceId": 12345,
            "EventTriggers": [8, 3, 231],
            "ActionToBeSetupList": [{
                "ActionID": 1,
                "ActionType": "report",
                "ActionDefinition": [1, 2, 255],
                "SubsequentAction": {"SubsequentActionType": "continue", "TimeToWait": "w10ms"},
            }],
        }],
    }
    assert json.loads(json.dumps(got)) == got


def test_minimal_params_leave_optional_parts_out() -> None:
    got = subscription_params(ENDPOINT, "gnb_1", 3, b"", [RicAction(4, "policy")], xapp_event_instance_id=1,
                              subscription_id="abc")
    assert list(got) == ["SubscriptionId", "ClientEndpoint", "Meid", "RANFunctionID", "SubscriptionDetails"]
    assert got["SubscriptionDetails"][0]["ActionToBeSetupList"] == [
        {"ActionID": 4, "ActionType": "policy", "ActionDefinition": []}]


@pytest.mark.parametrize("kwargs, match", [
    ({"ran_function_id": 4096}, "RANFunctionID"),
    ({"actions": [RicAction(256)]}, "ActionID"),
    ({"actions": []}, "at least one action"),
    ({"actions": [RicAction(1, "report"), RicAction(2, "insert")]}, "mixed action types"),
    ({"actions": [RicAction(1, "control")]}, "ActionType"),  # type: ignore[arg-type]
    ({"actions": [RicAction(1, "insert", None, RicSubsequentAction("wait", "w3ms"))]}, "TimeToWait"),  # type: ignore[arg-type]
    ({"xapp_event_instance_id": 65536}, "XappEventInstanceId"),
    ({"meid": ""}, "Meid"),
    ({"event_trigger": "0803"}, "EventTriggers must be bytes"),
])
def test_out_of_range_fields_raise_encode_error(kwargs: dict, match: str) -> None:
    args = {"meid": "gnb_1", "ran_function_id": 2, "event_trigger": b"\x00", "actions": [RicAction(1)],
            "xapp_event_instance_id": 1} | kwargs
    with pytest.raises(EncodeError, match=match):
        subscription_params(ENDPOINT, args.pop("meid"), args.pop("ran_function_id"), args.pop("event_trigger"),
                            args.pop("actions"), **args)


def test_notification_as_submgr_posts_it() -> None:
    # Prepare: submgr's SubscriptionResponse, one success and one E2 failure
    body = json.dumps({"SubscriptionId": "1234", "SubscriptionInstances": [
        {"XappEventInstanceId": 1, "E2EventInstanceId": 55},
        {"XappEventInstanceId": 2, "E2EventInstanceId": 0, "ErrorCause": "RICrequestRejected",
         "ErrorSource": "E2Node", "TimeoutType": ""}]}).encode()

    # Execute
    note = parse_notification(body)

    # Assert
    assert note == SubscriptionNotification("1234", (
        SubscriptionInstance(1, 55), SubscriptionInstance(2, 0, "RICrequestRejected", "E2Node", None)))
    assert [i.ok for i in note.instances] == [True, False]


def test_notification_keys_match_case_insensitively() -> None:
    note = parse_notification({"subscriptionID": "x", "subscriptionInstances": [
        {"xappEventInstanceID": 3, "e2EventInstanceID": 9}]})
    assert note.instances == (SubscriptionInstance(3, 9),)


@pytest.mark.parametrize("body", [b"", b"nope", b"[]", b'{"SubscriptionInstances": []}',
                                  b'{"SubscriptionId": "1", "SubscriptionInstances": [{"XappEventInstanceId": 1}]}',
                                  b'{"SubscriptionId": "1", "SubscriptionInstances": [7]}'])
def test_malformed_notifications_raise_decode_error(body: bytes) -> None:
    with pytest.raises(DecodeError):
        parse_notification(body)


def test_request_key_depends_on_what_is_subscribed_only() -> None:
    a = request_key("gnb_1", 2, b"\x01", [RicAction(1, "report", b"\x02")])
    assert a == request_key("gnb_1", 2, b"\x01", (RicAction(1, "report", b"\x02"),))
    assert a != request_key("gnb_2", 2, b"\x01", [RicAction(1, "report", b"\x02")])
    assert a != request_key("gnb_1", 2, b"\x01", [RicAction(1, "report", b"\x03")])


def test_book_persists_records_and_instance_ids_across_instances() -> None:
    # Prepare
    store = MemoryStore()
    book = SubscriptionBook(store, "dnt.ric.kpimon")
    ids = [book.next_instance_id(), book.next_instance_id()]
    rec = SubscriptionRecord("k1", 55, "1234", "gnb_1", 2, ids[0])

    # Execute
    book.save(rec)
    reopened = SubscriptionBook(store, "dnt.ric.kpimon")

    # Assert
    assert ids == [1, 2] and reopened.next_instance_id() == 3
    assert reopened.get("k1") == rec and reopened.by_sub_id(55) == rec and reopened.all() == [rec]
    reopened.remove(rec)
    assert book.get("k1") is None and book.by_sub_id(55) is None


def test_params_parse_back_to_what_was_built() -> None:
    # Prepare
    actions = (RicAction(1, "insert", b"\x05", RicSubsequentAction("wait", "w1s")), RicAction(2, "insert"))
    built = subscription_params(ENDPOINT, "gnb_7", 3, b"\x10\x20", actions, xapp_event_instance_id=9,
                                directives=E2Directives(3, None, False), subscription_id="s-1")

    # Execute
    req = parse_subscription_params(json.dumps(built).encode())

    # Assert
    assert req == SubscriptionRequest(ENDPOINT, "gnb_7", 3, (SubscriptionDetail(9, b"\x10\x20", actions),),
                                      E2Directives(3, None, False), "s-1")


@pytest.mark.parametrize("mutate", [
    lambda p: p.pop("Meid"),
    lambda p: p.update(RANFunctionID=5000),
    lambda p: p.update(SubscriptionDetails=[]),
    lambda p: p["SubscriptionDetails"][0].update(EventTriggers=[256]),
    lambda p: p["SubscriptionDetails"][0]["ActionToBeSetupList"][0].update(ActionType="control"),
    lambda p: p["ClientEndpoint"].update(HTTPPort="8080"),
])
def test_invalid_params_are_refused_by_the_parser(mutate: Any) -> None:
    params = subscription_params(ENDPOINT, "gnb_7", 3, b"\x10", [RicAction(1)], xapp_event_instance_id=1)
    mutate(params)
    with pytest.raises(DecodeError):
        parse_subscription_params(params)


def test_notification_json_parses_back() -> None:
    instances = (SubscriptionInstance(1, 55), SubscriptionInstance(2, 0, "RICrequestRejected", "E2Node", None))
    body = notification_json("1234", instances)
    assert body["SubscriptionInstances"][0] == {"XappEventInstanceId": 1, "E2EventInstanceId": 55}
    assert parse_notification(json.dumps(body)) == SubscriptionNotification("1234", instances)
