"""The survey's four caching systems and their evaluation.

========================  ==================  ======================  ============================================
system                     training data        state                   action / reward
========================  ==================  ======================  ============================================
``rl``                     physical env only    basic features          raw scoring rule; reward = hit rate
``rl_dnt``                 twin, then both      basic features          raw scoring rule; reward = hit rate
``reliable_rl``            physical env only    + load features         :class:`LoadShield`; hit rate − λ·cost
``reliable_rl_dnt``        twin, then both      + load (twin forecast)  :class:`LoadShield`; hit rate − λ·cost
========================  ==================  ======================  ============================================

All four use :func:`dnt.caching.ppo.train` with the same physical sample budget and (in the bench) the
same start, :data:`NAIVE_RULE`. The "w/ DNT" systems use the twin in two ways as the *RL optimiser*
(D-REC: the DTs provide "datasets for training"): they first train for ``ppo.pretrain_iterations`` on
:class:`~dnt.caching.twin.TwinDemand` envs alone (twin-generated transitions with injected rare events; no
physical interaction), then fine-tune on the physical env, optionally with ``twin_envs`` twin rollouts
beside each physical one (``twin_beside``). The Lagrange multiplier moves on the physical cost only (the
twin injects overload surges the physical log has not seen). The reliability modules are the state module
(load features), the action shield and the Lagrangian reward term (:mod:`dnt.caching.shield`). In Reliable
RL w/ DNT the twin is also the safeguard's predictor: its forecast of next-step request counts replaces the
EWMA rates behind the predicted loads the shield and the state module use (D-REC: the DTs serve "as RL
optimizers and safeguards"). On the validation episodes with the long-term-rate rule fixed, this cut the
interventions 31.7 → 25.7 per episode at hit rates 0.4532 and 0.4535 (the blend: 29.3 → 23.0). The
level-preserving twin predicts the loads; the MSE-optimal unconstrained fit did no better there (four
training seeds: hit rate 0.4483 vs 0.4486, 22.9 vs 21.8 interventions).

Unshielded systems and the baselines run with the shield in *audit* mode, so their "risk interventions"
count the BS-steps where the shield would have intervened; shielded systems count the actual ones.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from dnt.caching.baselines import BASELINES, run_policy
from dnt.caching.env import ACTION_DIM, CacheConfig, CacheEnv
from dnt.caching.ppo import CachePolicyNet, PPOConfig, train
from dnt.caching.shield import LoadShield
from dnt.caching.twin import RequestLog, TwinDemand, TwinGenConfig
from dnt.errors import ConfigError
from dnt.rl.baselines import mean_ci as rl_mean_ci

__all__ = ["SystemSpec", "SYSTEMS", "make_env", "train_system", "episode_metrics", "evaluate_policy",
           "evaluate_baseline", "mean_ci", "load_model_for", "FixedRule", "NAIVE_RULE", "BLEND_RULE"]

NAIVE_RULE: tuple[float, ...] = (-0.2, -0.2, 0.0, 1.0, 0.0)
"""The rule the bench's PPO policies start from: cache what was requested in the last step (recency only,
no request-rate weights, no neighbour term, full caches) — a one-step LRU. On the validation episodes it
scores hit rate 0.224, far below LRU (≈0.38) and LFU (≈0.40), so a policy that beats LRU/LFU has learnt it."""
BLEND_RULE: tuple[float, ...] = (0.5, 0.5, 0.0, 0.0, 0.0)
"""The hand-designed LFU/LRU blend (equal short/long-term weights, half recency weight, full
caches); validation hit rate 0.444. Earlier versions started PPO here; the best fixed rule found by a
random search over the action box on the validation episodes (long-term rate only, ``(−1, 1, 0, −1, 0)``)
scores 0.456, so a policy started at the blend had only ≈0.01 to gain and did not move measurably."""


@dataclass(frozen=True)
class SystemSpec:
    """One of the four RL systems."""

    dnt: bool
    """Train also on twin-generated transitions."""
    reliable: bool
    """Reliability modules: load state, shield (enforced), Lagrangian cost."""


SYSTEMS: dict[str, SystemSpec] = {
    "rl": SystemSpec(dnt=False, reliable=False),
    "rl_dnt": SystemSpec(dnt=True, reliable=False),
    "reliable_rl": SystemSpec(dnt=False, reliable=True),
    "reliable_rl_dnt": SystemSpec(dnt=True, reliable=True),
}


def make_env(cfg: CacheConfig, reliable: bool, shield: LoadShield | None = None, demand: Any = None,
             load_model: Any = None) -> CacheEnv:
    """A CacheEnv for a system: load features and an enforced shield when ``reliable``, else an audit shield;
    ``load_model`` (the twin) replaces the EWMA load prediction of the shield and the state module."""
    env_cfg = dataclasses.replace(cfg, load_features=reliable)
    return CacheEnv(env_cfg, demand=demand, shield=shield or LoadShield(),
                    shield_mode="enforce" if reliable else "audit", load_model=load_model)


def load_model_for(spec: SystemSpec, twin: Any) -> Any:
    """The twin predicts loads for the shield only in Reliable RL w/ DNT (others: EWMA rates)."""
    return twin if spec.dnt and spec.reliable else None


def train_system(spec: SystemSpec, cfg: CacheConfig, ppo: PPOConfig, *, twin: Any = None,
                 log: RequestLog | None = None, twin_envs: int = 1, twin_gen: TwinGenConfig | None = None,
                 cost_limit: float = 0.05, shield: LoadShield | None = None, twin_beside: bool = True
                 ) -> tuple[CachePolicyNet, dict[str, Any]]:
    """Train one system; ``twin`` and ``log`` are needed when ``spec.dnt``. A "w/ DNT" system pre-trains on
    ``twin_envs`` twin envs (``ppo.pretrain_iterations``) and, with ``twin_beside``, keeps them beside the
    physical env in the physical phase."""
    if spec.dnt and (twin is None or log is None):
        raise ConfigError("a DNT system needs a fitted twin and its request log")
    lm = load_model_for(spec, twin)
    fns = [lambda _s: make_env(cfg, spec.reliable, shield, load_model=lm)]
    twin_fns = [lambda _s: make_env(cfg, spec.reliable, shield, TwinDemand(twin, log, twin_gen), lm)] * twin_envs
    if spec.dnt and twin_beside:
        fns += twin_fns
    ppo_cfg = dataclasses.replace(ppo, cost_limit=cost_limit if spec.reliable else None,
                                  pretrain_iterations=ppo.pretrain_iterations if spec.dnt else 0)
    return train(fns, ppo_cfg, pretrain_fns=twin_fns if spec.dnt else ())


def episode_metrics(infos: list[dict[str, Any]]) -> dict[str, Any]:
    """Hit rate, risk interventions, loads and overloads of one episode's infos."""
    hits = sum(int(i["hits"]) for i in infos)
    reqs = sum(int(i["requests"]) for i in infos)
    load = np.mean([i["load"] for i in infos], axis=0)
    inter = int(sum(int(np.sum(i["intervened"])) for i in infos))
    would = int(sum(int(np.sum(i["would_intervene"])) for i in infos))
    return {
        "hit_rate": hits / max(reqs, 1),
        "interventions": inter,
        "would_intervene": would,
        "risk_interventions": inter + would,
        "load_per_bs": load,
        "load_max": float(np.max([np.max(i["load"]) for i in infos])),
        "imbalance": float(np.mean([i["imbalance"] for i in infos])),
        "overload_rate": float(np.mean([np.mean(i["overload"]) for i in infos])),
    }


