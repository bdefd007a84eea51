"""The worst-case (``floor="guaranteed"``) shield: with prioritised min ratios no SLA floor can be violated."""

from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dnt.data.frame import Traffic
from dnt.data.synth import SynthConfig, generate
from dnt.errors import ConfigError
from dnt.ran.capacity import CellRadioConfig, allocate_prbs
from dnt.rl.baselines import ProportionalToForecast
from dnt.rl.env import EnvConfig, SliceEnv
from dnt.rl.events import EventConfig
from dnt.rl.shield import SafetyShield

G = (0.3, 0.15, 0.05)
FLOOR = np.array([0.95, 0.99, 0.99])
# flash crowds everywhere (demand × 2–10, several per cell and day) and frequent outages (neighbour spill)
STORM = EventConfig(flash_rate=6.0, flash_mult=(2.0, 10.0), flash_minutes=(10, 120), outage_rate=1.0)


@cache
def _traffic() -> Traffic:
    return generate(SynthConfig(n_cells=4, days=3, seed=0))


def _cfg(**kw: object) -> EnvConfig:
    base = EnvConfig(n_cells=4, days=3, test_days=1, episode_steps=36, shield=True, events=STORM)
    return dataclasses.replace(base, **kw)


def test_guaranteed_floors_ignore_the_forecast() -> None:
    shield = SafetyShield(G, floor="guaranteed")
    fc = np.array([[0.0, 0.0, 0.0], [5.0, 5.0, 5.0], [0.1, 0.0, 0.0]])
    cap = np.array([1.0, 0.8, 0.0])
    np.testing.assert_allclose(shield.floors(fc, cap), [G, np.asarray(G) / 0.8, [0.0, 0.0, 0.0]])
    with pytest.raises(ConfigError, match="floor"):
        SafetyShield(G, floor="oracle")


def test_max_sync_cost_leaves_the_guarantees_their_prbs() -> None:
    shield = SafetyShield(G, floor="guaranteed")
    np.testing.assert_allclose(shield.max_sync_cost(np.array([1.0, 0.625, 0.4, 0.0])), [0.5, 0.2, 0.0, 1.0])
    np.testing.assert_array_equal(SafetyShield(G).max_sync_cost(np.array([1.0, 0.4])), [1.0, 1.0])


def test_auto_floor_follows_the_prb_mode() -> None:
    assert EnvConfig(prb_mode="min").shield_floor_mode == "guaranteed"
    assert EnvConfig().shield_floor_mode == "forecast"
    assert EnvConfig(prb_mode="min", shield_floor="forecast").shield_floor_mode == "forecast"
    assert SliceEnv(_cfg(prb_mode="min"), _traffic()).shield.floor == "guaranteed"


@settings(max_examples=200, deadline=None)
@given(demand=hnp.arrays(np.float64, (6, 3), elements=st.floats(0.0, 10.0)),
       shares=hnp.arrays(np.float64, (6, 3), elements=st.floats(0.0, 1.0)),
       sync=hnp.arrays(np.float64, (6,), elements=st.floats(0.0, 1.0)),
       cap=hnp.arrays(np.float64, (6,), elements=st.floats(0.5, 1.0)))
def test_min_ratios_at_the_guarantee_serve_the_sla_whatever_the_demand(demand: np.ndarray, shares: np.ndarray,
                                                                      sync: np.ndarray, cap: np.ndarray) -> None:
    """The argument of the env's *Shield* section, on the allocation itself (any capacity ≥ Σ g)."""
    shield = SafetyShield(G, floor="guaranteed")
    radio = CellRadioConfig()
    n_prb, mpp = float(radio.n_prb), radio.mbps_per_prb
    sync = np.minimum(sync, shield.max_sync_cost(cap))  # the sync any policy asks for, bounded by the shield
    user = cap * (1.0 - sync)
    assert (user >= sum(G) - 1e-12).all()
    safe, _ = shield.project(shares / np.maximum(shares.sum(axis=1, keepdims=True), 1.0), np.zeros((6, 3)), user)
    mbps = demand * radio.capacity_mbps  # demand up to 10× the whole cell, per slice
    ratio = safe * user[:, None] * 100.0
    reserved = (1.0 - user)[:, None] * 100.0
    need = np.concatenate([mbps / mpp, reserved / 100.0 * n_prb], axis=1)
    prb = allocate_prbs(need, n_prb, np.concatenate([ratio, reserved], 1),
                        np.concatenate([np.repeat(user[:, None] * 100.0, 3, 1), reserved], 1),
                        np.concatenate([np.zeros_like(ratio), reserved], 1))[:, :3]
    served = np.minimum(mbps, prb * mpp)
    assert (served >= np.minimum(mbps, np.asarray(G) * radio.capacity_mbps) - 1e-9).all()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), busy_load=st.floats(0.8, 3.0), scale=st.floats(0.0, 10.0),
       split=st.sampled_from(["train", "test"]))
