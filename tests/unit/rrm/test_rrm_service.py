"""RrmService on MemoryStore: decisions, fallbacks, safety, control outcomes, restart, model checks."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from dnt.e2 import e2ap, rc
from dnt.e2.e2ap_ies import Cause, PlmnId, RicRequestId
from dnt.e2.e2ap_types import RICcontrolAcknowledge, RICcontrolFailure
from dnt.errors import PolicyError, TransportError
from dnt.ric.sdl import MemoryStore
from dnt.rrm.features import FEATURES
from dnt.rrm.service import Control, RrmService, RrmServiceConfig

PLMN = PlmnId("001", "01")
NODE = "gnb_001_001_00000a"
SAFETY = {"sla_floor_prb_ratio": {"embb": 10, "voice": 20, "messaging": 5}, "max_cell_load": 0.9}
POLICY = {"decision_period_s": 1.0, "safety": SAFETY}


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


class FixedModel:
    """A policy model that always answers the same shares."""

    def __init__(self, shares, features=FEATURES) -> None:
        self.shares, self.features, self.calls = np.asarray(shares, float), tuple(features), []

    def decide(self, nodes, adj):
        self.calls.append((nodes.shape, adj.shape))
        c = nodes.shape[0]
        return np.tile(self.shares, (c, 1)), np.zeros(c, int), np.full(c, 0.1)


def record(cell: int, embb: float = 60_000, voice: float = 20_000, messaging: float = 100) -> dict:
    offered = {"embb": embb, "voice": voice, "messaging": messaging}
    return {"cell": cell, "ran_name": NODE, "cell_kpis": {"RRU.PrbAvailDl": 106},
            "slices": {s: {"DNT.OfferedLoadDl": v, "DRB.UEThpDl": v, "RRU.PrbUsedDl": v / 930}
                       for s, v in offered.items()}}


def service(store=None, clock=None, **kw) -> RrmService:
    svc = RrmService(store or MemoryStore(), RrmServiceConfig(**kw), POLICY, clock=clock or Clock())
    svc.add_node(NODE, PLMN, 3)
    return svc


def mins(control: Control) -> list[int]:
    return [q.min_prb_ratio for q in rc.parse_slice_prb_quota(e2ap.decode(control.payload).message)]


def ack(control: Control, ok: bool = True) -> bytes:
    rid = RicRequestId(1101, control.instance_id)
    msg = (RICcontrolAcknowledge(request_id=rid, ran_function_id=3) if ok else
           RICcontrolFailure(request_id=rid, ran_function_id=3, cause=Cause("ricRequest", "control-message-invalid")))
    return e2ap.encode(msg)


def test_without_policy_or_forecast_the_heuristic_follows_the_current_load() -> None:
    # Prepare: eMBB offers 3x voice; messaging nearly nothing
    svc = service()
    svc.on_record(record(5161))
    # Execute
    (control,) = svc.decide()
    # Assert: targets 74.9 / 25.0 / 0.1 % raised to the floors (messaging 5) and brought back to the 90 %
    # budget from the slices above their floor in proportion to their headroom (64.9 : 5.0)
    assert control.meid == NODE and control.cell == 5161
    assert mins(control) == [61, 24, 5] and sum(mins(control)) == 90
    d = svc.store.get_json("rrm", "decision:5161")
    assert d["controller"] == "load" and d["status"] == "sent" and svc.controller == "heuristic"
    assert svc.counters["rrm/decisions/load"] == 1 and svc.counters["rrm/controller/heuristic"] == 1


def test_a_forecast_in_sdl_replaces_the_embb_load() -> None:
    # Prepare: the twin forecasts eMBB collapsing to the voice level
    svc = service()
    svc.store.set_json("htwin", "forecast:5161", {"cell_id": 5161, "start_ms": 0, "step_ms": 600_000,
                                                 "values": [20_000, 1, 1, 1, 1, 1], "model_version": 3})
    svc.on_record(record(5161))
    # Execute
    (control,) = svc.decide()
    # Assert: equal eMBB and voice targets (49.9 %), voice's floor higher: voice keeps more
    assert mins(control) == [41, 44, 5]
    assert svc.store.get_json("rrm", "decision:5161")["controller"] == "forecast"
    assert svc.counters["rrm/decisions/forecast"] == 1


def test_unchanged_quotas_are_not_resent_and_stale_or_foreign_cells_are_skipped() -> None:
    svc = service()
    svc.on_record(record(5161))
    svc.on_record({**record(5162), "ran_name": "gnb_other"})  # not a node of this rrm
    svc.on_record({**record(5163), "updated_ms": 1})  # reported long ago
    (control,) = svc.decide()
    assert svc.on_outcome(ack(control), NODE) == "acked"
    svc.on_record(record(5161, embb=60_500))  # a ratio moves by < min_change_prb_ratio
    assert svc.decide() == [] and svc.store.get_json("rrm", "decision:5161")["status"] == "kept"
    svc.on_record(record(5161, embb=1_000))  # eMBB load collapses
    (again,) = svc.decide()
    assert mins(again) == [10, 75, 5] and svc.decide([]) == []  # no connected node: nothing decided


def test_a_control_failure_and_a_timeout_are_counted_and_retried_next_period() -> None:
    # Prepare
    clock = Clock()
    svc = service(clock=clock, control_timeout_s=2.0)
    svc.on_record(record(5161))
    (first,) = svc.decide()
    # Execute: the node refuses, the retry gets no answer, then a send error, then it works
    assert svc.on_outcome(ack(first, ok=False), NODE) == "failed"
    assert svc.store.get_json("rrm", "decision:5161")["reason"] == "ricRequest/control-message-invalid"
    (second,) = svc.decide()
    assert svc.decide() == []  # still waiting for an answer
    clock.t += 3.0
    (third,) = svc.decide()  # timed out: sent again
    svc.sent_failed(third, str(TransportError("no route")))
    (fourth,) = svc.decide()
    late = svc.on_outcome(ack(second), NODE)  # the answer to the timed-out control comes too late
    assert svc.on_outcome(ack(fourth), NODE) == "acked"
    # Assert
    c = svc.counters
    assert (c["rrm/controls/sent"], c["rrm/controls/failed"], c["rrm/controls/timeout"]) == (4, 1, 1)
    assert (c["rrm/controls/send_failed"], c["rrm/controls/acked"], c["rrm/controls/late"]) == (1, 1, 1)
    assert late is None and len({first.instance_id, second.instance_id, third.instance_id, fourth.instance_id}) == 4
    assert svc.acked[5161] == fourth.ratios and svc.store.get_json("rrm", "decision:5161")["status"] == "acked"
    assert svc.on_outcome(e2ap.encode(RICcontrolAcknowledge(request_id=RicRequestId(7, 1), ran_function_id=3)),
                          NODE) is None  # another xApp's control


def test_a_restart_resumes_policy_model_and_acknowledged_quotas_from_sdl() -> None:
    # Prepare: a model policy applied and one control acknowledged
    store, data = MemoryStore(), b"policy-bytes"
    digest = hashlib.sha256(data).hexdigest()
    models = []

    def loader(blob: bytes) -> FixedModel:
        models.append(blob)
        return FixedModel([0.2, 0.6, 0.2])

    svc = RrmService(store, RrmServiceConfig(), POLICY, loader=loader, clock=Clock())
    svc.add_node(NODE, PLMN, 3)
    svc.apply_policy({**POLICY, "model_version": 4, "model_digest": digest}, lambda d, u: data, "p1")
    svc.on_record(record(5161))
    (control,) = svc.decide()
    svc.on_outcome(ack(control), NODE)
    # Execute: a new service on the same store, no registry to fetch from
    again = RrmService(store, RrmServiceConfig(), POLICY, loader=loader, clock=Clock())
    again.add_node(NODE, PLMN, 3)
    resumed = again.load()
    again.on_record(record(5161))
    # Assert
    assert resumed and again.model_digest == digest and again.policy_instance == "p1"
    assert models == [data, data] and again.acked == {5161: control.ratios}
    assert again.decide() == []  # same decision as before the restart: nothing to resend
    assert again.store.get_json("rrm", "decision:5161")["controller"] == "policy"
    assert store.get_json("rrm", "status:rrm")["model_version"] == 4


def test_the_policy_model_decides_within_the_safety_thresholds() -> None:
    # Prepare: a model giving everything to messaging
    data = b"m"
    model = FixedModel([0.0, 0.0, 1.0])
    svc = RrmService(MemoryStore(), RrmServiceConfig(), POLICY, loader=lambda b: model, clock=Clock())
    svc.add_node(NODE, PLMN, 3)
    svc.apply_policy({**POLICY, "model_version": 1, "model_digest": hashlib.sha256(data).hexdigest()},
                     lambda d, u: data)
    for cell in (5161, 5162, 5261):
        svc.on_record(record(cell))
    # Execute
    controls = svc.decide()
    # Assert: the floors of eMBB and voice hold; the graph had the 3 cells
    assert [mins(c) for c in controls] == [[10, 20, 60]] * 3 and model.calls == [((3, len(FEATURES)), (3, 3))]
    assert svc.controller == "policy" and svc.counters["rrm/controller/policy"] == 1
    assert svc.store.get_json("rrm", "decision:5161")["sync_share"] == pytest.approx(0.1)


def test_a_failing_model_falls_back_to_the_heuristic_for_the_period() -> None:
    class Broken(FixedModel):
        def decide(self, nodes, adj):
            return np.full((nodes.shape[0], 3), np.nan), None, None

    data = b"m"
    svc = RrmService(MemoryStore(), RrmServiceConfig(), POLICY, loader=lambda b: Broken([1, 0, 0]), clock=Clock())
    svc.add_node(NODE, PLMN, 3)
    svc.apply_policy({**POLICY, "model_version": 1, "model_digest": hashlib.sha256(data).hexdigest()},
                     lambda d, u: data)
    svc.on_record(record(5161))
    assert len(svc.decide()) == 1 and svc.controller == "heuristic" and svc.counters["rrm/policy/errors"] == 1


def test_a_model_with_a_wrong_digest_or_other_features_is_refused_and_the_old_policy_stays() -> None:
    # Prepare
    svc = RrmService(MemoryStore(), RrmServiceConfig(), POLICY, loader=lambda b: FixedModel([1, 0, 0], ["x"]),
                     clock=Clock())
    body = {**POLICY, "decision_period_s": 5.0, "model_version": 1, "model_digest": "ab" * 32}
    # Execute / Assert: bytes that do not hash to the digest
    with pytest.raises(PolicyError, match="do not hash"):
        svc.apply_policy(body, lambda d, u: b"substituted bytes")
    # a registry that cannot deliver
    with pytest.raises(PolicyError, match="cannot fetch"):
        svc.apply_policy(body, lambda d, u: (_ for _ in ()).throw(TransportError("registry down")))
    # right digest, but trained on other features
    data = b"other"
    with pytest.raises(PolicyError, match="other node features"):
        svc.apply_policy({**body, "model_digest": hashlib.sha256(data).hexdigest()}, lambda d, u: data)
    # invalid thresholds: floors above the guaranteed budget
    with pytest.raises(PolicyError, match="add up to 35"):
        svc.apply_policy({**POLICY, "safety": {**SAFETY, "max_cell_load": 0.3}})
    assert svc.model is None and svc.decision_period_s == 1.0 and svc.store.get("rrm", "model:" + "ab" * 32) is None


def test_a_dry_run_policy_decides_without_controls_and_delete_restores_the_default() -> None:
    svc = service()
    svc.apply_policy({**POLICY, "enforce": False, "decision_period_s": 3.0}, None, "dry")
    svc.on_record(record(5161))
    assert svc.decide() == [] and svc.store.get_json("rrm", "decision:5161")["status"] == "dry_run"
    svc.delete_policy()
    assert svc.decision_period_s == 1.0 and len(svc.decide()) == 1


def _bundle(features) -> bytes:
    from dnt.rl.policy import ActorCritic, NetConfig, RrmPolicy

    return RrmPolicy(ActorCritic(NetConfig(len(features), hidden=8, layers=1)), features).to_bytes()


def test_a_real_rrm_policy_bundle_is_loaded_and_decides_and_one_for_other_features_is_refused() -> None:
    # Prepare
    good, other = _bundle(FEATURES), _bundle([*FEATURES[:-1], "something_else"])
    svc = service()
    for cell in (5161, 5162):
        svc.on_record(record(cell))
    # Execute / Assert: other features → refused with the reason, heuristic kept
    with pytest.raises(PolicyError, match="node features"):
        svc.apply_policy({**POLICY, "model_version": 2, "model_digest": hashlib.sha256(other).hexdigest()},
                         lambda d, u: other)
    assert svc.model is None
    svc.apply_policy({**POLICY, "model_version": 3, "model_digest": hashlib.sha256(good).hexdigest()},
                     lambda d, u: good)
    controls = svc.decide()
    d = svc.store.get_json("rrm", "decision:5161")
    assert len(controls) == 2 and d["controller"] == "policy" and sum(d["shares"]) == pytest.approx(1, abs=1e-3)
    assert d["sync_mode"] in (0, 1) and 0 < d["sync_share"] < 1
    assert all(m >= f for m, f in zip(mins(controls[0]), (10, 20, 5), strict=True))
