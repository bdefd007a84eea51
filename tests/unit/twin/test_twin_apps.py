"""The aggregator and htwin xApps' wiring on the in-memory runtime: A1 policy → model → updates → versions."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import numpy as np

from dnt.deploy.derive import load_app
from dnt.e2.mtypes import A1_POLICY_REQ, DNT_TWIN_UPDATE
from dnt.fl.messages import encode
from dnt.ric.memory import MemoryBus
from dnt.twin.lifecycle import TwinSpec
from dnt.twin.registry import TWIN_POLICY_TYPE_ID

REPO = Path(__file__).resolve().parents[3]
SPEC = TwinSpec(horizon=2, hidden=4, closeness=3, period=1, period_steps=24)
STEP = 3_600_000


def _app(name: str) -> ModuleType:
    return load_app(REPO / "xapps" / name / "app.py")


def _policy_req(digest: str) -> bytes:
    body = {"model_version": 1, "model_digest": digest, "aggregation_rule": "mean", "update_cadence_s": 1,
            "buffer_size": 2}
    return json.dumps({"operation": "CREATE", "policy_type_id": str(TWIN_POLICY_TYPE_ID), "policy_instance_id": "p",
                       "payload": json.dumps(body)}).encode()


def test_policy_updates_versions_metrics_and_restart(registry) -> None:
    url, digest = registry
    aggregator, htwin = _app("aggregator"), _app("htwin")
    bus = MemoryBus()
    agg_rt = bus.runtime("aggregator")
    agg, _ = aggregator.wire(agg_rt, aggregator.AggregatorConfig(registry_url=url))
    workers = []
    for i in range(2):
        rt = bus.runtime(f"htwin-{i}")
        cfg = htwin.HtwinConfig(replica=i, replicas=2, registry_url=url, spec=SPEC, step_ms=STEP)
        worker, _, _, pace = htwin.wire(rt, cfg)
        workers.append((rt, worker, pace))
    for name in ("aggregator", "htwin-0", "htwin-1"):
        bus.inject(name, A1_POLICY_REQ, _policy_req(digest), sub_id=TWIN_POLICY_TYPE_ID, source="a1mediator")
    bus.drain()
    assert agg.server is not None and agg.server.version == 1
    for i, (rt, worker, pace) in enumerate(workers):
        assert worker.twin is not None and pace["cadence_s"] == 1.0
        for t in range(30):
            worker.on_record({"cell": 10 + i, "time_ms": t * STEP,
                              "slices": {"embb": {"DNT.OfferedLoadDl": 100 + 50 * np.sin(2 * np.pi * t / 24)}}})
        rt.send(DNT_TWIN_UPDATE, encode(worker.local_update()))
    bus.drain()
    m = agg_rt.metrics()
    assert m["fl/accepted"] == 2 and m["fl/staleness/0"] == 2 and m["fl/versions"] == 2
    assert all(w.twin.model.version == 2 for _, w, _ in workers)  # the broadcast reached both replicas
    again, _ = aggregator.wire(bus.runtime("aggregator"), aggregator.AggregatorConfig(registry_url=url))
    assert again.server is not None and again.server.version == 2  # resumed from SDL


def test_update_before_any_policy_is_dropped_and_counted(registry) -> None:
    aggregator = _app("aggregator")
    bus = MemoryBus()
    rt = bus.runtime("aggregator")
    aggregator.wire(rt, aggregator.AggregatorConfig(registry_url=registry[0]))
    bus.inject("aggregator", DNT_TWIN_UPDATE, b"\x00")
    bus.drain()
    assert rt.metrics()["ric/dropped/policy_error"] == 1
