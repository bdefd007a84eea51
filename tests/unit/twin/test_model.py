"""TwinLSTM shapes, FedDA parameter count, determinism."""

from __future__ import annotations

import pytest
import torch

from dnt.errors import ConfigError
from dnt.twin.model import ModelConfig, TwinLSTM


def test_output_shape_multi_step() -> None:
    model = TwinLSTM(horizon=6, hidden=8, layers=2)
    out = model(torch.zeros(5, 3), torch.zeros(5, 3, 6))
    assert out.shape == (5, 6)


def test_fedda_size_for_one_step() -> None:
    # two LSTMs(1 -> 64, 2 layers): 4*64*(1+64) + 4*64*(64+64) + 4 biases of 4*64 = 50432 each; Linear 65
    model = TwinLSTM(horizon=1)
    assert sum(p.numel() for p in model.parameters()) == 2 * 50432 + 65
    assert model(torch.zeros(2, 3, 1), torch.zeros(2, 3, 1)).shape == (2, 1)


def test_same_seed_same_model() -> None:
    torch.manual_seed(3)
    a = TwinLSTM(horizon=2, hidden=4)
    torch.manual_seed(3)
    b = TwinLSTM(horizon=2, hidden=4)
    x = torch.randn(4, 3), torch.randn(4, 3, 2)
    a.eval()
    b.eval()
    assert torch.equal(a(*x), b(*x))


@pytest.mark.parametrize("kwargs", [{"hidden": 0}, {"layers": 0}, {"dropout": 1.0}])
def test_bad_model_config_raises(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        ModelConfig(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        TwinLSTM(horizon=0)
