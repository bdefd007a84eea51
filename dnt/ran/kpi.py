"""Per-cell, per-slice KPIs from E2SM-KPM reports, and the per-cell KPM subscriptions that produce them.

The project's KPM convention (``sim/README.md``, "KPM measurements"): measurements are addressed by name
with the label ``noLabel``; a per-slice value is the TS 28.552 S-NSSAI **subcounter**
``<name>.<SST>-<SD as 6 hex digits>`` (``DRB.UEThpDl.1-000001`` = eMBB); the name without a suffix is
the cell total. Cells: an NR cell identity is the gNB ID (22 bits) followed by the 14-bit local cell id,
which is the Milan square id; gNB ``gnb_id`` owns the squares of block ``gnb_id - gnb_id_base``
(:func:`dnt.data.grid.gnb_cells`).

:func:`kpi_record` turns one decoded report into the JSON record xApps keep in SDL::

    {"cell": 5161, "ran_name": "gnb_001_001_0000d3", "time_ms": ..., "sn": 7,
     "cell_kpis": {"DRB.UEThpDl": 81234, "RRU.PrbAvailDl": 106, ...},
     "slices": {"embb": {"DRB.UEThpDl": 80000, ...}, "voice": {...}, "messaging": {...}}}
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from dnt.data import grid
from dnt.e2 import fastpath, kpm
from dnt.e2.e2ap_ies import PlmnId, RicAction
from dnt.e2.kpm_types import KPM_OID, KpmIndicationMessage, MeasValue, NrCgi
from dnt.e2.rnib import NodebInfo
from dnt.errors import DataError, DecodeError
from dnt.ran.slices import SLICES, slice_by_snssai

__all__ = ["CELL_ID_BITS", "MAX_ACTIONS", "cell_nci", "node_cells", "split_measurement", "kpm_cell_actions",
           "kpi_record", "CellKpmSubscriptions"]

logger = logging.getLogger(__name__)

CELL_ID_BITS = 14
"""Bits of the local cell id in a 36-bit NR cell identity (the gNB ID takes the other 22)."""
MAX_ACTIONS = 16
"""E2AP ``maxofRICactionID``: actions (here: cells) per RIC subscription."""


def cell_nci(gnb_id: int, square: int) -> int:
    """36-bit NR cell identity of Milan square ``square`` served by gNB ``gnb_id``."""
    return (gnb_id << CELL_ID_BITS) | square


def node_cells(gnb_id: int, *, gnb_id_base: int = 1, block: int = 5) -> tuple[int, ...]:
    """The Milan squares (cells) a gNB serves under the project's naming convention.

    Raises
    ------
    DataError
        ``gnb_id - gnb_id_base`` is not a block index of the grid (a node not named by the convention).
    """
    return tuple(int(c) for c in grid.gnb_cells(gnb_id - gnb_id_base, block))


def split_measurement(name: str) -> tuple[str, str | None]:
    """``("DRB.UEThpDl", "embb")`` for ``"DRB.UEThpDl.1-000001"``; ``(name, None)`` for a cell total."""
    base, dot, suffix = name.rpartition(".")
    sst, dash, sd = suffix.partition("-")
    if not dot or not dash or not sst.isdigit() or len(sd) != 6:
        return name, None
    try:
        return base, SLICES[slice_by_snssai(int(sst), int(sd, 16))].name
    except (ValueError, DataError):
        return name, None


def kpm_cell_actions(plmn: PlmnId, gnb_id: int, cells: Sequence[int], meas_names: Sequence[str],
                     granul_period_ms: int) -> list[tuple[tuple[RicAction, ...], dict[int, int]]]:
    """REPORT actions for per-cell KPM reports, grouped ≤ 16 per subscription.

    Returns
    -------
    list of (actions, square by action id)
        One entry per subscription to make; action ids run from 1 in each.
    """
    out = []
    for k in range(0, len(cells), MAX_ACTIONS):
        chunk = list(cells[k:k + MAX_ACTIONS])
        actions = tuple(
            RicAction(i + 1, "report", kpm.encode_action_definition(kpm.KpmActionDefinition(
                tuple(meas_names), granul_period_ms, NrCgi(plmn, cell_nci(gnb_id, sq)))))
            for i, sq in enumerate(chunk))
        out.append((actions, {i + 1: sq for i, sq in enumerate(chunk)}))
    return out


def kpi_record(msg: KpmIndicationMessage | Mapping[str, MeasValue], *, cell: int, ran_name: str,
               time_ms: int | None = None, sn: int | None = None, **extra: Any) -> dict[str, Any]:
    """The KPI record of one cell report (the last record of ``msg``), JSON-ready.

    Parameters
    ----------
    msg : KpmIndicationMessage or mapping
        A decoded KPM indication message with its ``measInfoList``, or values by name.
    cell : int
        The Milan square the report is about.
    ran_name : str
        The E2 node that sent it.
    time_ms, sn : int or None
        Collection start time (Unix ms, from the indication header) and RIC indication SN.
    **extra
        Further top-level fields (e.g. ``updated_ms``).
    """
    values = msg.named() if isinstance(msg, KpmIndicationMessage) else dict(msg)
    cell_kpis: dict[str, MeasValue] = {}
    slices: dict[str, dict[str, MeasValue]] = {}
    for name, value in values.items():
        base, slice_name = split_measurement(name)
        if slice_name is None:
            cell_kpis[name] = value
        else:
            slices.setdefault(slice_name, {})[base] = value
    return {"cell": int(cell), "ran_name": ran_name, "time_ms": time_ms, "sn": sn, "cell_kpis": cell_kpis,
            "slices": slices, **extra}


@functools.lru_cache(maxsize=4096)
def _header_ms(header: bytes) -> int:
    return kpm.decode_indication_header(header).unix_ms


class CellKpmSubscriptions:
    """Per-cell KPM report subscriptions of E2 nodes, and the KPI records of their indications.

    Parameters
    ----------
    meas_names : sequence of str
        Measurements of every report.
    period_ms : int
        Reporting period (event trigger format 1) and granularity period.
    gnb_id_base, block : int
        The cell naming convention (:func:`node_cells`).

    Notes
    -----
    ``subscribe`` goes through ``Runtime.subscribe``, which finds a persisted identical subscription
    instead of making a new one, so calling it again after an xApp restart recovers the sub ids.
    Thread-safe: one thread may subscribe while the dispatch thread decodes.
    """

    def __init__(self, meas_names: Sequence[str], period_ms: int, *, gnb_id_base: int = 1, block: int = 5) -> None:
        self.meas_names = tuple(meas_names)
        self.period_ms = period_ms
        self.gnb_id_base, self.block = gnb_id_base, block
        self._trigger = kpm.encode_event_trigger(kpm.KpmEventTrigger(period_ms))
        self._subs: dict[int, tuple[str, dict[int, int]]] = {}
        self._nodes: set[str] = set()
        self._lock = threading.Lock()

    @property
    def nodes(self) -> set[str]:
        """RAN names whose cells are subscribed."""
        with self._lock:
            return set(self._nodes)

    @property
    def sub_ids(self) -> list[int]:
        with self._lock:
            return sorted(self._subs)

    def subscribe(self, rt: Any, node: NodebInfo) -> int:
        """Subscribe every cell of ``node`` (≤ 16 per subscription); returns how many subscriptions it holds.

        Raises
        ------
        DataError
            The node has no KPM RAN function or is not named by the cell convention.
        TransportError
            submgr or the node refused (``SubscriptionError``), or the runtime is detached.
        """
        func = node.ran_function(KPM_OID)
        if func is None or node.plmn is None or node.nb_id is None:
            raise DataError(f"E2 node {node.ran_name} has no KPM RAN function or no gNB id")
        cells = node_cells(node.nb_id, gnb_id_base=self.gnb_id_base, block=self.block)
        groups = kpm_cell_actions(node.plmn, node.nb_id, cells, self.meas_names, self.period_ms)
        for actions, by_action in groups:
            sub_id = rt.subscribe(node.ran_name, func.ran_function_id, self._trigger, actions)
            with self._lock:
                self._subs[sub_id] = (node.ran_name, by_action)
        with self._lock:
            self._nodes.add(node.ran_name)
        return len(groups)

    def cell_of(self, sub_id: int, action_id: int) -> tuple[str, int] | None:
        """``(ran name, square)`` an indication of ``sub_id`` / ``action_id`` reports, or None."""
        with self._lock:
            owner = self._subs.get(sub_id)
        square = None if owner is None else owner[1].get(action_id)
        return None if owner is None or square is None else (owner[0], square)

    def records(self, payload: bytes, sub_id: int) -> list[dict[str, Any]]:
        """The KPI record of the cell a RIC_INDICATION reports (empty for an unknown sub id).

        Raises
        ------
        DecodeError
            The E2AP or E2SM-KPM bytes are malformed.
        """
        with self._lock:
            owner = self._subs.get(sub_id)
        if owner is None:
            return []
        ind = fastpath.decode_indication(payload)
        square = owner[1].get(ind.action_id)
        if square is None:
            raise DecodeError(f"indication of sub {sub_id} names action {ind.action_id}, which was not set up")
        msg = kpm.decode_indication_message(ind.message)
        return [kpi_record(msg, cell=square, ran_name=owner[0], time_ms=_header_ms(ind.header), sn=ind.sn,
                           updated_ms=int(time.time() * 1000))]
