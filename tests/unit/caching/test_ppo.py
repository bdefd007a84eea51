"""Caching PPO: GAE by hand; a tiny training run gives a valid, reproducible policy."""

from __future__ import annotations

import numpy as np

from dnt.caching.agents import NAIVE_RULE, SYSTEMS, FixedRule, evaluate_policy, train_system
from dnt.caching.env import CacheConfig
from dnt.caching.ppo import PPOConfig, gae


def test_gae_by_hand() -> None:
    # Execute: γ = 0.5, λ = 1 → returns are discounted sums bootstrapped with next_value
    adv, ret = gae(np.array([1.0, 1.0]), np.array([0.0, 0.0]), next_value=2.0, gamma=0.5, lam=1.0)
    # Assert: R1 = 1 + 0.5·2 = 2; R0 = 1 + 0.5·2 = 2
    assert np.allclose(ret, [2.0, 2.0]) and np.allclose(adv, [2.0, 2.0])


def test_tiny_training_is_valid_and_seeded(small_cfg: CacheConfig) -> None:
    # Prepare
    ppo = PPOConfig(iterations=2, num_steps=10, seed=3)
    spec = SYSTEMS["reliable_rl"]
    # Execute
    pol1, h1 = train_system(spec, small_cfg, ppo)
    _, h2 = train_system(spec, small_cfg, ppo)
    m = evaluate_policy(pol1, small_cfg, spec.reliable, [1])
    # Assert
    assert np.array_equal(h1["hit_rate"], h2["hit_rate"]) and np.array_equal(h1["lambda"], h2["lambda"])
    assert 0.0 <= m["hit_rate"] <= 1.0 and m["load_per_bs"].shape == (5,)
    obs = np.zeros(5 * 9, dtype=np.float32)
    a = pol1.predict(obs)
    assert a.shape == (5, 5) and np.all(np.abs(a) <= 1.0)


def test_training_beats_the_initial_policy(small_cfg: CacheConfig) -> None:
    # Prepare: start from the naive one-step-recency rule, as the bench does
    ppo = PPOConfig(iterations=12, num_steps=30, seed=0, init_action=NAIVE_RULE)
    spec = SYSTEMS["rl"]
    seeds = [901, 902, 903]
    # Execute
    policy, hist = train_system(spec, small_cfg, ppo)
    trained = evaluate_policy(policy, small_cfg, spec.reliable, seeds)["hit_rate"]
    initial = evaluate_policy(hist["initial_policy"], small_cfg, spec.reliable, seeds)["hit_rate"]
    naive = evaluate_policy(FixedRule(small_cfg.n_bs, NAIVE_RULE), small_cfg, spec.reliable, seeds)["hit_rate"]
    # Assert: the untrained network plays the naive rule; training improves on it by a clear margin
    assert abs(initial - naive) < 0.02
    assert trained > initial + 0.05, (initial, trained)
