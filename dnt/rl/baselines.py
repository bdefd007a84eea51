"""Heuristic RRM policies the PPO policy must beat, and the episode evaluator the bench uses.

Every policy has ``decide(obs) -> action`` (and the SB3-style alias ``predict(obs, deterministic=True)``),
returning a :class:`~dnt.rl.env.SliceEnv` action (N, 5); padding rows are left at zero.

* :class:`StaticEqual` — a third of the PRBs per slice, always (the O-RAN default quota);
* :class:`ProportionalToLoad` — shares ∝ the last measured demand (persistence);
* :class:`ProportionalToForecast` — shares ∝ the twin's next-step forecast;
* :class:`Oracle` — the true next-step demand (privileged: reads the env): each slice first gets its
  SLA reach ``min(demand, g_s·capacity)``, then the rest of the user capacity goes greedily to the
  slices with the highest utility per PRB (``w_s / demand_s``) — the exact optimum of the step's
  satisfaction utility (a fractional knapsack), so no causal policy can beat it on utility. (That holds
  for the shares it proposes; with ``prb_mode="min"`` and the worst-case shield the shares are re-projected
  and idle PRBs are shared, so the oracle is then only about an upper bound: on the bench's train days a
  static equal split without twin sync matched it to 1e-4.)

The heuristics sync the twin the same way (horizontal mapping, half the maximum sync share by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy import stats

from dnt.errors import ConfigError
from dnt.ran.slices import SLICES
from dnt.rl.env import NODE_FEATURES, SliceEnv, shares_to_action

__all__ = ["Policy", "StaticEqual", "ProportionalToLoad", "ProportionalToForecast", "Oracle", "evaluate",
           "mean_ci", "EPISODE_METRICS"]

_S = len(SLICES)
_DEMAND = [NODE_FEATURES.index(f"demand_{s.name}") for s in SLICES]
_FORECAST = [NODE_FEATURES.index(f"forecast_{s.name}") for s in SLICES]
EPISODE_METRICS: tuple[str, ...] = ("reward", "utility", "unserved_mbps", "unserved_fraction", "sla_violations",
                                    "interventions", "sync_cost")
"""Per-episode metrics of :func:`evaluate`."""


class Policy(Protocol):
    """What :func:`evaluate` needs from a policy."""

    def decide(self, obs: dict[str, np.ndarray]) -> np.ndarray: ...


@dataclass
class _Heuristic:
    horizontal: bool = True
    """Twin mapping of every cell: True = horizontal (H-twin), False = vertical."""
    sync_fraction: float = 0.5
    """Fraction (0..1) of ``max_sync_share`` used for the twin sync."""

    def __post_init__(self) -> None:
        if not 0 <= self.sync_fraction <= 1:
            raise ConfigError(f"sync_fraction must be in [0, 1], got {self.sync_fraction!r}")

    def shares(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def decide(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """(N, 5) action for the observation (zero rows for padding)."""
        nodes = np.asarray(obs["nodes"])
        n = int(np.asarray(obs["mask"]).sum()) if "mask" in obs else nodes.shape[0]
        out = np.zeros((nodes.shape[0], 5), dtype=np.float32)
        out[:n] = shares_to_action(self.shares(obs)[:n], self.horizontal, self.sync_fraction)
        return out

    def predict(self, obs: dict[str, np.ndarray], deterministic: bool = True) -> np.ndarray:
        """Alias of :meth:`decide` (the PPO policy's interface)."""
        return self.decide(obs)


def _proportional(x: np.ndarray) -> np.ndarray:
    x = np.maximum(np.nan_to_num(np.asarray(x, dtype=np.float64)), 0.0)
    total = x.sum(axis=1, keepdims=True)
    return np.where(total > 0, x / np.where(total > 0, total, 1.0), 1.0 / x.shape[1])


@dataclass
class StaticEqual(_Heuristic):
    """Equal shares for every slice, whatever the load."""

    def shares(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        return np.full((np.asarray(obs["nodes"]).shape[0], _S), 1.0 / _S)


@dataclass
class ProportionalToLoad(_Heuristic):
    """Shares proportional to the last measured demand of each slice."""

    def shares(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        return _proportional(np.asarray(obs["nodes"])[:, _DEMAND])


@dataclass
class ProportionalToForecast(_Heuristic):
    """Shares proportional to the twin's next-step forecast of each slice."""

    def shares(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        return _proportional(np.asarray(obs["nodes"])[:, _FORECAST])


class Oracle(_Heuristic):
    """Utility-optimal shares for the *true* next-step demand (an upper bound, not a deployable policy).

    Parameters
    ----------
    env : the env the policy acts in (read through :meth:`SliceEnv.true_next_demand`); its twin sync is
        switched off (horizontal mapping, ≈ 0 sync share): the oracle needs no twin.
    """

    def __init__(self, env: SliceEnv) -> None:
        super().__init__(horizontal=True, sync_fraction=0.0)
        self.env = env

    def shares(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        env = self.env
        cfg = env.cfg
        demand = env.true_next_demand() / env.capacity_mbps  # (C, 3) fraction of nominal capacity
        cap = env.next_capacity() * (1.0 - cfg.max_sync_share * 1e-4 * cfg.h_cost_factor)  # sync_fraction 0 → 1e-4
        w = cfg.weights
        g = np.asarray(cfg.guaranteed_ratio)
        alloc = np.minimum(demand, g[None, :])
        over = alloc.sum(axis=1) > cap
        alloc[over] *= (cap[over] / alloc[over].sum(axis=1))[:, None]
        room = np.maximum(cap - alloc.sum(axis=1), 0.0)
        with np.errstate(divide="ignore"):
            value = np.where(demand > 0, w[None, :] / np.maximum(demand, 1e-300), 0.0)
        for c in range(demand.shape[0]):
            for s in np.argsort(-value[c], kind="stable"):
                give = min(max(demand[c, s] - alloc[c, s], 0.0), room[c])
                alloc[c, s] += give
                room[c] -= give
        shares = np.where(cap[:, None] > 0, alloc / np.where(cap > 0, cap, 1.0)[:, None], 0.0)
        left = np.maximum(1.0 - shares.sum(axis=1), 0.0)  # idle capacity: spread by demand, never wasted on 0
        shares = shares + left[:, None] * _proportional(demand)
        n = np.asarray(obs["nodes"]).shape[0]
        out = np.full((n, _S), 1.0 / _S)
        out[: shares.shape[0]] = shares
        return out


def mean_ci(values: np.ndarray | list[float], level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): Student-t confidence interval of the mean (half-width 0 for one value).

    Raises
    ------
    ConfigError
        for no values or a level outside (0, 1).
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size == 0:
        raise ConfigError("mean_ci needs at least one value")
    if not 0 < level < 1:
        raise ConfigError(f"confidence level must be in (0, 1), got {level!r}")
    m = float(x.mean())
    if x.size == 1:
        return m, m, m
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return m, m - half, m + half


def evaluate(env: SliceEnv, policy: Policy, episodes: int = 5, seeds: list[int] | None = None,
             split: str = "test") -> dict[str, Any]:
    """Run ``episodes`` episodes and summarise them.

    Parameters
    ----------
    env : the environment (its ``cfg.shield`` decides whether interventions happen).
    policy : anything with ``decide(obs) -> action``.
    episodes : number of episodes (ignored when ``seeds`` is given).
    seeds : reset seeds, one per episode (default ``0..episodes-1``): same seeds, same episodes for
        every policy (paired comparison).
    split : ``test`` (held-out days) or ``train``.

    Returns
    -------
    dict with, for each of :data:`EPISODE_METRICS`, the mean per episode (``utility``, ``sync_cost``:
    the mean per step; ``unserved_mbps``: mean over steps of the cluster's unserved Mbit/s; the others
    totals per episode), ``<metric>_ci`` = (low, high) 95 % t-interval, ``per_episode`` = the raw
    values, ``episodes`` and ``seeds``.
    """
    seeds = list(range(episodes)) if seeds is None else [int(s) for s in seeds]
    if not seeds:
        raise ConfigError("evaluate needs at least one episode")
    per: dict[str, list[float]] = {m: [] for m in EPISODE_METRICS}
    for seed in seeds:
        obs, _ = env.reset(seed=seed, options={"split": split})
        sums = dict.fromkeys(EPISODE_METRICS, 0.0)
        demand = 0.0
        steps = 0
        done = False
        while not done:
            obs, reward, terminated, truncated, info = env.step(policy.decide(obs))
            steps += 1
            sums["reward"] += reward
            sums["utility"] += info["utility"]
            unserved = float(np.sum(info["unserved"]))
            sums["unserved_mbps"] += unserved
            sums["unserved_fraction"] += unserved
            demand += float(np.sum(info["demand"]))
            sums["sla_violations"] += info["sla_violations"]
            sums["interventions"] += info["interventions"]
            sums["sync_cost"] += info["sync_cost"]
            done = terminated or truncated
        for m in ("utility", "unserved_mbps", "sync_cost"):
            sums[m] /= steps
        sums["unserved_fraction"] = sums["unserved_fraction"] / demand if demand > 0 else 0.0
        for m in EPISODE_METRICS:
            per[m].append(float(sums[m]))
    out: dict[str, Any] = {"episodes": len(seeds), "seeds": seeds, "split": split, "per_episode": per}
    for m in EPISODE_METRICS:
        mean, lo, hi = mean_ci(per[m])
        out[m] = mean
        out[f"{m}_ci"] = (lo, hi)
    return out
