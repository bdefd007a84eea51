"""Twin security end to end: rogue clients attached to the local fabric during the live twin loop.

The full loop of ``test_twin_lifecycle`` (simulator, fabric, vtwin, aggregator, two htwin replicas, real
Redis), with per-client HMAC keys (a key file as a Kubernetes Secret would provide) and the ``tid`` rule
named in the A1 policy. Two rogue xApps attach to the fabric from this process once the loop is running and
send MPAF updates built against the current global twin: one without a key (every update must be rejected as
``auth`` before aggregation) and one holding a stolen valid key (signed, so it reaches the rule: TID must
trim it, and the aggregator must quarantine it). The honest replicas' updates are accepted, and the
forecasts still beat persistence by the same margin the clean run asserts.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from fabric_support import apps_running, attach, rest, start_sim, wait_until

from dnt.attacks.mpaf import MPAF
from dnt.attacks.rogue import RogueClient
from dnt.demo_twin import simulated_traffic
from dnt.e2.mtypes import DNT_TWIN_UPDATE
from dnt.fl.auth import KeyRing, sign_update
from dnt.fl.messages import GlobalTwin, TwinUpdate, decode, encode
from dnt.fl.types import layout as layout_of
from dnt.procs import Proc, forecast_error
from dnt.ric.redis_server import free_port
from dnt.twin.lifecycle import TwinSpec
from dnt.twin.registry import TWIN_POLICY_TYPE_ID

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
START = 7 * 144 + 48


def test_rogue_clients_on_the_fabric_are_rejected_or_trimmed_and_the_twin_stays_accurate(
        fabric, fabric_env, fabric_store, tmp_path) -> None:
    env = {**fabric_env, "DNT_FABRIC": f"127.0.0.1:{fabric.endpoints['xapp_port']}"}
    attack = MPAF(fraction=0.2, scale=1e3, seed=7, exclude_ids=("htwin-0", "htwin-1"))
    spec_layout = layout_of(TwinSpec().model())
    stolen, keyless = RogueClient(attack, spec_layout, 0), RogueClient(attack, spec_layout, 1)
    keys = KeyRing.generate(["htwin-0", "htwin-1", stolen.client_id])
    keys.save(tmp_path / "keys.json")
    keys_path = f"keys_path={tmp_path / 'keys.json'}"
    registry_port = free_port()
    registry = f"registry_url=http://127.0.0.1:{registry_port}"
    data = simulated_traffic(2, 9, tmp_path / "traffic.npz")
    sim = start_sim(fabric.endpoints["e2_port"], "topology.n_gnbs=2", "replay.speed=600", f"replay.data={data}",
                    f"replay.start_step={START}")
    procs: list[Proc] = []
    snapshots: dict[tuple[int, int], list[float]] = {}
    rogue = attach(fabric, "rogue").start()
    sent = {"keyless": 0, "stolen": 0}
    with apps_running(procs, rogue.stop, sim.stop):
        procs.append(Proc("xapps/aggregator/app.py", env, registry, keys_path, "quarantine.min_observations=3"))
        procs += [Proc("xapps/htwin/app.py", env, f"replica={i}", "replicas=2", registry, "scan_period_s=0.5",
                       keys_path) for i in range(2)]
        procs.append(Proc("rapps/vtwin/app.py", env, f"a1_url={fabric.url}", f"registry_port={registry_port}",
                          "update_cadence_s=2", "buffer_size=4", f"data={data}", f"until_step={START}",
                          "creation.rule=tid"))
        status = f"{fabric.url}/A1-P/v2/policytypes/{TWIN_POLICY_TYPE_ID}/policies/dnt-twin-1/status"
        wait_until(lambda: (rest("GET", status)[1] or {}).get("instance_status") == "IN EFFECT", timeout=90,
                   what="the dnt-twin policy IN EFFECT")
        # the rogues attach once the loop runs (the honest replicas have moved the twin three versions on)
        base = (fabric_store.get_json("aggregator", "latest") or {}).get("version", 0)
        wait_until(lambda: (fabric_store.get_json("aggregator", "latest") or {}).get("version", 0) >= base + 3,
                   timeout=60, what="the honest replicas advancing the twin")
        deadline = time.monotonic() + 75
        while time.monotonic() < deadline:
            latest = fabric_store.get_json("aggregator", "latest") or {}
            blob = fabric_store.get("aggregator", f"model:{latest.get('version', -1)}")
            if blob is not None:  # the attackers know the current global twin (the TPI/MPAF threat model)
                twin = decode(blob, GlobalTwin)
                vec, version = twin.model.vector, twin.model.version
                rogue.send(DNT_TWIN_UPDATE, keyless.payload(vec, version))
                signed = sign_update(TwinUpdate(stolen.update(vec, version), twin.layout), keys.key(stolen.client_id))
                rogue.send(DNT_TWIN_UPDATE, encode(signed))
                sent["keyless"] += 1
                sent["stolen"] += 1
            for raw in fabric_store.find("htwin", "forecast:").values():
                f = json.loads(raw)
                snapshots[(f["cell_id"], f["start_ms"])] = f["values"]
            time.sleep(4.0)  # a rogue sends about half as often as an honest replica
        procs[0].stop()
        agg_log = "".join(procs[0].lines)
        (tmp_path / "aggregator.log").write_text(agg_log)
    metrics = {k: int(v) for k, v in re.findall(r"'(fl/[a-z/_0-9]+)': (\d+)", agg_log)}
    assert sent["keyless"] >= 10, sent
    assert metrics.get("fl/rejected/auth", 0) >= sent["keyless"] - 2, (metrics, sent)  # in flight at stop: ≤ 2
    assert f"client {stolen.client_id} quarantined" in agg_log, agg_log[-3000:]
    assert metrics.get("fl/rejected/quarantined", 0) >= 1, metrics
    assert metrics.get("fl/accepted", 0) >= 20
    assert (fabric_store.get_json("aggregator", "latest") or {})["rule"] == "tid"
    actual: dict[int, dict[int, float]] = {}
    for i in range(2):
        for cell, steps in (fabric_store.get_json("htwin", f"history:htwin-{i}") or {}).items():
            actual[int(cell)] = {int(k): float(v) for k, v in steps.items()}
    twin_mae, pers_mae, pairs = forecast_error(snapshots, actual)
    print(f"under attack: twin MAE {twin_mae:.1f} vs persistence {pers_mae:.1f} over {pairs} pairs; {metrics}")
    assert pairs > 1000 and twin_mae < 0.95 * pers_mae, f"twin {twin_mae:.1f} vs persistence {pers_mae:.1f}"
