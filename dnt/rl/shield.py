"""Safety shield for per-slice PRB shares, and the Lagrange multiplier that prices its interventions.

**Shield.** A policy proposes, per cell, the shares (C, 3) of the cell's *user* PRBs (what is left after
twin synchronisation and outages) that each slice gets. The safe set is

* every slice gets at least its SLA-floor PRBs, in fractions of the cell's nominal PRBs:

  - ``floor="forecast"`` (default): ``floor_s = min(forecast_s·(1 + margin), g_s)``, the forecast need
    (with a margin) up to the slice's guaranteed ratio ``g_s``. Only as safe as the forecast: an
    unforecast flash crowd can push a slice's demand above its floor and violate its SLA;
  - ``floor="guaranteed"`` (worst case): ``floor_s = g_s`` whatever the forecast. Meant for
    prioritised *min* ratios (TS 28.541 RRMPolicyRatio ``rRMPolicyMinRatio``, ``prb_mode="min"`` of
    :class:`~dnt.rl.env.SliceEnv`, the RRM xApp's default): a slice whose min ratio covers ``g_s`` gets
    ``min(demand, g_s·PRBs)`` first whatever the other slices do, and the PRBs it does not use are
    shared (:func:`dnt.ran.capacity.allocate_prbs`), so the worst-case floor costs nothing when the
    slice is idle. With dedicated (hard) ratios the same floor would hold the SLA too, but idle floor
    PRBs would be wasted;
* the shares are non-negative and add up to at most 1, so no cell is allocated beyond its capacity;
* ``floor="guaranteed"`` also bounds the twin synchronisation's PRB reservation
  (:meth:`SafetyShield.max_sync_cost`) so the user PRBs left always cover ``Σ g_s``: the floors then
  never need scaling down in a live cell.

:meth:`SafetyShield.project` maps a proposal into that set: negative or NaN shares become 0, each share
is raised to its floor, and any excess over 1 is taken back from the slices above their floor, in
proportion to their headroom (shares already safe are left untouched). When the floors alone exceed
the available capacity (a cell with most of its PRBs out of service) they are scaled down to fill it:
the best that can be done. A cell counts as an *intervention* only when a share moved by more than
``tol``. This is the "shielding" pattern of Alshiekh et al., "Safe Reinforcement Learning via
Shielding", AAAI 2018: the shield sits between the policy and the plant.

**Lagrangian.** With the shield in the loop the learner sees ``reward − λ·interventions`` and λ follows
dual ascent on the constraint ``E[interventions] ≤ d`` (the CMDP Lagrangian of Altman 1999, as in
Tessler et al., "Reward Constrained Policy Optimization", ICLR 2019):
``λ ← max(0, λ + η·(Ĵ_c − d))``.
"""

from __future__ import annotations

import numpy as np

from dnt.errors import ConfigError
from dnt.ran.slices import SLICES

__all__ = ["SafetyShield", "LagrangeMultiplier"]

_MIN_CAPACITY = 1e-9


