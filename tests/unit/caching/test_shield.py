"""LoadShield: never lets a predicted BS load exceed the cap; counts interventions only on changes."""

from __future__ import annotations

import dataclasses

import numpy as np

from dnt.caching.env import ACTION_DIM, CacheConfig, CacheEnv
from dnt.caching.shield import LoadShield, step_cost


def _warm_env(cfg: CacheConfig, shield: LoadShield | None = None, seed: int = 0) -> CacheEnv:
    env = CacheEnv(cfg, shield=shield)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(5):
        env.step(rng.uniform(-1, 1, (cfg.n_bs, ACTION_DIM)))
    return env


def test_shield_keeps_every_bs_under_its_cap(small_cfg: CacheConfig) -> None:
    # Prepare: a low cap, so the shield has work to do
    cfg = dataclasses.replace(small_cfg, load_cap=5.0)
    shield = LoadShield(margin=0.1)
    rng = np.random.default_rng(1)
    changed = 0
    for seed in range(4):
        env = _warm_env(cfg, seed=seed)
        prop, _ = env.decode(rng.uniform(-1, 1, (cfg.n_bs, ACTION_DIM)))
        # Execute
        safe, vetoed = shield.filter(env, prop)
        # Assert: predicted loads within cap·(1 − margin); the shield only removes contents
        pred, _ = env.predicted_load(safe)
        assert np.all(pred <= cfg.load_cap * 0.9 + 1e-9)
        assert not np.any(safe & ~prop)
        changed += int(vetoed.sum())
    assert changed > 0


def test_interventions_counted_only_when_changed(small_cfg: CacheConfig) -> None:
    # Prepare
    rng = np.random.default_rng(2)
    for cap, expect_any in ((1e6, False), (4.0, True)):
        cfg = dataclasses.replace(small_cfg, load_cap=cap)
        env = _warm_env(cfg, shield=LoadShield(), seed=3)
        total = 0
        for _ in range(5):
            prop = env.limit_replacements(*env.decode(rng.uniform(-1, 1, (cfg.n_bs, ACTION_DIM))))
            # Execute
            _, _, _, _, info = env.step_caches(prop)
            # Assert: flagged exactly where the cache differs from the proposal
            assert np.array_equal(info["intervened"], (env.cached != prop).any(axis=1))
            total += int(info["intervened"].sum())
        assert (total > 0) == expect_any


def test_audit_mode_counts_but_does_not_change(small_cfg: CacheConfig) -> None:
    # Prepare
    cfg = dataclasses.replace(small_cfg, load_cap=4.0)
    env = CacheEnv(cfg, shield=LoadShield(), shield_mode="audit")
    env.reset(seed=0)
    would = 0
    for _ in range(5):
        prop = env.limit_replacements(*env.decode(np.zeros((cfg.n_bs, ACTION_DIM))))
        # Execute
        _, _, _, _, info = env.step_caches(prop)
        # Assert
        assert np.array_equal(env.cached, prop) and not info["intervened"].any()
        would += int(info["would_intervene"].sum())
    assert would > 0


def test_step_cost() -> None:
    info = {"intervened": np.array([True, False, False, False]), "overload": np.array([True, True, False, False])}
    assert step_cost(info) == 0.75
