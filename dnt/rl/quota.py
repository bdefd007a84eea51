"""From an RRM decision to E2SM-RC slice PRB quota controls, fast enough for every 10-minute decision.

:func:`prb_ratios` turns a policy's per-cell slice shares and twin-sync share into RRMPolicyRatio
percentages exactly as :class:`dnt.rl.env.SliceEnv` applies them (``prb_mode="dedicated"``: dedicated =
max ratio = share × user PRBs; ``"min"``: prioritised min ratio, max = all user PRBs).

:class:`QuotaEncoder` encodes those ratios as RC control style 2 action 6 (O-RAN E2SM-RC §7.6.3 /
§8.4.3.6) octets. The reference :func:`dnt.e2.rc.rc_control_style2_action6` builds the RAN-parameter tree
and runs the pycrate APER encoder: about 0.5 ms per cell, so 25 cells take ~13 ms. The tree's shape is
fixed for a given PLMN and slice list, and each ratio is an unconstrained ``valueInt`` in 0..100, which
APER encodes as an octet-aligned length (1) and one value octet: the encoding is a fixed template with one
byte per ratio. The encoder builds the template with the reference encoder, finds the ratio bytes by
encoding each ratio alone, and checks itself against the reference on random ratios before use; the
output is byte-identical to the reference (the tests compare them on many random decisions).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dnt.e2.rc import PlmnId, SlicePrbQuota, UeId, rc_control_style2_action6
from dnt.errors import EncodeError
from dnt.ran.slices import SLICES, SliceSpec

__all__ = ["prb_ratios", "QuotaEncoder"]

_FIELDS = ("min_prb_ratio", "max_prb_ratio", "dedicated_prb_ratio")


def prb_ratios(shares: np.ndarray, sync_share: np.ndarray, sync_mode: np.ndarray, *, capacity: np.ndarray | None = None,
               h_cost_factor: float = 0.4, v_cost_factor: float = 1.0, prb_mode: str = "dedicated") -> np.ndarray:
    """(C, 3 slices, 3) integer percentages ``[min, max, dedicated]`` of each cell's PRBs.

    Parameters
    ----------
    shares : (C, 3)
        Shares of the cell's user PRBs per slice (rows sum to ≤ 1).
    sync_share, sync_mode : (C,)
        The twin sync's capacity share and mapping (1 = horizontal), as :meth:`RrmPolicy.decide` returns them.
    capacity : (C,), optional
        Fraction of the cell's PRBs in service (1 when None).
    h_cost_factor, v_cost_factor : float
        PRBs used per unit sync share (``EnvConfig`` defaults).
    prb_mode : str
        ``dedicated`` or ``min`` (see :class:`dnt.rl.env.EnvConfig`).

    Percentages are floored, so a cell's dedicated ratios never add up to more than its user PRBs.
    """
    s = np.clip(np.nan_to_num(np.asarray(shares, dtype=np.float64)), 0.0, 1.0)
    cap = np.ones(s.shape[0]) if capacity is None else np.clip(np.asarray(capacity, dtype=np.float64), 0.0, 1.0)
    cost = np.where(np.asarray(sync_mode) > 0, h_cost_factor, v_cost_factor) * np.asarray(sync_share, dtype=np.float64)
    user = cap * (1.0 - np.clip(cost, 0.0, 1.0))
    ratio = np.floor(s * user[:, None] * 100.0 + 1e-9).astype(np.int64)
    out = np.zeros((s.shape[0], s.shape[1], 3), dtype=np.int64)
    if prb_mode == "dedicated":
        out[:, :, 1] = ratio
        out[:, :, 2] = ratio
    elif prb_mode == "min":
        out[:, :, 0] = ratio
        out[:, :, 1] = np.floor(user * 100.0 + 1e-9).astype(np.int64)[:, None]
    else:
        raise EncodeError(f"prb_mode must be 'dedicated' or 'min', got {prb_mode!r}")
    return np.clip(out, 0, 100)


class QuotaEncoder:
    """Byte-identical, template-based :func:`rc_control_style2_action6` for one PLMN and slice list.

    Parameters
    ----------
    plmn : PlmnId
        PLMN of every slice's RRM policy member.
    slices : sequence of SliceSpec
        The slices, in the order of the ratio rows (default :data:`dnt.ran.slices.SLICES`).
    ue_id : UeId, optional
        Control header UE id (the reference default when None).
    """

    def __init__(self, plmn: PlmnId, slices: Sequence[SliceSpec] = SLICES, ue_id: UeId | None = None) -> None:
        self.plmn, self.slices, self.ue_id = plmn, tuple(slices), ue_id
        zero = np.zeros((len(self.slices), 3), dtype=np.int64)
        self.header, base = self.reference(zero)
        self._template = bytes(base)
        offsets = np.zeros((len(self.slices), 3), dtype=np.int64)
        for k in range(len(self.slices)):
            for f in range(3):
                probe = zero.copy()
                probe[k, f] = 100
                diff = [i for i, (a, b) in enumerate(zip(base, self.reference(probe)[1], strict=False)) if a != b]
                if len(diff) != 1 or len(self.reference(probe)[1]) != len(base):
                    raise EncodeError("QuotaEncoder: the slice PRB quota encoding is not a fixed template "
                                      f"(ratio {k},{f} changes bytes {diff}); use rc_control_style2_action6")
                offsets[k, f] = diff[0]
        self._offsets = offsets.ravel()
        rng = np.random.default_rng(0)
        for _ in range(3):  # self-check against the reference encoder
            r = rng.integers(0, 101, size=zero.shape)
            if self.encode(r) != self.reference(r):
                raise EncodeError("QuotaEncoder: template output differs from rc_control_style2_action6")

    def quotas(self, ratios: np.ndarray) -> list[SlicePrbQuota]:
        """The :class:`SlicePrbQuota` list of one cell's (3, 3) ``[min, max, dedicated]`` ratios."""
        return [SlicePrbQuota(plmn=self.plmn, sst=s.sst, sd=s.sd, min_prb_ratio=int(r[0]), max_prb_ratio=int(r[1]),
                              dedicated_prb_ratio=int(r[2])) for s, r in zip(self.slices, ratios, strict=True)]

    def reference(self, ratios: np.ndarray) -> tuple[bytes, bytes]:
        """One cell's control via the reference encoder :func:`rc_control_style2_action6`."""
        return rc_control_style2_action6(self.quotas(ratios), ue_id=self.ue_id)

    def encode(self, ratios: np.ndarray) -> tuple[bytes, bytes]:
        """One cell's ``(header octets, message octets)`` for (3, 3) integer ratios in 0..100."""
        r = np.asarray(ratios).ravel()
        if r.shape != self._offsets.shape or r.min() < 0 or r.max() > 100:
            raise EncodeError(f"slice PRB quota: need {self._offsets.size // 3}×3 integer ratios in 0..100, "
                              f"got {np.asarray(ratios).tolist()}")
        msg = bytearray(self._template)
        for off, v in zip(self._offsets.tolist(), r.tolist(), strict=True):
            msg[off] = v
        return self.header, bytes(msg)

    def encode_cells(self, ratios: np.ndarray) -> list[tuple[bytes, bytes]]:
        """One control per cell of (C, 3, 3) ratios."""
        return [self.encode(r) for r in np.asarray(ratios)]
