"""Decision fidelity of the caching twin: does it rank caching decisions as the physical network does?

A twin used as the RL optimiser's simulator (:mod:`dnt.caching.agents`, "w/ DNT") is only as useful as the
*decisions* it favours: a policy trained on it converges to the twin's best rule, so the twin's forecast
error matters less than whether it orders rules as the physical network does. :func:`decision_fidelity`
plays a fixed set of scoring rules (:class:`~dnt.caching.agents.FixedRule`) on the physical env and on
envs driven by the twin's generator (:class:`~dnt.caching.twin.TwinDemand`), on the same episode seeds, and
reports the Spearman rank correlation of their hit rates and where the physically best rule ranks on the
twin.

Measured by ``bench/caching.py`` on held-out episodes (2026-11-27, 20 rules, 2 episodes): a generator that
fed its sampled requests back into an unconstrained AR forecaster scored 0.58, and the physically best rule
ranked 15th of 20 on it — its popularity diffused (Poisson noise fed back as if it were a change of
popularity) and drifted towards uniform (the forecaster's intercept). With the level-preserving forecaster
and rate feedback (the defaults) it scores 0.98 without injected events and 0.95 with the default events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dnt.caching.agents import FixedRule, evaluate_policy
from dnt.caching.env import CacheConfig
from dnt.errors import ConfigError

__all__ = ["PROBE_RULES", "probe_rules", "rule_hit_rate", "decision_fidelity"]

PROBE_RULES: tuple[tuple[float, ...], ...] = (
    (-1.0, 1.0, 0.0, -1.0, 0.0),   # long-term rate only
    (0.5, 0.5, 0.0, 0.0, 0.0),     # the hand-designed blend
    (-0.2, -0.2, 0.0, 1.0, 0.0),   # recency only (the naive rule)
    (1.0, -1.0, 0.0, -1.0, 0.0),   # short-term rate only
    (0.3, 1.0, 0.5, -0.5, 0.0),    # long-term rate with a neighbour term
    (1.0, 0.0, 0.0, 1.0, -1.0),    # short-term rate and recency, 70 % fill
)
"""Hand-picked rules covering the action box's corners; :func:`probe_rules` adds random ones."""


def probe_rules(n_random: int, seed: int = 0) -> list[tuple[float, ...]]:
    """:data:`PROBE_RULES` plus ``n_random`` rules drawn uniformly from the action box (seeded)."""
    rng = np.random.default_rng(seed)
    extra = [tuple(float(x) for x in np.round(rng.uniform(-1.0, 1.0, 5), 2)) for _ in range(n_random)]
    return list(PROBE_RULES) + extra


def rule_hit_rate(cfg: CacheConfig, rule: Sequence[float], seeds: Sequence[int], demand_fn: Any = None) -> float:
    """Mean hit rate of one fixed rule over episodes ``seeds`` (the physical env, or with demand
    ``demand_fn()`` — a fresh demand source per episode)."""
    policy = FixedRule(cfg.n_bs, tuple(rule))
    return float(evaluate_policy(policy, cfg, False, list(seeds), demand_fn=demand_fn)["hit_rate"])


def decision_fidelity(physical: Sequence[float], twin: Sequence[float]) -> dict[str, Any]:
    """Spearman rank correlation of per-rule hit rates on the physical network and on the twin, the rank
    (0 = best) of the physically best rule on the twin, and the physical hit rate of the twin's best rule
    (what a policy that converged to the twin's optimum would get)."""
    from scipy import stats

    p, t = np.asarray(physical, dtype=np.float64), np.asarray(twin, dtype=np.float64)
    if p.shape != t.shape or p.size < 3:
        raise ConfigError(f"need the same ≥ 3 rules on both sides, got {p.size} and {t.size}")
    order = np.argsort(-t, kind="stable").tolist()
    return {"spearman": float(stats.spearmanr(p, t).statistic),
            "best_rule_rank_on_twin": order.index(int(np.argmax(p))),
            "physical_hit_rate_of_twin_best": float(p[int(np.argmax(t))]),
            "best_physical_hit_rate": float(p.max()), "rules": int(p.size)}
