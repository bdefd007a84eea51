"""Small, fast environments shared by the rl tests."""

from __future__ import annotations

import pytest

from dnt.rl.env import EnvConfig, SliceEnv


@pytest.fixture(scope="module")
def small_cfg() -> EnvConfig:
    """4 cells, 3 days (1 held out), 48-step episodes."""
    return EnvConfig(n_cells=4, days=3, test_days=1, episode_steps=48)


@pytest.fixture
def small_env(small_cfg: EnvConfig) -> SliceEnv:
    return SliceEnv(small_cfg)