def test_worst_case_shield_in_min_mode_never_violates(seed: int, busy_load: float, scale: float, split: str) -> None:
    """Random flash crowds and outages (the event storm), random overload and random actions: 0 violations."""
    env = SliceEnv(_cfg(prb_mode="min", busy_load=busy_load), _traffic())
    assert env.shield.floor == "guaranteed"
    env.reset(seed=seed, options={"split": split})
    rng = np.random.default_rng(seed)
    spikes = violations = 0
    for _ in range(env.cfg.episode_steps):
        action = (rng.standard_normal((4, 5)) * scale).astype(np.float32)  # any logits, any sync mode/share
        *_, info = env.step(action)
        violations += info["sla_violations"]
        spikes += int((info["demand"].sum(axis=1) > env.capacity_mbps).sum())
        live = info["prb"].sum(axis=1) > 0
        g_mbps = np.asarray(G) * env.capacity_mbps
        assert (info["served"][live] >= np.minimum(info["demand"][live], g_mbps) - 1e-9).all()
    assert violations == 0
    assert env.events is not None


def test_the_storm_overloads_cells() -> None:
    """The event storm of the property test does create the unforecast spikes it is meant to."""
    env = SliceEnv(_cfg(prb_mode="min"), _traffic())
    env.reset(seed=3)
    assert env.events is not None and any(e.kind == "flash" for e in env.events.events)
    over = 0
    for _ in range(env.cfg.episode_steps):
        *_, info = env.step(env.action_space.sample())
        over += int((info["demand"].sum(axis=1) > env.capacity_mbps).sum())
    assert over > 0


def test_forecast_shield_in_dedicated_mode_can_still_violate() -> None:
    """Same episodes, same (forecast-proportional) policy: the forecast floors miss flash crowds, the
    worst-case floors in min mode do not."""
    totals = {}
    for mode in ("dedicated", "min"):
        env = SliceEnv(_cfg(prb_mode=mode), _traffic())
        policy = ProportionalToForecast()
        total = 0
        for seed in range(3):
            obs, _ = env.reset(seed=seed)
            done = False
            while not done:
                obs, _, _, done, info = env.step(policy.decide(obs))
                total += info["sla_violations"]
        totals[(mode, env.shield.floor)] = total
    assert totals[("dedicated", "forecast")] > 0
    assert totals[("min", "guaranteed")] == 0


def test_filter_matches_the_env_with_guaranteed_floors() -> None:
    cfg = _cfg(prb_mode="min", pad_to=5)
    env = SliceEnv(cfg, _traffic())
    obs, _ = env.reset(seed=2)
    rng = np.random.default_rng(0)
    for _ in range(cfg.episode_steps):
        action = rng.uniform(-10, 10, (5, 5)).astype(np.float32)
        safe, vetoed = env.shield.filter(obs, action, max_sync_share=cfg.max_sync_share)
        assert not vetoed[4]
        obs, _, _, _, info = env.step(action)
        shares, _, _ = env.decode_action(safe)
        np.testing.assert_allclose(shares, info["shares"], atol=1e-4)
        np.testing.assert_array_equal(vetoed[:4], info["intervened"])


@pytest.mark.parametrize(("floor", "violates"), [("forecast", True), ("guaranteed", False)])
def test_in_min_mode_it_is_the_floor_that_matters(floor: str, violates: bool) -> None:
    """Random actions under the event storm in min mode: the forecast floors violate, the guaranteed ones never."""
    total = 0
    for seed in range(4):
        env = SliceEnv(_cfg(prb_mode="min", shield_floor=floor), _traffic())
        env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        for _ in range(env.cfg.episode_steps):
            total += env.step((rng.standard_normal((4, 5)) * 5).astype(np.float32))[4]["sla_violations"]
    assert (total > 0) == violates
