"""CacheEnv: Gymnasium contract, hit accounting by hand, coverage, routing, load cap, drift, seeding."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from dnt.caching.demand import DemandConfig, ZipfDemand, shift_popularity
from dnt.caching.env import ACTION_DIM, CacheConfig, CacheEnv
from dnt.caching.topology import ring_topology
from dnt.errors import ConfigError


def test_check_env(small_cfg: CacheConfig) -> None:
    # Execute / Assert: the Gymnasium checker passes, with and without the load features
    check_env(CacheEnv(small_cfg), skip_render_check=True)
    check_env(CacheEnv(dataclasses.replace(small_cfg, load_features=True)), skip_render_check=True)


def test_coverage_at_most_two_bs_and_home_first() -> None:
    # Execute
    topo = ring_topology(5, 8, 4)
    # Assert
    assert topo.client_cover.shape == (40, 2)
    assert np.array_equal(topo.client_cover[:, 0], topo.client_home)
    second = topo.client_cover[:, 1]
    assert np.all((second == -1) | (second != topo.client_cover[:, 0]))  # two distinct BSs at most
    assert (second >= 0).sum() == 20  # 4 shared clients per BS
    assert topo.neighbours(0) == [1, 4]


def test_hit_accounting_by_hand(tiny_cfg: CacheConfig) -> None:
    # Prepare: clients 0,1 homed at BS0 (client 0 also covered by BS1); clients 2,3 at BS1 (2 also by BS0)
    env = CacheEnv(tiny_cfg)
    env.reset(seed=0)
    env.cached = np.array([[1, 1, 0, 0, 0], [0, 0, 1, 0, 0]], dtype=bool)
    clients = np.array([1, 3, 0, 2, 3, 1])
    contents = np.array([0, 0, 2, 1, 2, 4])
    # Execute
    hits, load, demand, local = env.serve(clients, contents)
    # Assert: (1,0) hit@BS0; (3,0) miss — only BS1 covers client 3 and it lacks 0, BS0's copy is not
    # readable; (0,2) hit@BS1; (2,1) hit@BS0; (3,2) hit@BS1; (1,4) miss
    assert hits == 4
    assert load.tolist() == [2.0, 2.0] and demand.tolist() == [2.0, 2.0]
    # BS0 covers clients 0,1,2 → requests 0,2,3,5 → hits at 0,2,3 → 3/4; BS1 covers 0,2,3 → 1,2,3,4 → 3/4
    assert local.tolist() == [0.75, 0.75]


def test_no_bs_reads_another_cache(tiny_cfg: CacheConfig) -> None:
    # Prepare: BS0 caches everything it can, BS1 nothing; client 3 is covered by BS1 only
    env = CacheEnv(tiny_cfg)
    env.reset(seed=0)
    env.cached = np.array([[1, 1, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=bool)
    # Execute
    hits, load, _, _ = env.serve(np.array([3, 3, 3]), np.array([0, 1, 0]))
    # Assert
    assert hits == 0 and load.tolist() == [0.0, 0.0]


def test_routing_to_less_loaded_bs(tiny_cfg: CacheConfig) -> None:
    # Prepare: both BSs cache content 3
    env = CacheEnv(tiny_cfg)
    env.reset(seed=0)
    env.cached = np.zeros((2, 5), dtype=bool)
    env.cached[:, 3] = True
    # Execute: client 1 (BS0 only) once, then shared client 0 three times
    hits, load, _, _ = env.serve(np.array([1, 0, 0, 0]), np.array([3, 3, 3, 3]))
    # Assert: single first → BS0 = 1; shared: BS1 (0 < 1), tie → home BS0, then BS1
    assert hits == 4 and load.tolist() == [2.0, 2.0]


def test_load_cap_and_overload(tiny_cfg: CacheConfig) -> None:
    # Prepare: cap 2, no throughput collapse
    env = CacheEnv(dataclasses.replace(tiny_cfg, load_cap=2.0, overload_collapse=0.0))
    env.reset(seed=0)
    env.cached = np.array([[1, 0, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=bool)
    # Execute: 3 hits demanded at BS0
    hits, load, demand, _ = env.serve(np.array([1, 1, 1]), np.array([0, 0, 0]))
    # Assert
    assert demand.tolist() == [3.0, 0.0] and load.tolist() == [2.0, 0.0] and hits == 2
    # and with collapse κ = 0.5 an overloaded BS serves less than its cap
    env2 = CacheEnv(dataclasses.replace(tiny_cfg, load_cap=2.0, overload_collapse=0.5))
    env2.reset(seed=0)
    env2.cached = env.cached
    hits2, _, _, _ = env2.serve(np.array([1] * 4), np.array([0] * 4))
    assert hits2 == 1  # floor(2 · max(½, 1 − ½·(4 − 2)/2)) = 1


def test_replacement_budget(tiny_cfg: CacheConfig) -> None:
    # Prepare: BS0 caches {0, 1}; the proposal swaps both for {2, 3}; budget 1
    env = CacheEnv(dataclasses.replace(tiny_cfg, max_replacements=1))
    env.reset(seed=0)
    env.cached = np.array([[1, 1, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=bool)
    prop = np.array([[0, 0, 1, 1, 0], [0, 0, 0, 0, 0]], dtype=bool)
    prio = np.array([[0.0, 0.5, 1.0, 2.0, 0.0], [0.0] * 5])
    # Execute
    out = env.limit_replacements(prop, prio)
    # Assert: only content 3 (highest priority) is fetched; content 1 (higher than 0) stays
    assert np.flatnonzero(out[0]).tolist() == [1, 3]


def test_action_decodes_to_full_caches(small_cfg: CacheConfig) -> None:
    # Prepare
    env = CacheEnv(small_cfg)
    env.reset(seed=1)
    # Execute
    full, _ = env.decode(np.zeros((5, ACTION_DIM)))
    shrunk, _ = env.decode(np.full((5, ACTION_DIM), -1.0))
    # Assert: fill = 1 at a = 0, 0.7 at a = −1
    assert full.sum(axis=1).tolist() == [20] * 5
    assert shrunk.sum(axis=1).tolist() == [14] * 5


def test_drift_changes_popularity() -> None:
    # Prepare
    topo = ring_topology(5, 8, 4)
    rate = np.full(40, 4.0)
    drifting = ZipfDemand(DemandConfig(p_flash=0.0), 300, topo.client_home, rate)
    frozen = ZipfDemand(DemandConfig(drift_swaps=0, p_shift=0.0, p_flash=0.0), 300, topo.client_home, rate)
    out = []
    for d in (drifting, frozen):
        rng = np.random.default_rng(0)
        d.reset(rng)
        p0 = d.popularity()
        for _ in range(50):
            d.step(rng)
        out.append(np.abs(d.popularity() - p0).sum())
    # Assert
    assert out[0] > 0.1 and out[1] == 0.0


def test_popularity_shift_moves_tail_to_head() -> None:
    # Prepare
    order = np.arange(100)
    # Execute
    promoted = shift_popularity(order, np.random.default_rng(0), 5, 50)
    # Assert
    assert np.all(promoted >= 50) and set(order[:5].tolist()) == set(promoted.tolist())
    assert sorted(order.tolist()) == list(range(100))


def test_seeding_is_deterministic(small_cfg: CacheConfig) -> None:
    # Prepare
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, (10, 5, ACTION_DIM)).astype(np.float32)

    def roll(seed: int) -> tuple[np.ndarray, list[float]]:
        env = CacheEnv(small_cfg)
        obs, _ = env.reset(seed=seed)
        rewards = []
        for a in actions:
            obs, r, _, _, _ = env.step(a)
            rewards.append(r)
        return obs, rewards

    # Execute
    a1, a2, b = roll(3), roll(3), roll(4)
    # Assert
    assert np.array_equal(a1[0], a2[0]) and a1[1] == a2[1]
    assert a1[1] != b[1]


def test_bad_config_raises() -> None:
    with pytest.raises(ConfigError):
        CacheConfig(slots=10, n_contents=5)
    with pytest.raises(ConfigError):
        CacheEnv(CacheConfig(), shield_mode="sometimes")
