from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dnt.errors import ConfigError
from dnt.rl.baselines import StaticEqual
from dnt.rl.env import EnvConfig, SliceEnv, shares_to_action
from dnt.rl.shield import LagrangeMultiplier, SafetyShield

G = (0.3, 0.15, 0.05)


def test_floors_hand_computed() -> None:
    shield = SafetyShield(G, margin=0.1)
    fc = np.array([[0.5, 0.1, 0.02], [0.1, 0.0, 0.0]])
    cap = np.array([1.0, 0.5])
    # cell 0: min(fc·1.1, g) = (0.3, 0.11, 0.022); cell 1: (0.11, 0, 0) / 0.5
    np.testing.assert_allclose(shield.floors(fc, cap), [[0.3, 0.11, 0.022], [0.22, 0.0, 0.0]])


def test_project_hand_computed() -> None:
    shield = SafetyShield(G, margin=0.1)
    safe, hit = shield.project(np.array([[1.0, 0.0, 0.0]]), np.array([[0.5, 0.1, 0.02]]), np.array([1.0]))
    # floors (0.3, 0.11, 0.022); the excess 0.132 comes off eMBB, the only slice above its floor
    np.testing.assert_allclose(safe, [[0.868, 0.11, 0.022]])
    assert hit.tolist() == [True]


def test_safe_shares_pass_untouched() -> None:
    shield = SafetyShield(G)
    shares = np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.1]])  # second row sums to 0.5: allowed, under capacity
    safe, hit = shield.project(shares, np.array([[0.4, 0.1, 0.01], [0.1, 0.1, 0.05]]), np.ones(2))
    np.testing.assert_array_equal(safe, shares)
    assert not hit.any()


def test_cell_out_of_service_is_left_alone() -> None:
    safe, hit = SafetyShield(G).project(np.array([[0.9, 0.05, 0.05]]), np.array([[1.0, 1.0, 1.0]]), np.zeros(1))
    np.testing.assert_array_equal(safe, [[0.9, 0.05, 0.05]])
    assert not hit.any()


@settings(max_examples=150, deadline=None)
@given(shares=hnp.arrays(np.float64, (5, 3), elements=st.floats(-0.5, 2.0)),
       fc=hnp.arrays(np.float64, (5, 3), elements=st.floats(0.0, 3.0)),
       cap=hnp.arrays(np.float64, (5,), elements=st.floats(0.0, 1.0)),
       margin=st.floats(0.0, 0.5))
def test_project_is_safe_and_counts_only_changes(shares: np.ndarray, fc: np.ndarray, cap: np.ndarray,
                                                 margin: float) -> None:
    shield = SafetyShield(G, margin=margin)
    safe, hit = shield.project(shares, fc, cap)
    floor = shield.floors(fc, cap)
    assert (safe >= floor - 1e-9).all(), "a slice was left under its SLA floor"
    assert (safe >= 0).all() and (safe.sum(axis=1) <= 1 + 1e-9).all(), "a cell is over capacity"
    changed = np.abs(safe - shares).max(axis=1) > shield.tol
    np.testing.assert_array_equal(hit, changed)
    # projecting a safe proposal again changes nothing
    again, hit2 = shield.project(safe, fc, cap)
    np.testing.assert_allclose(again, safe, atol=1e-12)
    assert not hit2.any()


def test_floors_cover_the_sla_when_the_forecast_is_right() -> None:
    # PRBs ≥ min(demand, g·capacity) ⇒ served ≥ floor for any sla_floor ≤ 1
    shield = SafetyShield(G, margin=0.0)
    demand = np.array([[0.9, 0.08, 0.01]])
    safe, _ = shield.project(np.array([[1.0, 0.0, 0.0]]), demand, np.ones(1))
    assert (np.minimum(demand, safe) >= np.minimum(demand, np.asarray(G)) - 1e-12).all()


