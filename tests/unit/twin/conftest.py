"""Tiny synthetic series and a tiny trained forecaster shared by the twin unit tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from dnt.data.frame import HOUR_MS, Traffic
from dnt.data.windows import WindowConfig, Windows, build_windows
from dnt.fl.messages import encode, global_twin_from_model
from dnt.twin.lifecycle import TwinSpec
from dnt.twin.model import ModelConfig
from dnt.twin.registry import ModelRegistry, RegistryServer
from dnt.twin.train import Forecaster, TrainConfig

# 16 days hourly, a daily sine plus small noise; P = 24, c = 3, p = 1, h = 2; test and val 2 days each.
SINE_CFG = WindowConfig(closeness=3, period=1, horizon=2, test_days=2, val_days=2)
TINY_MODEL = ModelConfig(hidden=8, layers=1, dropout=0.0)
APP_SPEC = TwinSpec(horizon=2, hidden=4, closeness=3, period=1, period_steps=24)
"""The twin of the app-level tests (test_twin_apps, test_aggregator_security)."""


def sine_traffic(days: int = 16, cells: int = 2, seed: int = 0) -> Traffic:
    rng = np.random.default_rng(seed)
    t = np.arange(days * 24)
    rows = [50 + 20 * (c + 1) * np.sin(2 * np.pi * t / 24 + c) + rng.normal(0, 1, t.size) for c in range(cells)]
    v = np.stack(rows)[:, :, None].astype(np.float32)
    return Traffic(np.arange(1, cells + 1) * 11, 0, HOUR_MS, v, ("internet",))


@pytest.fixture(scope="session")
def sine_windows() -> Windows:
    return build_windows(sine_traffic(), "internet", SINE_CFG)


@pytest.fixture(scope="session")
def tiny_forecaster(sine_windows: Windows) -> Forecaster:
    f = Forecaster(SINE_CFG, TINY_MODEL, TrainConfig(epochs=3, batch_size=32, lr=1e-2, patience=3, threads=1))
    f.fit(sine_windows)
    return f


@pytest.fixture(scope="session")
def tiny_model() -> ModelConfig:
    return TINY_MODEL


@pytest.fixture(scope="session")
def make_sine_traffic() -> Callable[..., Traffic]:
    """The :func:`sine_traffic` factory (test modules cannot import this conftest by name)."""
    return sine_traffic


@pytest.fixture
def registry():
    """A model registry over HTTP serving one tiny twin: (base URL, its digest)."""
    reg = ModelRegistry()
    digest = reg.publish(encode(global_twin_from_model(APP_SPEC.model(), 1)), 1).digest
    srv = RegistryServer(reg).start()
    yield srv.url, digest
    srv.stop()
