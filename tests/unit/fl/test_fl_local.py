"""Local training: the update's shape, determinism, learning, and clear errors."""

import numpy as np
import pytest
from fl_helpers import cell_split, tiny_model

from dnt.data.windows import Windows
from dnt.errors import ConfigError, DataError
from dnt.fl.local import LocalConfig, LocalTrainer
from dnt.fl.types import flatten, unflatten
from dnt.twin.train import predict


def test_update_has_model_shape_and_metadata(trainer: LocalTrainer, init_vec: np.ndarray, windows: Windows):
    data = cell_split(windows.train, 0)
    res = trainer.train(init_vec, data, client_id="7", base_version=4, cluster=1, seed=0)
    assert res.update.delta.shape == init_vec.shape and res.update.delta.dtype == np.float32
    assert (res.update.client_id, res.update.base_version, res.update.cluster) == ("7", 4, 1)
    assert res.update.num_samples == len(data) and res.samples == len(data)
    assert res.steps == -(-len(data) // 32) and res.compute_s >= 0
    assert np.abs(res.update.delta).max() > 0


def test_same_seed_same_update_and_start_is_not_modified(trainer: LocalTrainer, init_vec: np.ndarray,
                                                          windows: Windows):
    before = init_vec.copy()
    a = trainer.train(init_vec, windows.train, client_id="a", base_version=0, seed=5)
    b = trainer.train(init_vec, windows.train, client_id="a", base_version=0, seed=5)
    c = trainer.train(init_vec, windows.train, client_id="a", base_version=0, seed=6)
    assert np.array_equal(a.update.delta, b.update.delta)
    assert not np.array_equal(a.update.delta, c.update.delta)
    assert np.array_equal(init_vec, before)


def test_local_training_lowers_the_client_loss(init_vec: np.ndarray, windows: Windows):
    trainer = LocalTrainer(tiny_model(), LocalConfig(epochs=5, batch_size=32, lr=1e-2))
    data = cell_split(windows.train, 1)
    res = trainer.train(init_vec, data, client_id="b", base_version=0)
    model = tiny_model()
    before = np.mean((predict(unflatten(init_vec, model), data) - data.y) ** 2)
    after = np.mean((predict(unflatten(init_vec + res.update.delta, model), data) - data.y) ** 2)
    assert after < 0.8 * before


def test_sgd_and_max_steps(init_vec: np.ndarray, windows: Windows):
    trainer = LocalTrainer(tiny_model(), LocalConfig(epochs=3, batch_size=8, lr=1e-2, optimizer="sgd", max_steps=2))
    res = trainer.train(init_vec, windows.train, client_id="s", base_version=0)
    assert res.steps == 2 and res.samples == 16
    assert flatten(trainer.model).shape == init_vec.shape


def test_errors(trainer: LocalTrainer, init_vec: np.ndarray, windows: Windows):
    with pytest.raises(DataError, match="no training windows"):
        trainer.train(init_vec, windows.train.subset(np.zeros(len(windows.train), bool)), client_id="e",
                      base_version=0)
    with pytest.raises(ConfigError, match="optimizer"):
        LocalConfig(optimizer="lbfgs")
    with pytest.raises(ConfigError, match="epochs"):
        LocalConfig(epochs=0)