class FixedRule:
    """One scoring rule for every BS and step (default: :data:`BLEND_RULE`); with
    :data:`NAIVE_RULE` it is the rule the bench's untrained PPO policies play."""

    def __init__(self, n_bs: int, rule: tuple[float, ...] = BLEND_RULE) -> None:
        if len(rule) != ACTION_DIM:
            raise ConfigError(f"a rule needs {ACTION_DIM} values, got {len(rule)}")
        self.n_bs = n_bs
        self.action = np.tile(np.asarray(rule, dtype=np.float32), (n_bs, 1))

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        return self.action.copy()


def mean_ci(values: Any, level: float = 0.95) -> tuple[float, float]:
    """Mean and Student-t half-width of its ``level`` confidence interval (0 for one value):
    :func:`dnt.rl.baselines.mean_ci` as (mean, half-width)."""
    m, lo, hi = rl_mean_ci(values, level)
    return m, (hi - lo) / 2


def _mean_metrics(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in runs[0]:
        out[k] = np.mean([r[k] for r in runs], axis=0)
    return out


def evaluate_policy(policy: CachePolicyNet | FixedRule, cfg: CacheConfig, reliable: bool, seeds: list[int],
                    shield: LoadShield | None = None, load_model: Any = None, demand_fn: Any = None
                    ) -> dict[str, Any]:
    """Mean episode metrics of a deterministic policy over ``seeds`` on the physical env, or with a fresh
    demand source ``demand_fn()`` per episode (e.g. the twin's generator)."""
    runs = []
    for s in seeds:
        demand = None if demand_fn is None else demand_fn()
        env = make_env(cfg, reliable, shield, demand=demand, load_model=load_model)
        obs, _ = env.reset(seed=s)
        infos, done = [], False
        while not done:
            obs, _, term, trunc, info = env.step(policy.predict(obs))
            infos.append(info)
            done = term or trunc
        runs.append(episode_metrics(infos))
    return _mean_metrics(runs)


def evaluate_baseline(name: str, cfg: CacheConfig, seeds: list[int], shield: LoadShield | None = None
                      ) -> dict[str, Any]:
    """Mean episode metrics of an LRU/LFU/Belady baseline (shield in audit mode) over ``seeds``."""
    runs = [episode_metrics(run_policy(make_env(cfg, False, shield), BASELINES[name](), s)) for s in seeds]
    return _mean_metrics(runs)
