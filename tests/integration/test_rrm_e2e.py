"""The rrm xApp end to end: its slice PRB quota controls reach the simulator and change the served traffic.

Redis + ``python -m sim.fabric`` + the E2 simulator (1 gNB, real-time replay: the data step does not change
during the test, and eMBB and voice both offer ~3x what a cell carries) + the rrm xApp as a process, with
no A1 policy and no model: its heuristic shares follow the H-twin's eMBB forecasts, which the test writes
into SDL (``htwin`` / ``forecast:<cell>``) as the htwin would. A probe xApp in the test subscribes the same
cells and reads the served load per slice from the KPM reports.

1. forecasts say eMBB will vanish → the rrm gives voice the budget, eMBB its SLA floor → eMBB served drops;
2. forecasts say eMBB will explode → eMBB gets the budget, voice its floor → eMBB served rises, voice drops;
3. the rrm is killed (-9) and restarted: it resumes its acknowledged quotas from SDL and sends nothing new.

A second test publishes an RRM policy model as the vtwin rApp does (:func:`dnt.rrm.publish.publish_rrm_policy`:
registry + ``dnt-rrm`` type and instance on the fabric's A1 mediator): the rrm loads it (digest checked),
decides with it, and refuses an update naming a model trained on other node features.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from typing import Any

import pytest
from fabric_support import apps_running, attach, start_sim, wait_until

from dnt.e2.mtypes import RIC_INDICATION
from dnt.e2.rnib import read_nodes
from dnt.procs import Proc, rest
from dnt.ran.kpi import CellKpmSubscriptions
from dnt.ric.runtime import Message
from dnt.rrm.a1 import RRM_POLICY_TYPE_ID
from dnt.rrm.features import FEATURES
from dnt.rrm.publish import RrmPublishConfig, publish_rrm_policy
from dnt.twin.registry import ModelRegistry, RegistryServer, a1_put_policy

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

# real-time replay from 20:00 of day one; 0.5 / 5 Mbit/s per unit of internet / call activity: in the busy
# cell 5361 eMBB offers ~3.2x and voice ~2.8x the 98 Mbit/s the cell carries, so the split decides
SETTINGS = ("topology.n_gnbs=1", "replay.speed=1", "replay.start_step=120",
            "replay.radio.mbps_per_unit=[0.5, 5.0, 0.004]")
CELL = 5361
RRM = ("period_ms=500", "scan_period_s=0.5", "default_policy.decision_period_s=1", "service.control_timeout_s=3",
       "service.refresh_periods=0",  # the floors the phases below are computed with (not the config defaults)
       "default_policy.safety.sla_floor_prb_ratio={embb: 10, voice: 10, messaging: 2}")
SERVED = ("DRB.UEThpDl.1-000001", "DRB.UEThpDl.2-000002")


def _forecasts(store: Any, cells: tuple[int, ...], embb_kbps: float) -> None:
    for cell in cells:
        store.set("htwin", f"forecast:{cell}", json.dumps({
            "cell_id": cell, "start_ms": 0, "step_ms": 600_000, "values": [embb_kbps] * 6, "model_version": 1,
            "cluster": None}).encode())


def test_rrm_controls_change_served_traffic_and_survive_a_restart(fabric, fabric_env, fabric_store) -> None:
    env = {**fabric_env, "DNT_FABRIC": f"127.0.0.1:{fabric.endpoints['xapp_port']}"}
    sim = start_sim(fabric.endpoints["e2_port"], *SETTINGS)
    node = wait_until(lambda: read_nodes(fabric_store), what="the E2 node")[0]
    cells = tuple(int(c) for c in sim.node(node.ran_name).gnb.cells)
    _forecasts(fabric_store, cells, 1.0)  # phase 1: eMBB will vanish
    probe = attach(fabric, "probe")
    subs = CellKpmSubscriptions(SERVED, 500)
    reports: list[dict[str, Any]] = []
    lock = threading.Lock()

    def on_indication(msg: Message, rt: object) -> None:
        for r in subs.records(msg.payload, msg.sub_id):
            if r["cell"] == CELL:
                with lock:
                    reports.append(r["slices"])

    probe.on(RIC_INDICATION, on_indication)
    probe.start()
    procs: list[Proc] = []

    def decision() -> dict[str, Any]:
        return fabric_store.get_json("rrm", f"decision:{CELL}") or {}

    def served_after(embb_min: int) -> tuple[float, float]:
        """Wait for the cell's quota with this eMBB min ratio to be acknowledged, then for a later report."""
        wait_until(lambda: decision().get("status") in ("acked", "kept")
                   and decision()["quotas"]["embb"]["min_prb_ratio"] == embb_min, timeout=20,
                   what=f"the eMBB min ratio {embb_min} acknowledged: {decision()}")
        n = len(reports)
        wait_until(lambda: len(reports) >= n + 2, what="two reports after the control")
        with lock:
            last = reports[-1]
        return float(last["embb"]["DRB.UEThpDl"]), float(last["voice"]["DRB.UEThpDl"])

    with apps_running(procs, probe.stop, sim.stop, functools.partial(sim.join, 10)):
        subs.subscribe(probe, node)
        wait_until(lambda: len(reports) >= 2, what="the probe's reports")
        before = reports[-1]
        procs.append(Proc("xapps/rrm/app.py", env, *RRM))
        # phase 1: voice gets the budget (78 %), eMBB its 10 % floor
        embb_1, voice_1 = served_after(10)
        assert decision()["controller"] == "forecast" and decision()["quotas"]["voice"]["min_prb_ratio"] == 78
        # phase 2: eMBB gets the budget
        _forecasts(fabric_store, cells, 1e9)
        embb_2, voice_2 = served_after(78)
        applied = sim.node(node.ran_name).counters["e2/controls_applied"]
        # restart: kill -9, the new process resumes the acknowledged quotas and has nothing to send
        procs[0].kill()
        restarted = time.time() * 1000
        procs[0] = Proc("xapps/rrm/app.py", env, *RRM)
        wait_until(lambda: "resumed from SDL" in "".join(procs[0].lines), timeout=20, what="the rrm resuming")
        wait_until(lambda: decision().get("time_ms", 0) > restarted + 1500, timeout=20,
                   what="decisions of the restarted rrm")
        after_restart = decision()
        applied_after = sim.node(node.ran_name).counters["e2/controls_applied"]
        procs[0].stop()
        stopped_log = "".join(procs[0].lines)
    # Assert: the default policy (no quotas) split the cell by demand; each control moved the served traffic
    embb_0, voice_0 = float(before["embb"]["DRB.UEThpDl"]), float(before["voice"]["DRB.UEThpDl"])
    print(f"eMBB/voice served kbit/s: default {embb_0:.0f}/{voice_0:.0f}, eMBB vanishing {embb_1:.0f}/{voice_1:.0f},"
          f" eMBB exploding {embb_2:.0f}/{voice_2:.0f}")
    assert embb_1 < 0.5 * embb_0 and voice_1 > voice_0  # voice prioritised
    assert embb_2 > 3 * embb_1 and voice_2 < 0.5 * voice_1  # eMBB prioritised
    assert applied >= 2 * len(cells)  # every cell of the node, twice
    assert after_restart["status"] == "kept" and after_restart["quotas"]["embb"]["min_prb_ratio"] == 78
    assert applied_after == applied  # the resumed rrm had nothing to resend
    metrics = {k: int(v) for k, v in re.findall(r"'(rrm/[a-z_/]+)': (\d+)", stopped_log)}
    assert metrics.get("rrm/controller/heuristic", 0) >= 1 and metrics.get("rrm/decisions/forecast", 0) >= 1
    assert "rrm/controls/sent" not in metrics and "rrm/controls/failed" not in metrics


