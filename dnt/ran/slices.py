"""Milan → RAN mapping: three slices per cell, fed by the Milan channels.

| slice | S-NSSAI (SST, SD) | Milan channels | carries |
|---|---|---|---|
| ``embb`` | (1, 0x000001) | internet | mobile broadband data |
| ``voice`` | (2, 0x000002) | call_in + call_out | voice calls |
| ``messaging`` | (3, 0x000003) | sms_in + sms_out | SMS |

SST 1 is eMBB (3GPP TS 23.501 §5.15.2.2); voice and messaging have no standard SST, so they take SST 2
and 3 with distinct SDs. The mapping is a convention of this project, used by the simulator, the KPM
reports and the E2SM-RC slice PRB quota controls alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dnt.data.frame import Traffic
from dnt.errors import DataError

__all__ = ["SliceSpec", "SLICES", "SLICE_NAMES", "slice_demand", "slice_by_snssai"]


@dataclass(frozen=True)
class SliceSpec:
    """One network slice of every cell."""

    name: str
    """Short name used in configs, metrics and KPM labels."""
    sst: int
    """Slice/service type (0..255)."""
    sd: int
    """Slice differentiator (24 bits)."""
    channels: tuple[str, ...]
    """Milan channels whose activity is this slice's offered load."""

    @property
    def snssai(self) -> tuple[int, int]:
        return (self.sst, self.sd)


SLICES: tuple[SliceSpec, ...] = (
    SliceSpec("embb", 1, 0x000001, ("internet",)),
    SliceSpec("voice", 2, 0x000002, ("call_in", "call_out")),
    SliceSpec("messaging", 3, 0x000003, ("sms_in", "sms_out")),
)
SLICE_NAMES: tuple[str, ...] = tuple(s.name for s in SLICES)


def slice_by_snssai(sst: int, sd: int | None) -> int:
    """Index in :data:`SLICES` of the slice with this S-NSSAI (SD ``None`` matches on SST alone)."""
    for i, s in enumerate(SLICES):
        if s.sst == sst and (sd is None or s.sd == sd):
            return i
    raise DataError(f"no slice with S-NSSAI sst={sst} sd={sd}; known: {[s.snssai for s in SLICES]}")


def slice_demand(traffic: Traffic) -> np.ndarray:
    """(C, T, 3) activity per slice: the sum of each slice's channels (NaN stays NaN)."""
    missing = sorted({c for s in SLICES for c in s.channels} - set(traffic.channels))
    if missing:
        raise DataError(f"traffic lacks channels {missing} needed for the slices; use data with all 5 channels")
    return np.stack([sum(traffic.channel(c) for c in s.channels) for s in SLICES], axis=-1).astype(np.float32)
