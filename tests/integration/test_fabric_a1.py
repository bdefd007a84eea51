"""A1 through the fabric: policy types and instances over the A1-P v2 REST API reach xApps over RMR types."""

from __future__ import annotations

import pytest
from fabric_support import attach, rest, wait_until

from dnt.errors import PolicyError
from dnt.ric.a1 import A1Policy, A1PolicyHandler

pytestmark = pytest.mark.integration

TYPE_ID = 20008
SCHEMA = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "additionalProperties": False,
          "required": ["max_prb_ratio"],
          "properties": {"max_prb_ratio": {"type": "integer", "minimum": 0, "maximum": 100},
                         "cells": {"type": "array", "items": {"type": "integer"}}}}
POLICY_TYPE = {"name": "slice quota", "description": "max PRB share of eMBB", "policy_type_id": TYPE_ID,
               "create_schema": SCHEMA}


def _xapp(fabric, name: str, seen: list[A1Policy], **kwargs):
    def on_policy(policy: A1Policy, rt: object) -> None:
        if policy.body and policy.body.get("max_prb_ratio") == 13:
            raise PolicyError("13 % is refused by this xApp")
        seen.append(policy)

    rt = attach(fabric, name, **kwargs)
    handler = A1PolicyHandler({TYPE_ID: POLICY_TYPE}, on_policy)
    handler.register(rt)
    rt.start()
    return rt, handler


def test_policy_type_and_instance_reach_the_xapp_and_the_status_becomes_in_effect(fabric):
    a1 = fabric.url + "/A1-P/v2/policytypes"
    seen: list[A1Policy] = []
    rt, _ = _xapp(fabric, "a1test", seen, policies=(TYPE_ID,))
    try:
        # Execute: onboard the type, create an instance
        assert rest("GET", fabric.url + "/A1-P/v2/healthcheck")[0] == 200
        assert rest("PUT", f"{a1}/{TYPE_ID}", POLICY_TYPE) == (201, None)
        assert rest("GET", a1) == (200, [TYPE_ID])
        assert rest("GET", f"{a1}/{TYPE_ID}") == (200, POLICY_TYPE)
        assert rest("PUT", f"{a1}/{TYPE_ID}/policies/p1", {"max_prb_ratio": 60, "cells": [5161]})[0] == 202
        wait_until(lambda: seen, what="A1_POLICY_REQ at the xApp")
        status = wait_until(lambda: (s := rest("GET", f"{a1}/{TYPE_ID}/policies/p1/status")[1])
                            and s["instance_status"] == "IN EFFECT" and s, what="IN EFFECT")
        # an update, then a delete
        assert rest("PUT", f"{a1}/{TYPE_ID}/policies/p1", {"max_prb_ratio": 40})[0] == 202
        wait_until(lambda: len(seen) == 2, what="the UPDATE")
        assert rest("GET", f"{a1}/{TYPE_ID}/policies/p1") == (200, {"max_prb_ratio": 40})
        assert rest("DELETE", f"{a1}/{TYPE_ID}/policies/p1") == (202, None)
        wait_until(lambda: rest("GET", f"{a1}/{TYPE_ID}/policies/p1/status")[0] == 404, what="deletion")
        deleted_type = rest("DELETE", f"{a1}/{TYPE_ID}")
    finally:
        rt.stop()
    # Assert
    assert [(p.operation, p.policy_instance_id, p.body) for p in seen] == [
        ("CREATE", "p1", {"max_prb_ratio": 60, "cells": [5161]}), ("UPDATE", "p1", {"max_prb_ratio": 40}),
        ("DELETE", "p1", None)]
    assert status["has_been_deleted"] is False and status["created_at"] and status["enforceStatus"] == "ENFORCED"
    assert rt.metrics()["a1/accepted"] == 2 and rt.metrics()["a1/deleted"] == 1
    assert deleted_type == (204, None) and rest("GET", a1) == (200, [])


def test_invalid_types_and_instances_get_400_with_the_reason_and_never_reach_the_xapp(fabric):
    a1 = fabric.url + "/A1-P/v2/policytypes"
    seen: list[A1Policy] = []
    rt, _ = _xapp(fabric, "a1strict", seen, policies=(TYPE_ID,))
    try:
        # Execute
        extra = rest("PUT", f"{a1}/{TYPE_ID}", {**POLICY_TYPE, "downstream_schema": {}})
        bad_schema = rest("PUT", f"{a1}/{TYPE_ID}", {**POLICY_TYPE, "create_schema": {"type": 12}})
        mismatch = rest("PUT", f"{a1}/7", POLICY_TYPE)
        not_json = rest("PUT", f"{a1}/{TYPE_ID}", raw=b"{nope")
        assert rest("PUT", f"{a1}/{TYPE_ID}", POLICY_TYPE)[0] == 201
        again = rest("PUT", f"{a1}/{TYPE_ID}", POLICY_TYPE)
        violation = rest("PUT", f"{a1}/{TYPE_ID}/policies/p2", {"max_prb_ratio": 250})
        missing = rest("PUT", f"{a1}/{TYPE_ID}/policies/p3", {"cells": [1]})
        unknown_type = rest("PUT", f"{a1}/999/policies/p4", {"max_prb_ratio": 5})
        refused = rest("PUT", f"{a1}/{TYPE_ID}/policies/p5", {"max_prb_ratio": 13})
        refused_status = wait_until(lambda: rest("GET", f"{a1}/{TYPE_ID}/policies/p5/status")[1] if
                                    rt.metrics().get("a1/rejected") else None, what="the xApp's ERROR answer")
        instances = rest("GET", f"{a1}/{TYPE_ID}/policies")
        in_use = rest("DELETE", f"{a1}/{TYPE_ID}")
    finally:
        rt.stop()
    # Assert
    for status, body in (extra, bad_schema, mismatch, not_json, again, violation, missing):
        assert status == 400 and body["error"], body
    assert "max_prb_ratio" in violation[1]["error"] and "250" in violation[1]["error"]
    assert "required" in missing[1]["error"]
    assert unknown_type[0] == 404 and refused[0] == 202
    assert refused_status["instance_status"] == "NOT IN EFFECT"
    assert instances == (200, ["p5"]) and in_use[0] == 400
    assert seen == []  # nothing invalid reached the xApp (p5 reached it and was refused there)
    assert fabric.metrics()["fabric/a1/rejected"] == 2


def test_an_xapp_that_queries_its_policy_type_gets_the_existing_instances(fabric):
    a1 = fabric.url + "/A1-P/v2/policytypes"
    assert rest("PUT", f"{a1}/{TYPE_ID}", POLICY_TYPE)[0] == 201
    assert rest("PUT", f"{a1}/{TYPE_ID}/policies/early", {"max_prb_ratio": 30})[0] == 202
    seen: list[A1Policy] = []
    rt, handler = _xapp(fabric, "a1late", seen)  # no policy types announced: it registers by A1_POLICY_QUERY
    try:
        # Execute
        handler.query(rt)
        wait_until(lambda: seen, what="the re-sent CREATE")
        status = wait_until(lambda: (s := rest("GET", f"{a1}/{TYPE_ID}/policies/early/status")[1])
                            and s["instance_status"] == "IN EFFECT" and s, what="IN EFFECT")
    finally:
        rt.stop()
    # Assert
    assert [(p.operation, p.policy_instance_id, p.body) for p in seen] == [("CREATE", "early", {"max_prb_ratio": 30})]
    assert status["instance_status"] == "IN EFFECT"
