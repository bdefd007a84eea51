"""Restarts: kpimon killed mid-stream, and the fabric itself, resume from SDL.

Neither loses nor duplicates a subscription (checked at submgr, in SDL and at the simulated nodes).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from fabric_support import REPO, FabricProcess, fixed_ports, start_sim, wait_until

pytestmark = pytest.mark.integration

SIM = ("topology.n_gnbs=2", "replay.speed=600")
CELLS = 50  # 2 gNBs x 25 cells: 2 subscriptions (16 + 9 cells) per gNB


def _kpimon(fabric_env: dict[str, str], xapp_port: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, str(REPO / "xapps" / "kpimon" / "app.py"), "--set", "period_ms=200", "--set",
           "scan_period_s=0.3"]
    return subprocess.Popen(cmd, cwd=REPO, env={**fabric_env, "DNT_FABRIC": f"127.0.0.1:{xapp_port}"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _fresh_records(fabric_store, since_ms: int) -> bool:
    records = fabric_store.find_json("kpimon", "cell:")
    return len(records) == CELLS and all(r["updated_ms"] > since_ms for r in records.values())


def _instances(fabric: FabricProcess) -> list[tuple[str, int]]:
    return sorted((s["SubscriptionId"], i["E2EventInstanceId"]) for s in fabric.subscriptions()
                  for i in s["SubscriptionInstances"])


def _node_subscriptions(sim) -> dict[str, int]:
    return {name: sim.node(name).n_subscriptions for name in sim.ran_names}


def test_kpimon_killed_mid_stream_resumes_from_sdl_without_lost_or_duplicated_subscriptions(fabric, fabric_env,
                                                                                            fabric_store):
    # Prepare: kpimon streaming the KPIs of 50 cells
    sim = start_sim(fabric.endpoints["e2_port"], *SIM)
    kpimon = _kpimon(fabric_env, fabric.endpoints["xapp_port"])
    try:
        wait_until(lambda: _fresh_records(fabric_store, 0), timeout=30, what="records of all 50 cells")
        before = _instances(fabric)
        book = sorted(fabric_store.find_json("dnt.ric.kpimon", "sub/"))
        # Execute: kill -9 while indications flow, start it again
        kpimon.send_signal(signal.SIGKILL)
        kpimon.wait(10)
        killed_ms = int(time.time() * 1000)
        kpimon = _kpimon(fabric_env, fabric.endpoints["xapp_port"])
        wait_until(lambda: _fresh_records(fabric_store, killed_ms), timeout=30,
                   what="records written after the restart")
        after = _instances(fabric)
        per_node = _node_subscriptions(sim)
        metrics = fabric.metrics()
    finally:
        kpimon.send_signal(signal.SIGTERM)
        rc = kpimon.wait(15)
        sim.stop()
        sim.join(10)
    # Assert: the same 4 subscriptions at submgr and at the nodes, no new subscription request, clean stop
    assert len(before) == 4 and after == before
    assert sorted(fabric_store.find_json("dnt.ric.kpimon", "sub/")) == book and len(book) == 4
    assert per_node == {name: 2 for name in sim.ran_names}
    assert metrics["fabric/submgr/requests"] == 4 and metrics["fabric/xapp_attached"] == 2
    assert rc == 0


def test_fabric_restart_restores_subscriptions_on_the_nodes_without_duplicates(fabric_env, fabric_store):
    # Prepare: a fabric on fixed ports, the simulator and kpimon attached to it
    fab = FabricProcess(fabric_env, fixed_ports()).start()
    sim = start_sim(fab.endpoints["e2_port"], *SIM)
    kpimon = _kpimon(fabric_env, fab.endpoints["xapp_port"])
    try:
        wait_until(lambda: _fresh_records(fabric_store, 0), timeout=30, what="records of all 50 cells")
        before = _instances(fab)
        # Execute: stop the fabric, start a new one on the same ports and Redis
        assert fab.stop() == 0
        stopped_ms = int(time.time() * 1000)
        fab = FabricProcess(fabric_env, fab.ports).start()
        wait_until(lambda: fab.metrics().get("fabric/submgr/restored", 0) == 4, timeout=30,
                   what="the 4 subscriptions re-established on the reconnected nodes")
        wait_until(lambda: _fresh_records(fabric_store, stopped_ms), timeout=30,
                   what="records after the fabric restart")
        after = _instances(fab)
        per_node = _node_subscriptions(sim)
        metrics = fab.metrics()
    finally:
        kpimon.send_signal(signal.SIGTERM)
        kpimon.wait(15)
        sim.stop()
        sim.join(10)
        fab.stop()
    # Assert: same subscriptions, two per node, kpimon made no new request and re-attached by itself
    assert len(before) == 4 and after == before
    assert per_node == {name: 2 for name in sim.ran_names}
    assert metrics.get("fabric/submgr/requests", 0) == 0 and metrics["fabric/xapp_attached"] == 1
    assert metrics["fabric/e2/setups"] == 2
