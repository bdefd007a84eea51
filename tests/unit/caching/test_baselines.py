"""LRU / LFU eviction order by hand; the Belady oracle beats both on a fixed trace."""

from __future__ import annotations

import dataclasses

import numpy as np

from dnt.caching.agents import episode_metrics
from dnt.caching.baselines import LFU, LRU, Belady, run_policy
from dnt.caching.env import CacheConfig, CacheEnv


def _one_client_env() -> CacheEnv:
    return CacheEnv(CacheConfig(n_bs=1, slots=2, clients_per_bs=1, shared_per_bs=0, n_contents=5, intensity=(1.0,)))


def _feed(policy, env: CacheEnv, contents: list[int]) -> None:
    policy.observe(env, {"requests_log": (np.zeros(len(contents), dtype=np.int64), np.asarray(contents))})


def test_lru_eviction_order() -> None:
    # Prepare
    env = _one_client_env()
    lru = LRU()
    lru.reset(env)
    # Execute / Assert: 1, 2, 3 → 1 (least recent) is out
    _feed(lru, env, [1, 2, 3])
    assert np.flatnonzero(lru.decide(env)[0][0]).tolist() == [2, 3]
    # 2 again, then 4 → 3 is now the least recent
    _feed(lru, env, [2, 4])
    assert np.flatnonzero(lru.decide(env)[0][0]).tolist() == [2, 4]


def test_lfu_eviction_order() -> None:
    # Prepare
    env = _one_client_env()
    lfu = LFU()
    lfu.reset(env)
    # Execute / Assert: counts 1:2, 2:1, 3:1 → keep 1 and, of the tied 2 and 3, the more recent 3
    _feed(lfu, env, [1, 1, 2, 3])
    assert np.flatnonzero(lfu.decide(env)[0][0]).tolist() == [1, 3]
    # 2 twice more → counts 1:2, 2:3, 3:1 → 3 is evicted
    _feed(lfu, env, [2, 2])
    assert np.flatnonzero(lfu.decide(env)[0][0]).tolist() == [1, 2]


def test_belady_beats_lru_and_lfu_on_a_fixed_trace() -> None:
    # Prepare: the default network at a high load cap (hits not limited by load), 60 steps, one seed
    cfg = dataclasses.replace(CacheConfig(), load_cap=1000.0, episode_steps=60)
    # Execute
    rates = {p.name: episode_metrics(run_policy(CacheEnv(cfg), p(), seed=11))["hit_rate"] for p in (LRU, LFU, Belady)}
    # Assert
    assert rates["belady"] >= rates["lfu"] and rates["belady"] >= rates["lru"]
    assert 0.0 < rates["lru"] < 1.0
