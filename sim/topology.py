"""Who is who in the simulated RAN: gNBs (E2 nodes) own square blocks of the Milan grid, one cell per square.

Identities follow the conventions the RIC side relies on:

* PLMN: MCC/MNC digits (:class:`dnt.e2.PlmnId`, BCD on the wire as TS 38.413 §9.3.3.5);
* gNB ID: 22 bits, ``gnb_id_base + gNB index``; the RAN name e2term builds from it is
  ``gnb_<mcc>_<mnc>_<gnbId hex>`` (:func:`dnt.e2.ran_name`, e.g. ``gnb_001_001_000001``);
* NR cell identity (36 bits, TS 38.413 §9.3.1.7) = gNB ID (22 bits) ‖ local cell id (14 bits), and the
  local cell id *is* the Milan square id (1..10000 < 2^14), so an NCI names its square and its gNB.

gNB index ``g`` owns the ``block × block`` squares of :func:`dnt.data.grid.gnb_cells` (row-major blocks from
the south-west corner); with the default block of 5 the grid holds 400 gNBs of 25 cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dnt.data import grid
from dnt.e2 import e2ap
from dnt.e2.e2ap_ies import E2nodeGnb, PlmnId
from dnt.e2.rc_ueid import UeIdGnb, UeIdGnbDu
from dnt.errors import ConfigError

__all__ = ["GNB_ID_BITS", "CELL_ID_BITS", "ALL_CELLS", "TopologyConfig", "Gnb", "Topology", "nci", "split_nci",
           "nearest_gnbs", "control_target", "target_cells"]

GNB_ID_BITS = 22
CELL_ID_BITS = 36 - GNB_ID_BITS


@dataclass(frozen=True)
class TopologyConfig:
    """Which gNBs the simulator runs and how they are named."""

    block: int = 5
    """Cells per side of a gNB's square block (divides 100): 5 → 25 cells per gNB, 400 gNBs on the grid."""
    n_gnbs: int = 4
    """Number of gNBs, those whose blocks lie nearest ``centre_cell`` (ignored when ``gnbs`` is set)."""
    gnbs: tuple[int, ...] | None = None
    """Explicit gNB indices (0 .. (100/block)^2 - 1); overrides ``n_gnbs``."""
    centre_cell: int = 5161
    """Square the ``n_gnbs`` nearest blocks are chosen around (5161 is by the Duomo)."""
    mcc: str = "001"
    """Mobile country code, 3 digits."""
    mnc: str = "01"
    """Mobile network code, 2 or 3 digits."""
    gnb_id_base: int = 1
    """gNB ID of gNB index 0; gNB index g gets ``gnb_id_base + g`` (22 bits)."""

    def __post_init__(self) -> None:
        if isinstance(self.block, bool) or not isinstance(self.block, int) or self.block < 1 or 100 % self.block:
            raise ConfigError(f"topology.block must be a divisor of 100, got {self.block!r}")
        if self.gnbs is None:
            if not 1 <= self.n_gnbs <= self.max_gnbs:
                raise ConfigError(f"topology.n_gnbs must be in 1..{self.max_gnbs} for block {self.block}, "
                                  f"got {self.n_gnbs}")
        else:
            ids = tuple(int(g) for g in self.gnbs)
            if not ids or len(set(ids)) != len(ids) or min(ids) < 0 or max(ids) >= self.max_gnbs:
                raise ConfigError(f"topology.gnbs must be distinct indices in 0..{self.max_gnbs - 1}, got {self.gnbs}")
            object.__setattr__(self, "gnbs", ids)
        if not 1 <= self.centre_cell <= grid.N_CELLS:
            raise ConfigError(f"topology.centre_cell must be in 1..{grid.N_CELLS}, got {self.centre_cell}")
        if len(self.mcc) != 3 or not self.mcc.isdigit():
            raise ConfigError(f"topology.mcc must be 3 digits, got {self.mcc!r}")
        if len(self.mnc) not in (2, 3) or not self.mnc.isdigit():
            raise ConfigError(f"topology.mnc must be 2 or 3 digits, got {self.mnc!r}")
        if not 0 <= self.gnb_id_base or self.gnb_id_base + self.max_gnbs > 1 << GNB_ID_BITS:
            raise ConfigError(f"topology.gnb_id_base must keep gNB IDs within {GNB_ID_BITS} bits, "
                              f"got {self.gnb_id_base}")

    @property
    def max_gnbs(self) -> int:
        return (grid.N_ROWS // self.block) * (grid.N_COLS // self.block)


def nci(gnb_id: int, square_id: int) -> int:
    """36-bit NR cell identity of square ``square_id`` on gNB ``gnb_id``."""
    return (gnb_id << CELL_ID_BITS) | square_id


def split_nci(value: int) -> tuple[int, int]:
    """(gNB ID, square id) of an NR cell identity."""
    return value >> CELL_ID_BITS, value & ((1 << CELL_ID_BITS) - 1)


@dataclass(frozen=True)
class Gnb:
    """One simulated E2 node."""

    index: int
    """gNB index on the block grid."""
    gnb_id: int
    """22-bit gNB ID."""
    mcc: str
    mnc: str
    cells: tuple[int, ...]
    """Milan square ids served, sorted (one cell each)."""
    _nci_to_cell: dict[int, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._nci_to_cell.update({nci(self.gnb_id, c): c for c in self.cells})

    @property
    def plmn(self) -> PlmnId:
        return PlmnId(self.mcc, self.mnc)

    @property
    def global_id(self) -> E2nodeGnb:
        """GlobalE2node-ID of the E2 setup request."""
        return E2nodeGnb.build(self.mcc, self.mnc, self.gnb_id, GNB_ID_BITS)

    @property
    def ran_name(self) -> str:
        """e2term's RAN name (:func:`dnt.e2.e2ap.ran_name`), e.g. ``gnb_001_001_000001``."""
        return e2ap.ran_name(self.global_id)

    def nci(self, square_id: int) -> int:
        return nci(self.gnb_id, square_id)

    def cell_of_nci(self, value: int) -> int | None:
        """The square id of one of this gNB's cells, or None for a foreign NCI."""
        return self._nci_to_cell.get(value)


class Topology:
    """The simulated gNBs and their cells."""

    def __init__(self, cfg: TopologyConfig | None = None) -> None:
        self.cfg = cfg or TopologyConfig()
        indices = self.cfg.gnbs if self.cfg.gnbs is not None else nearest_gnbs(self.cfg)
        self.gnbs: tuple[Gnb, ...] = tuple(
            Gnb(g, self.cfg.gnb_id_base + g, self.cfg.mcc, self.cfg.mnc,
                tuple(int(c) for c in grid.gnb_cells(g, self.cfg.block)))
            for g in sorted(indices))
        self._by_id = {g.gnb_id: g for g in self.gnbs}

    @property
    def cell_ids(self) -> np.ndarray:
        """All simulated square ids, sorted."""
        return np.sort(np.concatenate([np.asarray(g.cells) for g in self.gnbs]))

    @property
    def n_cells(self) -> int:
        return sum(len(g.cells) for g in self.gnbs)

    def gnb_by_id(self, gnb_id: int) -> Gnb | None:
        return self._by_id.get(gnb_id)


def nearest_gnbs(cfg: TopologyConfig) -> list[int]:
    """The ``cfg.n_gnbs`` gNB indices whose block centres lie nearest ``cfg.centre_cell`` (ties by index)."""
    per_row = grid.N_COLS // cfg.block
    g = np.arange(cfg.max_gnbs)
    centre_r = (g // per_row) * cfg.block + (cfg.block - 1) / 2
    centre_c = (g % per_row) * cfg.block + (cfg.block - 1) / 2
    (r0,), (c0,) = grid.cell_to_rc(cfg.centre_cell)
    dist = (centre_r - r0) ** 2 + (centre_c - c0) ** 2
    order = np.lexsort((g, dist))
    return sorted(int(x) for x in order[:cfg.n_gnbs])


# -- E2SM-RC control targets -----------------------------------------------------------------------------
# E2SM-RC control header format 1 names a UE, not a cell; slice PRB quotas (style 2 action 6) apply to the
# E2 node. Project convention, wire-compatible with srsRAN's sender: the header's gNB-DU-UEID F1AP id 0
# means every cell of the node, any other value the cell with that local cell id (= Milan square id).
ALL_CELLS = 0


def control_target(square_id: int | None) -> UeIdGnbDu:
    """The control header UEID that targets one cell (None: every cell of the node)."""
    return UeIdGnbDu(ALL_CELLS if square_id is None else int(square_id))


def target_cells(gnb: Gnb, ue_id: object) -> tuple[int, ...] | None:
    """Cells a control with header UEID ``ue_id`` applies to; None when it names no cell of ``gnb``."""
    if not isinstance(ue_id, UeIdGnbDu):
        return gnb.cells if isinstance(ue_id, UeIdGnb) else None
    if ue_id.cu_ue_f1ap_id == ALL_CELLS:
        return gnb.cells
    return (ue_id.cu_ue_f1ap_id,) if ue_id.cu_ue_f1ap_id in gnb.cells else None
