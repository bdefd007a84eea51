from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dnt.errors import ConfigError
from dnt.rl.baselines import (
    EPISODE_METRICS,
    Oracle,
    ProportionalToForecast,
    ProportionalToLoad,
    StaticEqual,
    evaluate,
    mean_ci,
)
from dnt.rl.env import EnvConfig, SliceEnv


@pytest.fixture(scope="module")
def env() -> SliceEnv:
    return SliceEnv(EnvConfig(n_cells=6, days=3, test_days=1, episode_steps=72))


def test_oracle_beats_forecast_beats_static(env: SliceEnv) -> None:
    seeds = [0, 1, 2]
    util = {type(p).__name__: evaluate(env, p, seeds=seeds)["utility"]
            for p in (StaticEqual(), ProportionalToForecast(), Oracle(env))}
    assert util["Oracle"] >= util["ProportionalToForecast"] >= util["StaticEqual"]
    assert util["Oracle"] > util["StaticEqual"] + 0.05  # the split matters under the calibrated overload


def test_proportional_policies_follow_their_inputs(env: SliceEnv) -> None:
    obs, _ = env.reset(seed=0)
    for policy, cols in ((ProportionalToLoad(), slice(0, 3)), (ProportionalToForecast(), slice(3, 6))):
        shares, _, _ = env.decode_action(policy.decide(obs))
        x = obs["nodes"][:, cols].astype(np.float64)
        np.testing.assert_allclose(shares, x / x.sum(axis=1, keepdims=True), atol=1e-4)
    shares, horiz, sync = env.decode_action(StaticEqual(horizontal=False, sync_fraction=1.0).decide(obs))
    np.testing.assert_allclose(shares, 1 / 3, atol=1e-6)
    assert not horiz.any() and np.allclose(sync, env.cfg.max_sync_share, rtol=1e-3)


def test_oracle_serves_what_it_can(env: SliceEnv) -> None:
    obs, _ = env.reset(seed=4)
    oracle = Oracle(env)
    for _ in range(20):
        demand, cap = env.true_next_demand(), env.next_capacity()
        obs, _, _, _, info = env.step(oracle.decide(obs))
        np.testing.assert_allclose(info["demand"], demand)
        user = cap * env.capacity_mbps * (1 - 1e-4 * env.cfg.max_sync_share * env.cfg.h_cost_factor)
        # served = min(demand, user capacity) per cell: nothing is wasted
        np.testing.assert_allclose(info["served"].sum(axis=1), np.minimum(demand.sum(axis=1), user), rtol=1e-6)
        assert info["sla_violations"] == 0


def test_decide_pads_and_fits_action_space() -> None:
    env = SliceEnv(EnvConfig(n_cells=4, days=3, test_days=1, episode_steps=24, pad_to=7))
    obs, _ = env.reset(seed=0)
    for policy in (StaticEqual(), ProportionalToLoad(), ProportionalToForecast(), Oracle(env)):
        action = policy.decide(obs)
        assert env.action_space.contains(action)
        assert not action[4:].any()
        np.testing.assert_array_equal(policy.predict(obs, deterministic=True), action)


def test_evaluate_is_reproducible_and_complete(env: SliceEnv) -> None:
    a = evaluate(env, ProportionalToLoad(), episodes=2)
    b = evaluate(env, ProportionalToLoad(), seeds=[0, 1])
    assert a["seeds"] == [0, 1] and a["episodes"] == 2
    for m in EPISODE_METRICS:
        assert a[m] == b[m]
        lo, hi = a[f"{m}_ci"]
        assert lo <= a[m] <= hi and len(a["per_episode"][m]) == 2
    shielded = SliceEnv(dataclasses.replace(env.cfg, shield=True))
    res = evaluate(shielded, ProportionalToLoad(), seeds=[0])
    assert res["interventions"] > 0
    with pytest.raises(ConfigError):
        evaluate(env, StaticEqual(), seeds=[])


def test_mean_ci_t_interval() -> None:
    mean, lo, hi = mean_ci([1.0, 2.0, 3.0])
    # t_{0.975, 2} = 4.302653; s = 1; half-width = 4.302653 / √3
    assert mean == 2.0 and hi - mean == pytest.approx(4.302653 / np.sqrt(3), rel=1e-6)
    assert mean - lo == pytest.approx(hi - mean)
    assert mean_ci([5.0]) == (5.0, 5.0, 5.0)
    with pytest.raises(ConfigError):
        mean_ci([])
    with pytest.raises(ConfigError):
        mean_ci([1.0, 2.0], level=1.0)
    with pytest.raises(ConfigError):
        StaticEqual(sync_fraction=2.0)