def test_env_counts_interventions_only_when_shield_acts() -> None:
    cfg = EnvConfig(n_cells=4, days=3, test_days=1, episode_steps=24, shield=True)
    env = SliceEnv(cfg)
    obs, _ = env.reset(seed=0)
    policy = StaticEqual()  # 1/3 each: above every guarantee (0.3, 0.15, 0.05) of the user PRBs
    for _ in range(cfg.episode_steps):
        obs, _, _, _, info = env.step(policy.decide(obs))
        assert info["interventions"] == 0
    obs, _ = env.reset(seed=0)
    greedy = shares_to_action(np.tile([1.0, 0.0, 0.0], (4, 1)))  # starves voice and messaging
    total = 0
    for _ in range(cfg.episode_steps):
        obs, _, _, _, info = env.step(greedy)
        total += info["interventions"]
        assert (info["shares"][:, 1:] > 1e-3).all()
    assert total > 0


def test_intervention_penalty_lowers_reward() -> None:
    cfg = EnvConfig(n_cells=4, days=3, test_days=1, episode_steps=24, shield=True)
    greedy = shares_to_action(np.tile([1.0, 0.0, 0.0], (4, 1)))
    rewards = []
    for pen in (0.0, 1.0):
        env = SliceEnv(dataclasses.replace(cfg, intervention_penalty=pen))
        env.reset(seed=0)
        rewards.append(sum(env.step(greedy)[1] for _ in range(cfg.episode_steps)))
    assert rewards[1] < rewards[0]


def test_lagrange_multiplier_dual_ascent() -> None:
    lam = LagrangeMultiplier(limit=1.0, lr=0.5)
    assert lam.update(3.0) == pytest.approx(1.0)    # 0 + 0.5·(3 − 1)
    assert lam.update(2.0) == pytest.approx(1.5)
    assert lam.update(0.0) == pytest.approx(1.0)
    assert lam.update(-10.0) == 0.0                 # projected onto λ ≥ 0
    assert lam.penalise(2.0, 1.0) == 2.0
    capped = LagrangeMultiplier(limit=0.0, lr=1.0, max_value=2.0)
    assert capped.update(5.0) == 2.0
    assert float(capped) == 2.0


@pytest.mark.parametrize("kwargs", [{"limit": -1.0}, {"limit": 1.0, "lr": 0.0}, {"limit": 1.0, "init": -1.0},
                                    {"limit": 1.0, "init": 2.0, "max_value": 1.0}])
def test_lagrange_bad_config(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        LagrangeMultiplier(**kwargs)


@pytest.mark.parametrize("kwargs", [{"guaranteed_ratio": (0.6, 0.3, 0.2)}, {"guaranteed_ratio": (0.5, 0.5)},
                                    {"margin": -0.1}, {"tol": 0.0}])
def test_shield_bad_config(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        SafetyShield(**kwargs)


def test_shield_bad_shapes() -> None:
    with pytest.raises(ConfigError, match="shares must be"):
        SafetyShield().project(np.ones((2, 2)), np.ones((2, 3)), np.ones(2))


def test_filter_matches_the_env_shield() -> None:
    cfg = EnvConfig(n_cells=4, days=3, test_days=1, episode_steps=24, shield=True, pad_to=5)
    env = SliceEnv(cfg)
    shield = SafetyShield(cfg.guaranteed_ratio, cfg.shield_margin)
    obs, _ = env.reset(seed=2)
    rng = np.random.default_rng(0)
    agree = 0
    for _ in range(cfg.episode_steps):
        action = rng.uniform(-10, 10, (5, 5)).astype(np.float32)
        safe, vetoed = shield.filter(obs, action, max_sync_share=cfg.max_sync_share)
        assert not vetoed[4] and np.array_equal(safe[4], action[4]) and np.array_equal(safe[:, 3:], action[:, 3:])
        np.testing.assert_array_equal(safe[~vetoed], action[~vetoed])
        obs, _, _, _, info = env.step(action)
        shares, _, _ = env.decode_action(safe)
        np.testing.assert_allclose(shares, info["shares"], atol=1e-4)
        agree += int(np.array_equal(vetoed[:4], info["intervened"]))
    assert agree >= cfg.episode_steps - 1  # float32 observations may flip a borderline cell
