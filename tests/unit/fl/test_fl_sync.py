"""Synchronous rounds over clustered clients: learning, two-level aggregation, determinism, costs."""

from collections.abc import Mapping

import numpy as np
import pytest
import torch
from fl_helpers import cell_split

from dnt.data.windows import Windows
from dnt.errors import ConfigError
from dnt.fl.cost import CostLedger
from dnt.fl.local import LocalTrainer
from dnt.fl.messages import WireSizes
from dnt.fl.rules import Mean
from dnt.fl.sync import SyncClient, SyncConfig, SyncRounds, clients_from_split
from dnt.fl.types import layout, unflatten
from dnt.twin.train import predict


def _clients(windows: Windows, clustered: bool = True) -> list[SyncClient]:
    return [SyncClient(str(int(cid)), (r % 2) if clustered else 0, cell_split(windows.train, r))
            for r, cid in enumerate(windows.cell_ids)]


def _val_mse(vec: np.ndarray, windows: Windows, model: torch.nn.Module) -> float:
    return float(np.mean((predict(unflatten(vec, model), windows.val) - windows.val.y) ** 2))


def test_rounds_reduce_validation_loss(trainer: LocalTrainer, init_vec: np.ndarray, windows: Windows):
    # Prepare
    scores: list[float] = []

    def evaluate(r: int, twins: Mapping[int, np.ndarray], glob: np.ndarray) -> float:
        scores.append(_val_mse(glob, windows, trainer.model))
        return scores[-1]

    rounds = SyncRounds(_clients(windows, clustered=False), init_vec, trainer, Mean(),
                        SyncConfig(rounds=4, fraction=1.0), evaluate=evaluate)
    before = _val_mse(init_vec, windows, trainer.model)
    # Execute
    res = rounds.run()
    # Assert
    assert len(res.history) == 4 and res.best_round >= 1
    assert min(scores) < 0.7 * before
    assert _val_mse(res.global_twin.vector, windows, trainer.model) == pytest.approx(min(scores), rel=1e-5)
    assert res.global_twin.version == res.best_round


def test_two_levels_cluster_twins_and_weighted_global(trainer: LocalTrainer, init_vec: np.ndarray,
                                                      windows: Windows):
    rounds = SyncRounds(_clients(windows), init_vec, trainer, Mean(), SyncConfig(rounds=1, fraction=1.0))
    rounds.step()
    twins, glob = rounds.snapshot()
    assert set(twins) == {0, 1}
    assert not np.array_equal(twins[0].vector, twins[1].vector)
    w = rounds.cluster_weight
    assert np.allclose(glob.vector, w[0] * twins[0].vector + w[1] * twins[1].vector, atol=1e-6)


def test_global_mix_one_makes_every_cluster_twin_the_global(trainer: LocalTrainer, init_vec: np.ndarray,
                                                            windows: Windows):
    rounds = SyncRounds(_clients(windows), init_vec, trainer, Mean(), SyncConfig(rounds=1, global_mix=1.0))
    rounds.step()
    twins, glob = rounds.snapshot()
    assert all(np.allclose(t.vector, glob.vector) for t in twins.values())


def test_fraction_samples_per_cluster_and_is_deterministic(trainer: LocalTrainer, init_vec: np.ndarray,
                                                           windows: Windows):
    cfg = SyncConfig(rounds=2, fraction=0.5, seed=3)
    a = SyncRounds(_clients(windows), init_vec, trainer, Mean(), cfg).run()
    b = SyncRounds(_clients(windows), init_vec, trainer, Mean(), cfg).run()
    assert [h.participants for h in a.history] == [2, 2]  # 1 of 2 clients in each of 2 clusters
    assert np.array_equal(a.global_twin.vector, b.global_twin.vector)


def test_costs_go_to_the_ledger(trainer: LocalTrainer, init_vec: np.ndarray, windows: Windows):
    ledger = CostLedger("vtwin")
    wire = WireSizes.of(layout(trainer.model))
    SyncRounds(_clients(windows), init_vec, trainer, Mean(), SyncConfig(rounds=2, fraction=1.0),
               ledger=ledger, wire=wire).run()
    t = ledger.totals("creation")
    assert t.bytes_up == 8 * wire.update_bytes and t.bytes_down == 8 * wire.model_bytes
    assert t.messages == 16 and t.samples == 2 * len(windows.train) and t.client_s > 0


def test_patience_stops_early(trainer: LocalTrainer, init_vec: np.ndarray, windows: Windows):
    res = SyncRounds(_clients(windows), init_vec, trainer, Mean(), SyncConfig(rounds=10, patience=2),
                     evaluate=lambda r, t, g: 1.0).run()
    assert res.stop_reason == "patience" and len(res.history) == 3 and res.best_round == 1


def test_config_errors(trainer: LocalTrainer, init_vec: np.ndarray):
    with pytest.raises(ConfigError, match="fraction"):
        SyncConfig(fraction=0.0)
    with pytest.raises(ConfigError, match="at least one client"):
        SyncRounds([], init_vec, trainer, Mean())


def test_clients_from_split(windows: Windows):
    labels = np.array([0, 1, 0, 1])
    clients = clients_from_split(windows.train, windows.cell_ids, labels)
    assert [c.client_id for c in clients] == [str(int(c)) for c in windows.cell_ids]
    assert [c.cluster for c in clients] == [0, 1, 0, 1]
    assert sum(len(c.train) for c in clients) == len(windows.train)
    assert all(c.cluster == 0 for c in clients_from_split(windows.train, windows.cell_ids))