def _bundle(features: tuple[str, ...]) -> bytes:
    from dnt.rl.policy import ActorCritic, NetConfig, RrmPolicy

    return RrmPolicy(ActorCritic(NetConfig(len(features), hidden=8, layers=1)), features).to_bytes()


def test_rrm_runs_the_policy_model_named_over_a1_and_refuses_one_for_other_features(fabric, fabric_env, fabric_store,
                                                                                    tmp_path) -> None:
    env = {**fabric_env, "DNT_FABRIC": f"127.0.0.1:{fabric.endpoints['xapp_port']}"}
    (tmp_path / "rrm.bin").write_bytes(_bundle(FEATURES))
    (tmp_path / "other.bin").write_bytes(_bundle(tuple(f"x{i}" for i in range(len(FEATURES)))))
    reg = ModelRegistry()
    other = reg.publish((tmp_path / "other.bin").read_bytes(), 2).digest
    srv = RegistryServer(reg).start()
    sim = start_sim(fabric.endpoints["e2_port"], *SETTINGS)
    procs = [Proc("xapps/rrm/app.py", env, *RRM)]
    status = f"{fabric.url}/A1-P/v2/policytypes/{RRM_POLICY_TYPE_ID}/policies/dnt-rrm-1/status"

    def in_effect() -> str:
        return (rest("GET", status)[1] or {}).get("instance_status", "")

    with apps_running(procs, srv.stop, sim.stop, functools.partial(sim.join, 10)):
        node = wait_until(lambda: read_nodes(fabric_store), what="the E2 node")[0]
        body = publish_rrm_policy(reg, str(tmp_path / "rrm.bin"), RrmPublishConfig(decision_period_s=1.0),
                                  a1_url=fabric.url, registry_url=srv.url)
        assert body is not None
        wait_until(lambda: in_effect() == "IN EFFECT", timeout=20, what="the dnt-rrm policy IN EFFECT")
        wait_until(lambda: (fabric_store.get_json("rrm", f"decision:{CELL}") or {}).get("controller") == "policy"
                   and fabric_store.get_json("rrm", f"decision:{CELL}")["status"] in ("acked", "kept"),
                   timeout=20, what="a policy decision acknowledged")
        applied = sim.node(node.ran_name).counters["e2/controls_applied"]
        a1_put_policy(fabric.url, RRM_POLICY_TYPE_ID, "dnt-rrm-1", {**body, "model_version": 2, "model_digest": other})
        wait_until(lambda: in_effect() == "NOT IN EFFECT", timeout=20, what="the update refused")
        rrm_status = fabric_store.get_json("rrm", "status:rrm")
        procs[0].stop()
        log = "".join(procs[0].lines)
    assert applied >= 25 and rrm_status["model_digest"] == body["model_digest"]  # the first model stays
    assert rrm_status["controller"] == "policy" and "trained on node features" in log
    assert "'rrm/controller/policy'" in log and "'a1/rejected': 1" in log
