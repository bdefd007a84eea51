"""Small caching configurations shared by the tests."""

from __future__ import annotations

import pytest

from dnt.caching.demand import DemandConfig
from dnt.caching.env import CacheConfig


@pytest.fixture
def tiny_cfg() -> CacheConfig:
    """2 BSs × 2 slots, 2 clients each (client 0 of each BS also covered by the other BS), 5 contents."""
    return CacheConfig(n_bs=2, slots=2, clients_per_bs=2, shared_per_bs=1, n_contents=5, intensity=(1.0,),
                       load_cap=100.0, warmup_steps=0, lookahead_steps=1, max_replacements=5, episode_steps=5)


@pytest.fixture
def small_cfg() -> CacheConfig:
    """A scaled-down network (fast): 5 BSs × 20 slots, 300 contents."""
    return CacheConfig(slots=20, n_contents=300, episode_steps=30, warmup_steps=5, max_replacements=5,
                       load_cap=12.0, demand=DemandConfig(shift_from=50, shift_size=10, drift_span=20))