class SafetyShield:
    """Projects proposed slice shares onto the SLA-floor / capacity safe set.

    Parameters
    ----------
    guaranteed_ratio : (3,) fraction (0..1) of a cell's nominal PRBs guaranteed to each slice; must add
        up to at most 1.
    margin : relative head-room (≥ 0) added to the forecast need before it is compared with the guarantee.
    tol : a share that moves by more than this counts as an intervention.
    floor : ``"forecast"`` (floors from the forecast, capped at the guarantee) or ``"guaranteed"`` (the
        worst case: every slice's full guarantee, whatever the forecast; see the module docstring).
    """

    FLOORS = ("forecast", "guaranteed")

    def __init__(self, guaranteed_ratio: tuple[float, ...] = (0.3, 0.15, 0.05), margin: float = 0.1,
                 tol: float = 1e-6, floor: str = "forecast") -> None:
        g = np.asarray(guaranteed_ratio, dtype=np.float64)
        if g.shape != (len(SLICES),) or not np.all(np.isfinite(g)) or g.min() < 0 or g.sum() > 1 + 1e-12:
            raise ConfigError(f"guaranteed_ratio needs {len(SLICES)} fractions ≥ 0 adding up to ≤ 1, "
                              f"got {guaranteed_ratio}")
        if not np.isfinite(margin) or margin < 0:
            raise ConfigError(f"shield margin must be finite and ≥ 0, got {margin!r}")
        if not tol > 0:
            raise ConfigError(f"shield tol must be > 0, got {tol!r}")
        if floor not in self.FLOORS:
            raise ConfigError(f"shield floor must be one of {self.FLOORS}, got {floor!r}")
        self.floor = floor
        self.guaranteed = g
        self.margin = float(margin)
        self.tol = float(tol)

    def floors(self, forecast_load: np.ndarray, capacity: np.ndarray) -> np.ndarray:
        """(C, 3) minimum shares of the user PRBs.

        Parameters
        ----------
        forecast_load : (C, 3) forecast need of each slice as a fraction of the cell's nominal PRBs (≥ 0);
            not used with ``floor="guaranteed"`` (but its shape is checked).
        capacity : (C,) user PRBs as a fraction of the nominal PRBs (≤ 1e-9: out of service, no floors).
        """
        fc = np.maximum(np.nan_to_num(np.asarray(forecast_load, dtype=np.float64)), 0.0)
        cap = np.clip(np.nan_to_num(np.asarray(capacity, dtype=np.float64)), 0.0, 1.0)
        if fc.ndim != 2 or fc.shape[1] != len(SLICES) or cap.shape != fc.shape[:1]:
            raise ConfigError(f"forecast_load must be (C, {len(SLICES)}) and capacity (C,), "
                              f"got {fc.shape} and {cap.shape}")
        if self.floor == "guaranteed":
            need = np.broadcast_to(self.guaranteed[None, :], fc.shape)
        else:
            need = np.minimum(fc * (1.0 + self.margin), self.guaranteed[None, :])
        live = cap > _MIN_CAPACITY  # below this a cell is out of service: no floors
        share = np.where(live[:, None], need / np.where(live, cap, 1.0)[:, None], 0.0)
        total = share.sum(axis=1, keepdims=True)
        return np.where(total > 1.0, share / np.maximum(total, 1e-300), share)

    def max_sync_cost(self, capacity: np.ndarray) -> np.ndarray:
        """(C,) largest fraction of a cell's nominal PRBs the twin sync may reserve with ``floor="guaranteed"``.

        ``capacity`` (C,) is the fraction of the cell's PRBs in service. The user PRBs
        ``capacity·(1 − sync_cost)`` must cover the guarantees ``Σ g_s``, so ``sync_cost ≤ 1 − Σ g / capacity``
        (0 when even the whole cell cannot cover them). Out-of-service cells (≤ 1e-9) have no floors: 1.
        With ``floor="forecast"`` the sync is not bounded (1 everywhere).
        """
        cap = np.clip(np.nan_to_num(np.asarray(capacity, dtype=np.float64)), 0.0, 1.0)
        if self.floor != "guaranteed":
            return np.ones_like(cap)
        live = cap > _MIN_CAPACITY
        limit = 1.0 - self.guaranteed.sum() / np.where(live, cap, 1.0)
        return np.where(live, np.clip(limit, 0.0, 1.0), 1.0)

    def project(self, shares: np.ndarray, forecast_load: np.ndarray,
                capacity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Safe shares and the per-cell intervention flags.

        Parameters
        ----------
        shares : (C, 3) proposed shares of each cell's user PRBs.
        forecast_load, capacity : as in :meth:`floors`.

        Returns
        -------
        safe : (C, 3) shares ≥ the floors, ≥ 0, each row adding up to ≤ 1.
        intervened : (C,) bool, True where some share moved by more than ``tol``.
        """
        proposed = np.asarray(shares, dtype=np.float64)
        floor = self.floors(forecast_load, capacity)
        if proposed.shape != floor.shape:
            raise ConfigError(f"shares must be {floor.shape}, got {proposed.shape}")
        safe = np.maximum(np.maximum(np.nan_to_num(proposed, nan=0.0, posinf=1.0, neginf=0.0), 0.0), floor)
        excess = safe.sum(axis=1) - 1.0
        head = safe - floor
        room = head.sum(axis=1)
        with np.errstate(over="ignore"):  # a denormal headroom: the cut saturates at 1
            cut = np.where((excess > 0) & (room > 0), np.minimum(excess / np.where(room > 0, room, 1.0), 1.0), 0.0)
        safe = safe - head * cut[:, None]
        intervened = np.abs(safe - np.nan_to_num(proposed, nan=np.inf)).max(axis=1) > self.tol
        return safe, intervened


    def filter(self, obs: dict[str, np.ndarray], action: np.ndarray, *, max_sync_share: float = 0.1,
               h_cost_factor: float = 0.4, v_cost_factor: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """Shield a :class:`~dnt.rl.env.SliceEnv` action given its observation (the xApp-side interface).

        Reads the forecast and outage columns of ``obs["nodes"]``, decodes the action's slice logits and
        sync share like the env (pass the env's ``max_sync_share`` and cost factors), projects the shares
        and re-encodes them as logits; the mapping column is left as it is, and so is the sync column except
        with ``floor="guaranteed"``, where a sync share above :meth:`max_sync_cost` is lowered to it (as the
        env does).

        Returns
        -------
        safe_action : (N, 5) float32.
        vetoed : (N,) bool, True where the shield changed the cell's shares (False on padding rows).
        """
        from dnt.rl.env import ACTION_BOUND, NODE_FEATURES  # the env imports this module

        nodes = np.asarray(obs["nodes"], dtype=np.float64)
        a = np.asarray(action, dtype=np.float64)
        if a.ndim != 2 or a.shape[1] != 5 or a.shape[0] != nodes.shape[0]:
            raise ConfigError(f"action must be ({nodes.shape[0]}, 5) for this observation, got {a.shape}")
        n = int(np.asarray(obs["mask"]).sum()) if "mask" in obs else nodes.shape[0]
        x, act = nodes[:n], np.clip(np.nan_to_num(a[:n]), -ACTION_BOUND, ACTION_BOUND)
        fc = x[:, [NODE_FEATURES.index(f"forecast_{sl.name}") for sl in SLICES]]
        live = 1.0 - x[:, NODE_FEATURES.index("outage")]
        z = np.exp(act[:, :3] - act[:, :3].max(axis=1, keepdims=True))
        shares = z / z.sum(axis=1, keepdims=True)
        factor = np.where(act[:, 3] > 0, h_cost_factor, v_cost_factor)
        sync = max_sync_share / (1.0 + np.exp(-act[:, 4])) * factor
        limit = self.max_sync_cost(live)
        sync_hit = sync > limit + self.tol
        sync = np.minimum(sync, limit)
        safe, hit = self.project(shares, fc, live * (1.0 - sync))
        out = np.asarray(action, dtype=np.float32).copy()
        logits = np.log(np.maximum(safe, 1e-12))
        out[:n, :3] = np.clip(logits - logits.max(axis=1, keepdims=True), -ACTION_BOUND, ACTION_BOUND)
        if sync_hit.any():
            q = np.clip(sync / np.maximum(factor * max_sync_share, 1e-300), 1e-6, 1 - 1e-6)
            out[:n, 4] = np.where(sync_hit, np.clip(np.log(q / (1 - q)), -ACTION_BOUND, ACTION_BOUND), out[:n, 4])
            hit = hit | sync_hit
        out[:n] = np.where(hit[:, None], out[:n], np.asarray(action, dtype=np.float32)[:n])
        vetoed = np.zeros(nodes.shape[0], dtype=bool)
        vetoed[:n] = hit
        return out, vetoed


class LagrangeMultiplier:
    """Dual-ascent multiplier ``λ ← max(0, λ + lr·(observed − limit))``.

    Parameters
    ----------
    limit : the constraint's budget ``d`` (same unit as the observed cost, e.g. interventions per step).
    lr : dual step size ``η`` (> 0).
    init : starting λ (≥ 0).
    max_value : optional cap on λ (keeps the penalised reward bounded).
    """

    def __init__(self, limit: float, lr: float = 0.01, init: float = 0.0, max_value: float | None = None) -> None:
        if not np.isfinite(limit) or limit < 0:
            raise ConfigError(f"Lagrangian limit must be finite and ≥ 0, got {limit!r}")
        if not np.isfinite(lr) or lr <= 0:
            raise ConfigError(f"Lagrangian lr must be finite and > 0, got {lr!r}")
        if not np.isfinite(init) or init < 0:
            raise ConfigError(f"Lagrangian init must be finite and ≥ 0, got {init!r}")
        if max_value is not None and not max_value >= init:
            raise ConfigError(f"Lagrangian max_value must be ≥ init ({init}), got {max_value!r}")
        self.limit = float(limit)
        self.lr = float(lr)
        self.max_value = max_value
        self.value = float(init)

    def update(self, observed_cost: float) -> float:
        """One dual step with the mean observed constraint cost Ĵ_c; returns the new λ."""
        if not np.isfinite(observed_cost):
            raise ConfigError(f"observed constraint cost must be finite, got {observed_cost!r}")
        lam = max(0.0, self.value + self.lr * (float(observed_cost) - self.limit))
        self.value = lam if self.max_value is None else min(lam, float(self.max_value))
        return self.value

    def penalise(self, reward: np.ndarray | float, cost: np.ndarray | float) -> np.ndarray | float:
        """``reward − λ·cost`` with the current λ."""
        return reward - self.value * cost

    def __float__(self) -> float:
        return self.value

    def __repr__(self) -> str:
        return f"LagrangeMultiplier(value={self.value:.4g}, limit={self.limit}, lr={self.lr})"
