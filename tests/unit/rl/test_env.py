from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from dnt.data.synth import SynthConfig, generate
from dnt.errors import ConfigError
from dnt.ran.slices import slice_demand
from dnt.rl.env import NODE_FEATURES, EnvConfig, SliceEnv, normalized_adjacency, shares_to_action
from dnt.rl.events import EventConfig

NO_EVENTS = EventConfig(flash_rate=0.0, outage_rate=0.0)


def test_check_env_passes(small_env: SliceEnv) -> None:
    check_env(small_env, skip_render_check=True)


def test_check_env_passes_padded_with_shield(small_cfg: EnvConfig) -> None:
    env = SliceEnv(dataclasses.replace(small_cfg, pad_to=6, shield=True))
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert obs["nodes"].shape == (6, len(NODE_FEATURES))
    np.testing.assert_array_equal(obs["mask"], [1, 1, 1, 1, 0, 0])
    assert not obs["nodes"][4:].any() and not obs["adj"][4:].any()
    obs, *_ = env.step(env.action_space.sample())
    assert env.observation_space.contains(obs)


def test_spaces_and_features(small_env: SliceEnv) -> None:
    obs, _ = small_env.reset(seed=3)
    assert small_env.observation_space.contains(obs)
    assert small_env.action_space.shape == (4, 5)
    assert len(set(NODE_FEATURES)) == len(NODE_FEATURES) == obs["nodes"].shape[1]
    adj = obs["adj"]
    np.testing.assert_allclose(adj, adj.T)
    assert (np.diag(adj) > 0).all()


def test_normalized_adjacency_two_nodes() -> None:
    # A + I = [[1, 1], [1, 1]], degrees 2: every entry 1/2
    np.testing.assert_allclose(normalized_adjacency(np.array([[0, 1], [1, 0]])), np.full((2, 2), 0.5))
    # isolated node: only its self-loop
    np.testing.assert_allclose(normalized_adjacency(np.zeros((2, 2))), np.eye(2))


def test_shares_are_feasible_and_prbs_within_capacity(small_env: SliceEnv) -> None:
    small_env.reset(seed=1)
    rng = np.random.default_rng(0)
    n_prb = small_env.cfg.radio.n_prb
    for _ in range(20):
        action = rng.uniform(-10, 10, (4, 5)).astype(np.float32)
        shares, _, sync = small_env.decode_action(action)
        _, _, _, _, info = small_env.step(action)
        assert (shares >= 0).all() and np.allclose(shares.sum(axis=1), 1.0)
        assert (sync >= 0).all() and (sync <= small_env.cfg.max_sync_share).all()
        assert (info["prb"].sum(axis=1) <= n_prb * (1 - info["sync_share"] * 0.4) + 1e-6).all()
        assert (info["served"] <= info["demand"] + 1e-9).all() and (info["served"] >= 0).all()
        assert 0.0 <= info["utility"] <= 1.0


def test_shares_to_action_round_trip(small_env: SliceEnv) -> None:
    shares = np.array([[0.7, 0.2, 0.1], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0.0], [0.9, 0.05, 0.05]])
    got, horiz, sync = small_env.decode_action(shares_to_action(shares, horizontal=False, sync_fraction=0.25))
    np.testing.assert_allclose(got, shares, atol=1e-4)
    assert not horiz.any()
    np.testing.assert_allclose(sync, 0.25 * small_env.cfg.max_sync_share, rtol=1e-4)


def test_same_seed_same_trajectory(small_cfg: EnvConfig) -> None:
    def rollout(seed: int) -> tuple[list[np.ndarray], list[float]]:
        env = SliceEnv(small_cfg)
        env.action_space.seed(seed)
        obs, _ = env.reset(seed=seed)
        seen, rewards = [obs["nodes"]], []
        for _ in range(small_cfg.episode_steps):
            obs, r, _, trunc, _ = env.step(env.action_space.sample())
            seen.append(obs["nodes"])
            rewards.append(r)
        assert trunc
        return seen, rewards

    a, b, c = rollout(5), rollout(5), rollout(6)
    assert all(np.array_equal(x, y) for x, y in zip(a[0], b[0], strict=True)) and a[1] == b[1]
    assert a[1] != c[1]


def test_episode_truncates_after_episode_steps(small_env: SliceEnv) -> None:
    small_env.reset(seed=0)
    for k in range(small_env.cfg.episode_steps):
        _, _, terminated, truncated, _ = small_env.step(np.zeros((4, 5), np.float32))
        assert not terminated and truncated == (k == small_env.cfg.episode_steps - 1)


def test_splits_use_their_days(small_env: SliceEnv) -> None:
    train_end = 2 * 144
    for seed in range(10):
        _, info = small_env.reset(seed=seed)
        assert 1 <= info["t"] <= train_end - 48
        _, info = small_env.reset(seed=seed, options={"split": "test"})
        assert train_end <= info["t"] <= 3 * 144 - 48


