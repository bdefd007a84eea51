"""The dnt-rrm A1 policy type: schema, the fabric's A1 mediator, and the rrm xApp's answers."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from dnt.e2 import e2ap
from dnt.e2.e2ap_ies import Cause, RicRequestId
from dnt.e2.e2ap_types import RICcontrolFailure
from dnt.e2.mtypes import A1_POLICY_REQ, A1_POLICY_RESP, RIC_CONTROL_FAILURE
from dnt.errors import PolicyError
from dnt.ric.memory import MemoryBus
from dnt.ric.runtime import Message
from dnt.ric.sdl import MemoryStore
from dnt.rrm.a1 import RRM_POLICY_TYPE_ID, rrm_policy_type, validate_rrm_policy
from dnt.twin.registry import TWIN_POLICY_TYPE_ID, ModelRegistry, RegistryServer, twin_policy_type
from sim.fabric.a1med import A1Mediator
from sim.fabric.router import RoutingTable

REPO = Path(__file__).resolve().parents[3]
BODY = {"decision_period_s": 2.0,
        "safety": {"sla_floor_prb_ratio": {"embb": 10, "voice": 10, "messaging": 2}, "max_cell_load": 0.9}}


class FakeFabric:
    """What the A1 mediator uses of the fabric: SDL, the routing table, delivery to xApps, counters."""

    def __init__(self) -> None:
        self.store, self.router = MemoryStore(), RoutingTable()
        self.cfg = SimpleNamespace(a1_delete_ttl_s=60.0)
        self.sent: list[tuple[str, Message]] = []
        self.hub = SimpleNamespace(deliver=lambda name, msg, src: self.sent.append((name, msg)))

    def count(self, key: str, n: int = 1) -> None:
        pass

    def call(self, fn: Any) -> None:
        fn()

    sdl = call

    def drop(self, reason: str, why: str) -> None:
        raise AssertionError(f"dropped: {reason}: {why}")


def rrm_app() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rrm_app", REPO / "xapps" / "rrm" / "app.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_the_policy_type_is_next_to_dnt_twin_and_validates_bodies() -> None:
    t = rrm_policy_type()
    assert t["policy_type_id"] == RRM_POLICY_TYPE_ID == TWIN_POLICY_TYPE_ID + 1 and t["name"] == "dnt-rrm"
    assert set(t) == set(twin_policy_type())
    assert validate_rrm_policy(BODY) == BODY
    with_model = {**BODY, "model_version": 1, "model_digest": "ab" * 32, "model_url": "http://r:1", "enforce": False}
    assert validate_rrm_policy(with_model) == with_model
    for bad, where in [({**BODY, "model_digest": "ab" * 32}, "model_version"),  # a digest needs its version
                       ({**BODY, "decision_period_s": 0}, "decision_period_s"),
                       ({**BODY, "safety": {**BODY["safety"], "max_cell_load": 1.5}}, "max_cell_load"),
                       ({**BODY, "safety": {"sla_floor_prb_ratio": {"embb": 10}, "max_cell_load": 0.5}}, "voice"),
                       ({**BODY, "model_digest": "XY", "model_version": 1}, "model_digest"),
                       ({**BODY, "unknown": 1}, "unknown")]:
        with pytest.raises(PolicyError, match=where):
            validate_rrm_policy(bad)


def test_the_fabrics_a1_mediator_onboards_the_type_routes_instances_and_records_the_rrms_answer() -> None:
    # Prepare: the mediator, and the rrm xApp on the in-memory runtime
    fabric = FakeFabric()
    med = A1Mediator(fabric)  # type: ignore[arg-type]
    fabric.router.add_policy("rrm", RRM_POLICY_TYPE_ID)
    app, bus = rrm_app(), MemoryBus()
    rt = bus.runtime("rrm")
    service, _, _, changed = app.wire(rt, app.RrmConfig())
    # Execute: onboard, create a valid and try an invalid instance
    assert med.put_type(str(RRM_POLICY_TYPE_ID), rrm_policy_type()) == (201, None)
    assert med.put_instance(str(RRM_POLICY_TYPE_ID), "dnt-rrm-1", BODY) == (202, None)
    code, err = med.put_instance(str(RRM_POLICY_TYPE_ID), "bad", {**BODY, "decision_period_s": "fast"})
    ((to, req),) = fabric.sent
    bus.inject(to, req.mtype, req.payload, sub_id=req.sub_id, source="a1mediator")
    rt.drain()
    (resp,) = bus.outbox.pop("a1mediator")
    med.on_message(resp, to)
    # Assert
    assert code == 400 and "decision_period_s" in err["error"]
    assert (to, req.mtype, req.sub_id) == ("rrm", A1_POLICY_REQ, RRM_POLICY_TYPE_ID)
    assert resp.mtype == A1_POLICY_RESP and json.loads(resp.payload)["status"] == "OK"
    assert med.status(str(RRM_POLICY_TYPE_ID), "dnt-rrm-1")[1]["instance_status"] == "IN EFFECT"
    assert service.decision_period_s == 2.0 and service.policy_instance == "dnt-rrm-1" and changed.is_set()


def _req(body: dict, instance: str = "p", operation: str = "CREATE") -> bytes:
    return json.dumps({"operation": operation, "policy_type_id": str(RRM_POLICY_TYPE_ID),
                       "policy_instance_id": instance, "payload": "" if operation == "DELETE" else json.dumps(body)
                       }).encode()


def test_the_rrm_answers_error_for_a_model_that_does_not_match_and_counts_control_failures() -> None:
    # Prepare: a registry serving bytes that are not an RRM policy bundle
    reg = ModelRegistry()
    junk = reg.publish(b"not a policy bundle", 1).digest
    srv = RegistryServer(reg).start()
    app, bus = rrm_app(), MemoryBus()
    rt = bus.runtime("rrm")
    service, _, _, _ = app.wire(rt, app.RrmConfig(registry_url=srv.url))
    try:
        # Execute: a digest the registry does not have, then bytes that do not load, then a delete
        answers = []
        for body in ({**BODY, "model_version": 1, "model_digest": hashlib.sha256(b"x").hexdigest()},
                     {**BODY, "model_version": 1, "model_digest": junk}):
            bus.inject("rrm", A1_POLICY_REQ, _req(body), sub_id=RRM_POLICY_TYPE_ID, source="a1mediator")
            rt.drain()
            answers.append(json.loads(bus.outbox.pop("a1mediator")[0].payload))
        bus.inject("rrm", A1_POLICY_REQ, _req({}, operation="DELETE"), sub_id=RRM_POLICY_TYPE_ID, source="a1mediator")
        failure = RICcontrolFailure(request_id=RicRequestId(1101, 9), ran_function_id=3,
                                    cause=Cause("misc", "unspecified"))
        bus.inject("rrm", RIC_CONTROL_FAILURE, e2ap.encode(failure), meid="gnb_x")
        rt.drain()
        deleted = json.loads(bus.outbox.pop("a1mediator")[0].payload)
    finally:
        srv.stop()
    # Assert
    assert [a["status"] for a in answers] == ["ERROR", "ERROR"]
    assert "cannot fetch" in answers[0]["reason"] and "refused" in answers[1]["reason"]
    assert deleted["status"] == "DELETED" and service.model is None
    assert rt.metrics()["a1/rejected"] == 2 and rt.metrics()["rrm/controls/late"] == 1  # not a pending control
