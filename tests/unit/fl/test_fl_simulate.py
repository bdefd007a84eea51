"""The virtual-clock harness: determinism, staleness from slow clients, the ledger."""

import numpy as np
from fl_helpers import upd

from dnt.fl.asyn import AsyncConfig, FedBuff
from dnt.fl.cost import CostLedger
from dnt.fl.rules import Mean
from dnt.fl.simulate import AsyncSimulation, SimClient, SimConfig, SimResult, WorkResult
from dnt.fl.types import GlobalModel


def _work(client: SimClient, now_s: float, served: GlobalModel, seed: int) -> WorkResult | None:
    rng = np.random.default_rng(seed)
    if client.client_id == "idle" or now_s < 0:
        return None
    return WorkResult(upd(client.client_id, rng.normal(size=3).tolist(), n=10, base=served.version), 10, 0.001)


def _clients() -> list[SimClient]:
    fast = [SimClient(f"f{i}", period_s=100.0, phase_s=i * 10.0) for i in range(4)]
    slow = [SimClient("slow", period_s=100.0, slowness=50.0), SimClient("idle", period_s=100.0)]
    return fast + slow


def _run(ledger: CostLedger | None = None) -> tuple[FedBuff, SimResult]:
    srv = FedBuff(np.zeros(3, np.float32), Mean(), AsyncConfig(buffer_size=2, max_staleness=4))
    sim = AsyncSimulation(_clients(), srv, _work, SimConfig(end_s=1000.0, s_per_sample=1.0, seed=1), ledger=ledger)
    return srv, sim.run()


def test_same_inputs_same_run():
    (a, ra), (b, rb) = _run(), _run()
    assert np.array_equal(a.model.vector, b.model.vector) and a.version == b.version
    assert ra.events == rb.events


def test_slow_client_arrives_stale_and_may_be_dropped():
    srv, res = _run()
    slow = [e for e in res.events if e.client_id == "slow"]
    fast = [e for e in res.events if e.client_id != "slow"]
    assert slow and min(e.staleness for e in slow) > max(e.staleness for e in fast)
    assert srv.stats.dropped_stale == sum(e.reason == "stale" for e in slow) > 0
    assert res.skipped > 0  # the idle client never has data
    assert all(e.t_s >= 0 for e in res.events)


def test_clients_never_overlap_and_events_are_time_ordered():
    _, res = _run()
    times = [e.t_s for e in res.events]
    assert times == sorted(times)
    f0 = [e.t_s for e in res.events if e.client_id == "f0"]
    assert np.all(np.diff(f0) >= 100.0 - 1e-9)


def test_ledger_counts_one_model_down_and_one_update_up_per_update():
    ledger = CostLedger("htwin")
    _, res = _run(ledger)
    t = ledger.totals("maintenance")
    n = len(res.events)
    assert t.bytes_up == n * 12 and t.messages == 2 * n and t.samples == 10 * n
