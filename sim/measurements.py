"""KPM measurements of a simulated cell: names, units, values from the capacity model, and their encoding.

Names follow 3GPP TS 28.552 where one fits; per-slice values are the TS 28.552 S-NSSAI subcounters,
written ``<name>.<sst>-<sd as 6 hex digits>`` (``DRB.UEThpDl.1-000001`` = eMBB): the project's E2SM-KPM
subset (:mod:`dnt.e2.kpm`) addresses measurements by name with the label ``noLabel`` only, so a
subcounter is a name of its own. The name without a suffix is the cell total (sum over the slices).

=========================  ======  ==========  ===============================================  ==============
name                       unit    per slice   value                                            source
=========================  ======  ==========  ===============================================  ==============
``DRB.UEThpDl``            kbit/s  yes + cell  DL traffic served (what the slice's PRBs carry)  TS 28.552 §5.1.1.3
``RRU.PrbUsedDl``          PRB     yes + cell  mean DL PRBs used                                TS 28.552 §5.1.1.2
``DNT.OfferedLoadDl``      kbit/s  yes + cell  DL load offered (Milan activity × Mbit/s/unit)   project-specific
``RRU.PrbAvailDl``         PRB     cell        DL PRBs of the carrier                           TS 28.552 §5.1.1.2
``RRU.PrbTotDl``           %       cell        DL PRB usage, 100 × used / available             TS 28.552 §5.1.1.2
=========================  ======  ==========  ===============================================  ==============

Unserved load is ``DNT.OfferedLoadDl - DRB.UEThpDl``. All values are KPM ``integer`` items (rounded),
one record per report. ``DRB.UEThpDl`` here is the slice's aggregate served throughput: the model has no
UEs (TS 28.552 defines it per UE); see sim/README.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dnt.e2 import e2sm_asn, kpm
from dnt.ran import SLICES, CellReport, SliceSpec
from sim.replay import TrafficModel

__all__ = ["Measurement", "CATALOGUE", "subcounter_name", "parse_name", "supported_names", "default_names",
           "ValueTable", "MeasurementSource", "MessageEncoder", "encode_message_generic", "decode_message_generic"]

_UINT32_MAX = 0xFFFFFFFF


@dataclass(frozen=True)
class Measurement:
    """One KPM measurement the simulator reports."""

    name: str
    unit: str
    per_slice: bool
    description: str
    source: str


CATALOGUE: tuple[Measurement, ...] = (
    Measurement("DRB.UEThpDl", "kbit/s", True, "DL traffic served", "TS 28.552 §5.1.1.3"),
    Measurement("RRU.PrbUsedDl", "PRB", True, "mean DL PRBs used", "TS 28.552 §5.1.1.2"),
    Measurement("DNT.OfferedLoadDl", "kbit/s", True, "DL load offered", "project-specific"),
    Measurement("RRU.PrbAvailDl", "PRB", False, "DL PRBs of the carrier", "TS 28.552 §5.1.1.2"),
    Measurement("RRU.PrbTotDl", "%", False, "DL PRB usage", "TS 28.552 §5.1.1.2"),
)
_BY_NAME = {m.name: m for m in CATALOGUE}


def subcounter_name(base: str, spec: SliceSpec) -> str:
    """``DRB.UEThpDl`` + eMBB → ``DRB.UEThpDl.1-000001`` (TS 28.552 S-NSSAI subcounter)."""
    return f"{base}.{spec.sst}-{spec.sd:06x}"


def parse_name(name: str) -> tuple[Measurement, int | None] | None:
    """(measurement, slice index or None for the cell total) of a supported name, else None."""
    m = _BY_NAME.get(name)
    if m is not None:
        return m, None
    base, _, suffix = name.rpartition(".")
    m = _BY_NAME.get(base)
    if m is None or not m.per_slice:
        return None
    for i, s in enumerate(SLICES):
        if suffix == f"{s.sst}-{s.sd:06x}":
            return m, i
    return None


def supported_names() -> tuple[str, ...]:
    """Every name the simulator reports (advertised in the KPM RAN function definition)."""
    out: list[str] = []
    for m in CATALOGUE:
        out.append(m.name)
        if m.per_slice:
            out += [subcounter_name(m.name, s) for s in SLICES]
    return tuple(out)


def default_names() -> tuple[str, ...]:
    """Per-slice served, PRBs and offered load, plus the cell's available PRBs and usage (11 values)."""
    per_slice = [subcounter_name(m.name, s) for m in CATALOGUE if m.per_slice for s in SLICES]
    return tuple(per_slice) + tuple(m.name for m in CATALOGUE if not m.per_slice)


