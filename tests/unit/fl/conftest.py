"""Fixtures of the federated-learning tests: tiny sine windows, a tiny LSTM trainer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fl_helpers import TINY_WINDOWS, sine_traffic, tiny_model

from dnt.data.windows import Windows, build_windows
from dnt.fl.local import LocalConfig, LocalTrainer
from dnt.fl.types import flatten


@pytest.fixture(scope="session")
def windows() -> Windows:
    return build_windows(sine_traffic(), "internet", TINY_WINDOWS)


@pytest.fixture
def trainer() -> LocalTrainer:
    torch.set_num_threads(1)
    return LocalTrainer(tiny_model(), LocalConfig(epochs=1, batch_size=32, lr=1e-2))


@pytest.fixture
def init_vec() -> np.ndarray:
    return flatten(tiny_model())