def test_calibration_hits_busy_load(small_cfg: EnvConfig) -> None:
    env = SliceEnv(small_cfg)
    cal = env.calibration()
    assert 0.05 < cal["overload_step_fraction"] < 0.4
    train = env._demand[:, : 2 * 144].sum(axis=2) / env.capacity_mbps
    np.testing.assert_allclose(np.quantile(train, 0.95, axis=1), small_cfg.busy_load, rtol=1e-9)


def test_given_perfect_forecast_is_observed(small_cfg: EnvConfig) -> None:
    traffic = generate(SynthConfig(n_cells=4, days=3, seed=0))
    act = slice_demand(traffic).astype(np.float64)
    forecast = act[:, :, None, :]  # forecast[c, t, 0] = the true activity of step t
    cfg = dataclasses.replace(small_cfg, events=NO_EVENTS, twin_noise_min=0.0, twin_noise_max=0.0)
    env = SliceEnv(cfg, traffic=traffic, forecast=forecast)
    fc = [NODE_FEATURES.index(f"forecast_{s}") for s in ("embb", "voice", "messaging")]
    dem = [NODE_FEATURES.index(f"demand_{s}") for s in ("embb", "voice", "messaging")]
    obs, _ = env.reset(seed=0)
    for _ in range(5):
        expected = np.clip(env.true_next_demand() / env.capacity_mbps, -1, 10)
        np.testing.assert_allclose(obs["nodes"][:, fc], expected, rtol=1e-5, atol=1e-7)
        obs, *_ = env.step(np.zeros((4, 5), np.float32))
        np.testing.assert_allclose(obs["nodes"][:, dem], expected, rtol=1e-5, atol=1e-7)
    with pytest.raises(ConfigError, match="forecast must be"):
        SliceEnv(cfg, traffic=traffic, forecast=forecast[:, :-1])


def test_outage_cell_serves_nothing(small_cfg: EnvConfig) -> None:
    cfg = dataclasses.replace(small_cfg, events=EventConfig(flash_rate=0.0, outage_rate=20.0, outage_spill=0.5))
    env = SliceEnv(cfg)
    obs, _ = env.reset(seed=0)
    seen = 0
    for _ in range(cfg.episode_steps):
        out = obs["nodes"][:, NODE_FEATURES.index("outage")] > 0
        obs, _, _, _, info = env.step(np.zeros((4, 5), np.float32))
        assert (info["served"][out] == 0).all() and not info["violated"][out].any()
        seen += int(out.sum())
    assert seen > 0


def test_sync_reduces_twin_error(small_cfg: EnvConfig) -> None:
    env = SliceEnv(small_cfg)
    errors = {}
    for name, frac, horiz in (("none", 0.0, True), ("h", 1.0, True), ("v", 1.0, False)):
        env.reset(seed=0)
        action = shares_to_action(np.full((4, 3), 1 / 3), horizontal=horiz, sync_fraction=frac)
        for _ in range(20):
            *_, info = env.step(action)
        errors[name] = (info["twin_error"].mean(), info["sync_cost"])
    assert errors["v"][0] < errors["h"][0] < errors["none"][0]
    assert errors["none"][1] < errors["h"][1] < errors["v"][1]


@pytest.mark.parametrize("bad", [
    {"n_cells": 0}, {"days": 2, "test_days": 2}, {"busy_load": 0.0}, {"busy_quantile": 1.5},
    {"calibration": "median"}, {"prb_mode": "shared"}, {"slice_weights": (1.0, 1.0)},
    {"guaranteed_ratio": (0.6, 0.3, 0.2)}, {"sla_floor": (1.2, 0.9, 0.9)}, {"max_sync_share": 1.0},
    {"twin_noise_min": 0.5, "twin_noise_max": 0.1}, {"churn_weight": -1.0}, {"pad_to": 0},
    {"shield_floor": "oracle"},
])
def test_bad_config_raises(bad: dict) -> None:
    with pytest.raises(ConfigError):
        EnvConfig(**bad)


def test_bad_runtime_inputs_raise(small_cfg: EnvConfig, small_env: SliceEnv) -> None:
    with pytest.raises(ConfigError, match="reset"):
        SliceEnv(small_cfg).step(np.zeros((4, 5), np.float32))
    small_env.reset(seed=0)
    with pytest.raises(ConfigError, match="action must be"):
        small_env.step(np.zeros((3, 5), np.float32))
    with pytest.raises(ConfigError, match="split"):
        small_env.reset(options={"split": "validation"})
    with pytest.raises(ConfigError, match="pad_to"):
        SliceEnv(dataclasses.replace(small_cfg, pad_to=2))
    with pytest.raises(ConfigError, match="episodes"):
        SliceEnv(dataclasses.replace(small_cfg, episode_steps=200))


def test_seasonal_naive_forecast_and_short_traffic(small_cfg: EnvConfig) -> None:
    env = SliceEnv(small_cfg)
    np.testing.assert_array_equal(env._base_fc[:, 144:], env._demand[:, :-144])
    np.testing.assert_array_equal(env._base_fc[:, 1:144], env._demand[:, :143])
    short = generate(SynthConfig(n_cells=2, days=1, seed=0)).slice_steps(0, 100)
    env = SliceEnv(EnvConfig(test_days=0, episode_steps=50), traffic=short)
    check_env(env, skip_render_check=True)
