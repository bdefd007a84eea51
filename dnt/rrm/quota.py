"""Slice shares → PRB quotas that respect the safety thresholds → E2SM-RC slice PRB quota controls.

A decision (policy or heuristic) is a share per slice of each cell's user PRBs, summing to 1.
:func:`quota_ratios` turns it into the three RRM policy ratios of every slice (TS 28.541 RRMPolicyRatio,
percent of the cell's PRBs; how the simulator serves them: :mod:`dnt.ran.capacity`):

1. the target ratio is ``share x user x 100`` as :class:`dnt.rl.env.SliceEnv` applies it, where ``user`` is
   the fraction of PRBs the twin synchronisation leaves (:func:`user_fraction`; 1 without sync);
2. the safety layer (the ``dnt-rrm`` policy's thresholds) projects the targets like
   :class:`dnt.rl.shield.SafetyShield`: each slice is raised to its SLA floor; when the ratios then exceed
   the guaranteed budget ``100 x max_cell_load`` (and the user PRBs), the excess is taken back from the
   slices above their floor in proportion to their headroom. Ratios already safe are left alone; integer
   percent, never below a floor, the sum never above the budget (≤ 100);
3. ``prb_mode="min"`` (default): the ratio is the slice's **min** (prioritised) ratio, **max** =
   ``min(100, min + max_headroom_prb_ratio)`` (100: idle PRBs go to any slice), **dedicated** 0;
   ``prb_mode="dedicated"`` (the env's default hard slicing): dedicated = max = the ratio, min 0.

:func:`proportional_shares` is the fallback decision: shares proportional to the predicted load (the twin's
eMBB forecast, the current load of the other slices, or the current load of every slice without a forecast).
:func:`control_request` encodes one cell's quotas as a RIC CONTROL REQUEST (E2SM-RC style 2 action 6; the
header's gNB-DU UEID F1AP id names the cell, the project's convention, ``sim.topology.control_target``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dnt.e2 import fastpath_control, rc
from dnt.e2.e2ap_ies import PlmnId, RicRequestId
from dnt.e2.e2ap_types import RICcontrolRequest
from dnt.ran.slices import SLICES

__all__ = ["Ratios", "MAX_SYNC_SHARE", "H_COST_FACTOR", "V_COST_FACTOR", "proportional_shares", "user_fraction",
           "quota_ratios", "control_request", "changed"]

Ratios = tuple[tuple[int, int, int], ...]
"""Per slice (SLICES order): (min, max, dedicated) PRB ratio, percent."""
MAX_SYNC_SHARE, H_COST_FACTOR, V_COST_FACTOR = 0.1, 0.4, 1.0
"""The env's twin sync model (``EnvConfig.max_sync_share``, ``h_cost_factor``, ``v_cost_factor``)."""


def proportional_shares(predicted: np.ndarray) -> np.ndarray:
    """(C, S) shares proportional to ``predicted`` (C, S) loads; equal shares for a cell with no load."""
    p = np.nan_to_num(np.asarray(predicted, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    p = np.maximum(p, 0.0)
    total = p.sum(axis=-1, keepdims=True)
    equal = np.full_like(p, 1.0 / p.shape[-1])
    return np.where(total > 0, p / np.where(total > 0, total, 1.0), equal)


def user_fraction(sync_mode: float, sync_share: float) -> float:
    """Fraction of a cell's PRBs left to the users by the twin sync the policy chose (the env's model).

    ``sync_share`` is the policy's output in [0, 1] (a fraction of the env's ``max_sync_share``); the sync
    uses ``max_sync_share x sync_share x cost`` of the PRBs, ``cost`` = ``h_cost_factor`` for horizontal
    mapping (``sync_mode`` 1), ``v_cost_factor`` for vertical (``EnvConfig`` defaults, tested equal).
    """
    cost = H_COST_FACTOR if sync_mode > 0 else V_COST_FACTOR
    q = min(max(float(np.nan_to_num(sync_share)), 0.0), 1.0)
    return 1.0 - MAX_SYNC_SHARE * q * cost


def quota_ratios(shares: Sequence[float], floors: Sequence[int], max_cell_load: float,
                 max_headroom_prb_ratio: int = 100, prb_mode: str = "min", user: float = 1.0) -> Ratios:
    """One cell's (min, max, dedicated) ratios per slice from its ``shares`` (see the module docstring).

    Parameters
    ----------
    shares : (S,) non-negative shares of the user PRBs (normalised here; all zero or invalid → equal).
    floors : (S,) SLA floor of each slice's ratio, percent; ``sum(floors) <= 100 x max_cell_load``.
    max_cell_load : fraction of the PRBs the ratios may add up to, in (0, 1].
    max_headroom_prb_ratio : ``prb_mode="min"``: how far above its min a slice may grow, percent (100 = no cap).
    prb_mode : ``"min"`` (prioritised min ratios, idle PRBs shared) or ``"dedicated"`` (hard slicing: dedicated
        = max = the ratio, idle PRBs are not lent).
    user : fraction of the PRBs left to the users (:func:`user_fraction`).
    """
    lo = np.asarray(floors, dtype=np.float64)
    budget = max(float(int(100 * min(max_cell_load, user) + 1e-9)), float(lo.sum()))  # the floors come first
    w = proportional_shares(np.asarray(shares, dtype=np.float64)[None, :])[0]
    r = np.maximum(w * 100.0 * user, lo)
    excess = r.sum() - budget
    if excess > 1e-9:
        room = r - lo
        r = r - excess * room / room.sum()
    extra = np.maximum(r - lo, 0.0)
    base = np.floor(extra + 1e-9)
    for i in np.argsort(-(extra - base), kind="stable")[:max(int(round(extra.sum() - base.sum())), 0)]:
        base[i] += 1  # largest remainders: integer ratios that add up to the rounded total (≤ the budget)
    ratios = (lo + base).astype(np.int64)
    if prb_mode == "dedicated":
        return tuple((0, int(m), int(m)) for m in ratios)
    return tuple((int(m), int(min(100, m + max_headroom_prb_ratio)), 0) for m in ratios)


def changed(old: Ratios | None, new: Ratios, min_change_prb_ratio: int) -> bool:
    """True when ``new`` differs from ``old`` by at least ``min_change_prb_ratio`` in some ratio."""
    if old is None or len(old) != len(new):
        return True
    return any(abs(a - b) >= max(min_change_prb_ratio, 1) for o, n in zip(old, new, strict=True)
               for a, b in zip(o, n, strict=True))


def control_request(plmn: PlmnId, cell: int, ratios: Ratios, *, requestor_id: int, instance_id: int,
                    ran_function_id: int) -> bytes:
    """The RIC CONTROL REQUEST (E2AP bytes, ack requested) setting every slice's ratios of ``cell``."""
    quotas = [rc.SlicePrbQuota(plmn=plmn, sst=s.sst, sd=s.sd, min_prb_ratio=mn, max_prb_ratio=mx,
                               dedicated_prb_ratio=ded) for s, (mn, mx, ded) in zip(SLICES, ratios, strict=True)]
    header, message = rc.control_slice_prb_quota(quotas, ue_id=rc.UeIdGnbDu(int(cell)))
    req = RICcontrolRequest(request_id=RicRequestId(requestor_id, instance_id), ran_function_id=ran_function_id,
                            header=header, message=message, ack_request="ack")
    return fastpath_control.encode_control_request(req)
