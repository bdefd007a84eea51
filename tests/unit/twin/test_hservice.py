"""The H-twin services: policy → verified base model → async updates → new versions → forecasts; restarts."""

from __future__ import annotations

import numpy as np
import pytest

from dnt.errors import DecodeError, ModelIntegrityError, PolicyError
from dnt.fl.local import LocalConfig
from dnt.fl.messages import GlobalTwin, encode, global_twin_from_model
from dnt.ric.sdl import MemoryStore
from dnt.twin.hservice import TwinAggregator, TwinWorker
from dnt.twin.lifecycle import TwinSpec
from dnt.twin.live import CellHistory
from dnt.twin.registry import ModelRegistry

SPEC = TwinSpec(horizon=2, hidden=4, closeness=3, period=1, period_steps=24)
STEP = 3_600_000


def _registry() -> tuple[ModelRegistry, str]:
    reg = ModelRegistry()
    entry = reg.publish(encode(global_twin_from_model(SPEC.model(), 1)), 1)
    return reg, entry.digest


def _policy(digest: str, **kw: object) -> dict:
    return {"model_version": 1, "model_digest": digest, "aggregation_rule": "mean", "update_cadence_s": 1,
            "buffer_size": 2, **kw}


def _fetch(reg: ModelRegistry):
    def fetch(digest: str, _url: str | None) -> bytes:
        data = reg.get(digest)
        if data is None:
            raise ModelIntegrityError(digest)
        return data
    return fetch


def _feed(worker: TwinWorker, cells: tuple[int, ...], steps: int, phase: float = 0.0) -> None:
    for t in range(steps):
        for c in cells:
            v = 100 + 50 * np.sin(2 * np.pi * t / 24 + phase + c)
            worker.on_record({"cell": c, "time_ms": t * STEP, "slices": {"embb": {"DNT.OfferedLoadDl": v}}})


def test_history_buckets_reports_per_step_and_ignores_late_ones() -> None:
    h = CellHistory(SPEC, step_ms=1000)
    assert not h.add(1, 0, 1.0) and not h.add(1, 500, 3.0)
    assert h.add(1, 1000, 10.0)  # closes step 0 with mean 2
    assert not h.add(1, 200, 99.0)  # late report of a closed step
    assert h.add(1, 3000, 0.0)  # closes step 1; step 2 missing
    h.add(1, 4000, 0.0)
    series, nxt = h.series(1)
    assert series.tolist() == [2.0, 10.0, 10.0, 0.0] and nxt == 4


def test_lifecycle_updates_versions_forecasts_and_restarts() -> None:
    reg, digest = _registry()
    store = MemoryStore()
    agg = TwinAggregator(store)
    first = agg.apply_policy(_policy(digest), _fetch(reg))
    assert first is not None and first.model.version == 1
    workers = [TwinWorker(store, f"htwin-{i}", SPEC, local=LocalConfig(max_steps=3)) for i in range(2)]
    for i, w in enumerate(workers):
        w.apply_policy(_policy(digest), _fetch(reg))
        _feed(w, (10 + i, 20 + i), 30)
    updates = [w.local_update() for w in workers]
    results = [agg.submit(encode(u)) for u in updates if u is not None]
    assert [r.reason for r, _ in results] == ["buffered", "applied"]
    new = results[-1][1]
    assert isinstance(new, GlobalTwin) and new.model.version == 2
    assert all(w.on_global(encode(new)) for w in workers)
    assert not workers[0].on_global(encode(new))  # not newer
    fcs = workers[0].forecasts()
    assert {f.cell_id for f in fcs} == {10, 20} and all(len(f.values) == 2 and f.model_version == 2 for f in fcs)
    assert store.get_json("htwin", "forecast:10")["model_version"] == 2
    # one more update buffered, then a restart: same version, same buffer
    agg.submit(encode(workers[0].local_update()))  # type: ignore[arg-type]
    again = TwinAggregator(store)
    twin = again.load()
    assert twin is not None and twin.model.version == 2 and len(again.server.buffer) == 1  # type: ignore[union-attr]
    assert store.get("aggregator", "model:2") is not None
    w2 = TwinWorker(store, "htwin-0", SPEC)
    w2.load()
    assert w2.twin is not None and w2.twin.model.version == 2 and sorted(w2.history.steps) == [10, 20]


def test_same_digest_only_swaps_the_rule_and_bad_inputs_are_refused() -> None:
    reg, digest = _registry()
    agg = TwinAggregator(MemoryStore())
    with pytest.raises(PolicyError):
        agg.submit(b"x")  # no policy yet
    agg.apply_policy(_policy(digest), _fetch(reg))
    assert agg.apply_policy(_policy(digest, aggregation_rule="median"), _fetch(reg)) is None
    assert agg.rule == "median"
    with pytest.raises(DecodeError):
        agg.submit(b"\x01garbage")
    with pytest.raises(PolicyError):
        agg.apply_policy(_policy("z" * 64), _fetch(reg))


def test_worker_refuses_bytes_that_do_not_match_the_policy_digest() -> None:
    reg, digest = _registry()
    w = TwinWorker(MemoryStore(), "htwin-0", SPEC)
    with pytest.raises(ModelIntegrityError):
        w.apply_policy(_policy(digest), lambda _d, _u: b"other bytes")
    assert w.twin is None