class ValueTable:
    """Every supported measurement of every cell for one report: an int64 matrix (cells, names)."""

    def __init__(self) -> None:
        self.names = supported_names()
        self.column = {n: i for i, n in enumerate(self.names)}

    def columns(self, names: Sequence[str]) -> np.ndarray:
        """Column indices of ``names``; ``KeyError`` naming the first unsupported one."""
        missing = [n for n in names if n not in self.column]
        if missing:
            raise KeyError(missing[0])
        return np.asarray([self.column[n] for n in names], dtype=np.intp)

    def compute(self, report: CellReport) -> np.ndarray:
        """(C, len(names)) rounded values of ``report`` (rows as in the report)."""
        served = report.served_mbps * 1000.0
        prb = report.prb_used
        offered = report.offered_mbps * 1000.0
        n_cells = served.shape[0]
        used_total = prb.sum(axis=1)
        per = {"DRB.UEThpDl": served, "RRU.PrbUsedDl": prb, "DNT.OfferedLoadDl": offered}
        cols: list[np.ndarray] = []
        for m in CATALOGUE:
            if m.per_slice:
                arr = per[m.name]
                cols.append(arr.sum(axis=1))
                cols += [arr[:, i] for i in range(len(SLICES))]
            elif m.name == "RRU.PrbAvailDl":
                cols.append(np.full(n_cells, float(report.prb_avail)))
            else:  # RRU.PrbTotDl
                cols.append(100.0 * used_total / max(report.prb_avail, 1))
        table = np.rint(np.stack(cols, axis=1))
        return np.clip(np.nan_to_num(table), 0, _UINT32_MAX).astype(np.int64)


class MeasurementSource:
    """Per-step values and indication headers of all simulated cells, computed once per step and policy.

    Shared by every node of a simulator: the first report of a step pays for the whole grid (vectorised),
    the others index into the cached table.
    """

    def __init__(self, model: TrafficModel) -> None:
        self.model = model
        self.table = ValueTable()
        self._key: tuple[int, int] = (-1, -1)
        self._values = np.zeros((0, 0), dtype=np.int64)
        self._headers: dict[int, bytes] = {}

    def values(self, step: int) -> np.ndarray:
        """(cells, names) int64 values at ``step`` under the current slice policies."""
        key = (step, self.model.policy_version)
        if key != self._key:
            self._values = self.table.compute(self.model.report(step))
            self._key = key
        return self._values

    def header(self, step: int) -> bytes:
        """KPM indication header: ``colletStartTime`` = data time of the replayed step (NTP format)."""
        hdr = self._headers.get(step)
        if hdr is None:
            if len(self._headers) > 4096:
                self._headers.clear()
            hdr = kpm.encode_indication_header(kpm.KpmIndicationHeader.from_unix_ms(self.model.step_start_ms(step)))
            self._headers[step] = hdr
        return hdr


# -- indication message encoding ------------------------------------------------------------------------
def _asn1_value(records: Sequence[Sequence[int]], names: Sequence[str], granul_period_ms: int) -> dict[str, Any]:
    body = {
        "measData": [{"measRecord": [("integer", int(v)) for v in rec]} for rec in records],
        "measInfoList": [{"measType": ("measName", n), "labelInfoList": [{"measLabel": {"noLabel": "true"}}]}
                         for n in names],
        "granulPeriod": granul_period_ms,
    }
    return {"indicationMessage-formats": ("indicationMessage-Format1", body)}


def encode_message_generic(values: Sequence[int], names: Sequence[str], granul_period_ms: int) -> bytes:
    """The generic path: the whole KPM indication message through asn1tools (same bytes as the fast path)."""
    return e2sm_asn.encode("kpm", "E2SM-KPM-IndicationMessage", _asn1_value([values], names, granul_period_ms))


def decode_message_generic(data: bytes) -> kpm.KpmIndicationMessage:
    """The generic path: decode a KPM indication message entirely with asn1tools."""
    value = e2sm_asn.decode("kpm", "E2SM-KPM-IndicationMessage", data)
    _, body = value["indicationMessage-formats"]
    records = tuple(tuple(v if kind == "integer" else (float(v) if kind == "real" else None)
                          for kind, v in item["measRecord"]) for item in body["measData"])
    names = tuple(item["measType"][1] for item in body.get("measInfoList", ()))
    return kpm.KpmIndicationMessage(records, names, body.get("granulPeriod"))


class MessageEncoder:
    """Encodes one action's KPM indication messages: the fast path (constant tail encoded once) or generic."""

    __slots__ = ("names", "granul_period_ms", "fast", "_enc")

    def __init__(self, names: Sequence[str], granul_period_ms: int, fast: bool = True) -> None:
        self.names = tuple(names)
        self.granul_period_ms = granul_period_ms
        self.fast = fast
        self._enc = kpm.KpmIndicationEncoder(self.names, granul_period_ms) if fast else None

    def encode(self, values: list[int]) -> bytes:
        if self._enc is not None:
            return self._enc.encode(values)
        return encode_message_generic(values, self.names, self.granul_period_ms)
