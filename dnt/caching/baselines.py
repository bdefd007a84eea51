"""Classic cache-replacement baselines: LRU, LFU and a Belady-style oracle, each BS on its own.

Every policy sees, per BS, the requests of the clients that BS covers, in arrival order, and proposes the
BS's cache for the coming step plus a priority used by the env's replacement budget
(:meth:`CacheEnv.limit_replacements`: the highest-priority new contents are fetched first, the
lowest-priority old ones evicted first). None of them coordinates with neighbours or looks at loads.

* :class:`LRU` — the ``slots`` most recently requested contents (priority: last request time). With an
  unlimited budget this is exactly request-by-request LRU with admission on every miss.
* :class:`LFU` — "perfect" LFU: the ``slots`` most requested contents since the start (counts kept for
  every content, ties → more recent).
* :class:`Belady` — oracle: it reads the env's drawn future requests (``lookahead_steps``) and ranks
  contents by their discounted future request count ``Σ_k γ^k n_{t+k}`` — Belady's MIN (evict the content
  needed farthest in the future) generalised to batched steps and a fetch budget. Not realisable; an
  upper reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dnt.errors import ConfigError

__all__ = ["CachePolicy", "LRU", "LFU", "Belady", "BASELINES", "covered_requests", "top_slots", "run_policy"]


def covered_requests(env: Any, clients: np.ndarray, contents: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expand requests to (bs, content, arrival index) triples, one per covering BS."""
    cover = env.topo.client_cover[clients]
    idx = np.arange(clients.size)
    bs, cs, ks = [], [], []
    for j in range(2):
        ok = cover[:, j] >= 0
        bs.append(cover[ok, j])
        cs.append(contents[ok])
        ks.append(idx[ok])
    return np.concatenate(bs), np.concatenate(cs), np.concatenate(ks)


def top_slots(priority: np.ndarray, slots: int, eligible: np.ndarray) -> np.ndarray:
    """(B, N) bool: per row, the ``slots`` highest-priority eligible contents (fewer if fewer eligible)."""
    out = np.zeros(priority.shape, dtype=bool)
    for b in range(priority.shape[0]):
        cand = np.flatnonzero(eligible[b])
        if cand.size > slots:
            cand = cand[np.argsort(-priority[b, cand], kind="stable")[:slots]]
        out[b, cand] = True
    return out


class CachePolicy:
    """A per-BS replacement policy: ``reset(env)``, ``decide(env) -> (caches, priority)``, ``observe``."""

    name = "policy"

    def reset(self, env: Any) -> None:
        B, N = env.cfg.n_bs, env.cfg.n_contents
        self.clock = 0
        self.last = np.full((B, N), -1.0)
        self.count = np.zeros((B, N))
        for clients, contents in getattr(env, "warmup_log", []):
            self.observe(env, {"requests_log": (clients, contents)})

    def observe(self, env: Any, info: dict[str, Any]) -> None:
        clients, contents = info["requests_log"]
        bs, cs, ks = covered_requests(env, np.asarray(clients), np.asarray(contents))
        np.maximum.at(self.last, (bs, cs), self.clock + ks.astype(np.float64))
        np.add.at(self.count, (bs, cs), 1.0)
        self.clock += int(np.asarray(clients).size)

    def decide(self, env: Any) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError


class LRU(CachePolicy):
    """Least recently used (see the module docstring)."""

    name = "lru"

    def decide(self, env: Any) -> tuple[np.ndarray, np.ndarray]:
        return top_slots(self.last, env.cfg.slots, self.last >= 0), self.last.copy()


class LFU(CachePolicy):
    """Perfect least frequently used, ties broken by recency (see the module docstring)."""

    name = "lfu"

    def decide(self, env: Any) -> tuple[np.ndarray, np.ndarray]:
        prio = self.count + (self.last + 1.0) / (self.clock + 2.0)  # recency < 1 count
        return top_slots(prio, env.cfg.slots, self.count > 0), prio


class Belady(CachePolicy):
    """Oracle on the drawn future requests (see the module docstring).

    Parameters
    ----------
    gamma : discount of a request ``k`` steps ahead (in (0, 1]).
    """

    name = "belady"

    def __init__(self, gamma: float = 0.7) -> None:
        if not 0.0 < gamma <= 1.0:
            raise ConfigError(f"gamma must be in (0, 1], got {gamma!r}")
        self.gamma = float(gamma)

    def decide(self, env: Any) -> tuple[np.ndarray, np.ndarray]:
        B, N = env.cfg.n_bs, env.cfg.n_contents
        prio = np.zeros((B, N))
        for k, (clients, contents) in enumerate(env.future):
            bs, cs, _ = covered_requests(env, clients, contents)
            np.add.at(prio, (bs, cs), self.gamma ** k)
        prio += 1e-6 * env.cached  # no future use either way: keep what is cached (no fetch)
        return top_slots(prio, env.cfg.slots, prio > 0), prio


BASELINES: dict[str, type[CachePolicy]] = {"lru": LRU, "lfu": LFU, "belady": Belady}


def run_policy(env: Any, policy: CachePolicy, seed: int) -> list[dict[str, Any]]:
    """One episode of ``policy`` on ``env`` (reset with ``seed``); returns the per-step infos."""
    env.reset(seed=seed)
    policy.reset(env)
    infos = []
    done = False
    while not done:
        caches, prio = policy.decide(env)
        _, _, term, trunc, info = env.step_caches(caches, prio)
        policy.observe(env, info)
        infos.append(info)
        done = term or trunc
    return infos

