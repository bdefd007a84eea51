"""The V-twin's KPI history snapshot and how an H-twin worker seeds its windows from it."""

from __future__ import annotations

import numpy as np
import pytest

from dnt.data.frame import Traffic
from dnt.errors import DataError, DecodeError
from dnt.fl.messages import encode, global_twin_from_model
from dnt.ric.sdl import MemoryStore
from dnt.twin.archive import KpiHistory
from dnt.twin.hservice import TwinWorker
from dnt.twin.lifecycle import TwinSpec
from dnt.twin.live import CellHistory
from dnt.twin.registry import ModelRegistry

SPEC = TwinSpec(horizon=2, hidden=4, closeness=3, period=1, period_steps=24)
STEP = 3_600_000


def _traffic(steps: int = 48, start_step: int = 1000) -> Traffic:
    t = np.arange(steps, dtype=np.float32)
    vals = np.stack([np.stack([t + 100 * c, t], axis=-1) for c in (1, 2)]).astype(np.float32)
    vals[1, 5, 0] = np.nan
    return Traffic(np.array([11, 12]), start_step * STEP, STEP, vals, ("internet", "sms_in"))


def test_snapshot_takes_the_tail_before_end_scaled_with_absolute_steps_and_round_trips() -> None:
    h = KpiHistory.from_traffic(_traffic(), "internet", end=40, n_steps=30, scale=2.0)
    assert h.end_step == 1040 and h.step_ms == STEP and sorted(h.cells) == [11, 12]
    first, vals = h.series(11)
    assert first == 1010 and vals.tolist() == [2.0 * (100 + k) for k in range(10, 40)]
    back = KpiHistory.from_bytes(h.to_bytes())
    assert back.end_step == h.end_step and back.kpi == h.kpi and back.series(13) is None
    np.testing.assert_array_equal(back.cells[11], h.cells[11])
    assert h.to_bytes() == back.to_bytes()  # canonical: same bytes, same registry digest
    full = KpiHistory.from_traffic(_traffic(), "internet", n_steps=48)
    assert np.isnan(full.cells[12][5]) and np.isnan(KpiHistory.from_bytes(full.to_bytes()).cells[12][5])


@pytest.mark.parametrize("kw", [{"end": 0}, {"end": 49}, {"scale": 0.0}, {"scale": float("nan")}])
def test_snapshot_refuses_bad_arguments(kw: dict) -> None:
    with pytest.raises(DataError):
        KpiHistory.from_traffic(_traffic(), "internet", **kw)


@pytest.mark.parametrize("blob", [b"not json", b'{"kind": "other"}', b'{"kind": "dnt-kpi-history"}',
                                  b'{"kind": "dnt-kpi-history", "kpi": "k", "unit": "u", "step_ms": 1, '
                                  b'"end_step": 2, "cells": {"x": [1]}}'])
def test_a_corrupt_snapshot_is_a_decode_error(blob: bytes) -> None:
    with pytest.raises(DecodeError):
        KpiHistory.from_bytes(blob)


def test_seed_fills_only_before_the_first_live_step_and_never_overwrites() -> None:
    h = CellHistory(SPEC, step_ms=1, max_steps=20)
    h.add(7, 100, 5.0)
    h.add(7, 101, 6.0)  # closes step 100
    assert h.seed(7, 70, np.arange(40, dtype=np.float32)) == 19  # steps 81..99 (max_steps 20 with step 100)
    series, nxt = h.series(7)
    assert nxt == 101 and series[-1] == 5.0 and series[0] == 11.0 and len(series) == 20
    assert h.seed(8, 0, np.array([1.0, np.nan, 3.0], np.float32), before=3) == 2  # NaN skipped
    assert h.series(8)[0].tolist() == [1.0, 1.0, 3.0]  # the gap is filled forward
    assert h.seed(9, 0, np.ones(3, np.float32), before=0) == 0 and not h.has(9)


def _worker_with_archive(history: KpiHistory) -> tuple[TwinWorker, dict]:
    reg = ModelRegistry()
    model = reg.publish(encode(global_twin_from_model(SPEC.model(), 1)), 1).digest
    hist = reg.publish(history.to_bytes(), 1).digest
    policy = {"model_version": 1, "model_digest": model, "aggregation_rule": "mean", "update_cadence_s": 1,
              "history_digest": hist}
    worker = TwinWorker(MemoryStore(), "w", SPEC, step_ms=STEP)
    return worker, {"policy": policy, "fetch": lambda d, _u: reg.get(d)}


def _record(cell: int, step: int, value: float) -> dict:
    return {"cell": cell, "time_ms": step * STEP, "slices": {"embb": {"DNT.OfferedLoadDl": value}}}


def test_worker_seeds_cells_seen_before_and_after_the_policy_and_forecasts_at_once() -> None:
    history = KpiHistory.from_traffic(_traffic(), "internet", end=40, n_steps=40)  # steps 1000..1039
    worker, p = _worker_with_archive(history)
    worker.on_record(_record(11, 1040, 140.0))  # seen before the policy arrives
    assert worker.forecasts() == [] and worker.seeded_cells == 0
    worker.apply_policy(p["policy"], p["fetch"])
    worker.on_record(_record(12, 1040, 40.0))  # first seen after
    worker.on_record(_record(13, 1040, 1.0))  # not in the snapshot: starts cold
    for c in (11, 12, 13):
        worker.on_record(_record(c, 1041, 1.0))
    assert worker.seeded_cells == 2
    assert {f.cell_id for f in worker.forecasts()} == {11, 12}  # 13 has one step only: too young
    series, nxt = worker.history.series(11)
    assert nxt == 1041 and series[-1] == 140.0 and series[-2] == 139.0 and len(series) == 41
    # the same policy again does not refetch or reseed
    worker.apply_policy(p["policy"], lambda d, u: pytest.fail("refetched"))
    assert worker.seeded_cells == 2


def test_worker_ignores_an_unusable_snapshot_and_keeps_working(caplog: pytest.LogCaptureFixture) -> None:
    history = KpiHistory.from_traffic(_traffic(), "internet", end=40)
    bad_step = KpiHistory(history.kpi, history.unit, 600_000, history.end_step, history.cells)
    for archive in (bad_step,):
        worker, p = _worker_with_archive(archive)
        worker.apply_policy(p["policy"], p["fetch"])
        assert worker.twin is not None and worker.archive is None
    worker, p = _worker_with_archive(history)
    fetch = p["fetch"]
    worker.apply_policy(p["policy"], lambda d, u: b"garbage" if d == p["policy"]["history_digest"] else fetch(d, u))
    assert worker.twin is not None and worker.archive is None
    assert "new cells start without history" in caplog.text and "not used" in caplog.text
