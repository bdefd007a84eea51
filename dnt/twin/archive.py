"""The V-twin's KPI history snapshot: the recent per-cell series an H-twin worker starts from.

A twin is a model *and* the state it runs on. The vtwin rApp creates the model from the network's history;
:class:`KpiHistory` carries the tail of that history (the last day or two of each cell's KPI, in the units
the htwin reads from KPM) to the H-twin workers, published in the model registry next to the model
(content-addressed, digest named in the ``dnt-twin`` A1 policy as ``history_digest``). A worker seeds a
cell's sliding window from it when the cell's first live report arrives, so from its first forecast the
model sees a real one-day-ago input and per-cell statistics of a whole day, instead of the last value
repeated and the statistics of a few hours (which made a cold worker lose to persistence at night).

Steps are absolute: step ``k`` covers ``[k * step_ms, (k + 1) * step_ms)`` of epoch time, as in
:class:`dnt.twin.live.CellHistory` and the simulator's KPM timestamps.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from dnt.data.frame import Traffic
from dnt.errors import DataError, DecodeError

__all__ = ["KpiHistory", "KIND"]

KIND = "dnt-kpi-history"
"""The ``kind`` field of a serialised snapshot (what the registry bytes are)."""


@dataclass(frozen=True)
class KpiHistory:
    """Per-cell KPI series ending at ``end_step`` (exclusive), NaN = not observed.

    Parameters
    ----------
    kpi : the KPM measurement the values are (e.g. ``DNT.OfferedLoadDl.1-000001``).
    unit : its unit (``kbit/s``).
    step_ms : length of one step.
    end_step : absolute index of the step after the last value.
    cells : cell id → values of steps ``end_step - len(values) .. end_step - 1``.
    """

    kpi: str
    unit: str
    step_ms: int
    end_step: int
    cells: dict[int, np.ndarray]

    @classmethod
    def from_traffic(cls, traffic: Traffic, channel: str, *, end: int | None = None, n_steps: int = 288,
                     scale: float = 1.0, kpi: str = "DNT.OfferedLoadDl.1-000001", unit: str = "kbit/s"
                     ) -> KpiHistory:
        """The last ``n_steps`` steps before data step ``end`` (default: the end) of ``channel`` × ``scale``.

        ``scale`` converts the data's unit into the KPI's (Milan activity → kbit/s of offered load is
        ``1000 × mbps_per_unit`` of the radio model; 1 when the archive already holds the KPI).

        Raises
        ------
        DataError
            ``end`` outside the data, the data not aligned to whole steps of epoch time, a bad scale.
        """
        stop = traffic.n_steps if end is None else int(end)
        if not 0 < stop <= traffic.n_steps:
            raise DataError(f"history end step {stop} outside the data's 1..{traffic.n_steps}")
        if traffic.start_ms % traffic.step_ms:
            raise DataError(f"data starts at {traffic.start_ms} ms, not on a {traffic.step_ms} ms step boundary")
        if not (math.isfinite(scale) and scale > 0):
            raise DataError(f"history scale must be a positive number, got {scale}")
        x = traffic.channel(channel)[:, max(stop - int(n_steps), 0):stop].astype(np.float64) * scale
        first = traffic.start_ms // traffic.step_ms
        cells = {int(c): x[i].astype(np.float32) for i, c in enumerate(traffic.cell_ids)}
        return cls(kpi, unit, int(traffic.step_ms), int(first + stop), cells)

    def to_bytes(self) -> bytes:
        """Canonical JSON (sorted keys; NaN as null), what the registry serves."""
        body = {"kind": KIND, "kpi": self.kpi, "unit": self.unit, "step_ms": self.step_ms, "end_step": self.end_step,
                "cells": {str(c): [None if not np.isfinite(v) else round(float(v), 4) for v in vals]
                          for c, vals in sorted(self.cells.items())}}
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> KpiHistory:
        """Parse :meth:`to_bytes` output.

        Raises
        ------
        DecodeError
            not a KPI history snapshot (wrong kind, missing fields, non-numeric values).
        """
        try:
            body = json.loads(data)
            if body.get("kind") != KIND:
                raise DecodeError(f"not a KPI history snapshot (kind {body.get('kind')!r}, expected {KIND!r})")
            cells = {int(c): np.array([np.nan if v is None else float(v) for v in vals], dtype=np.float32)
                     for c, vals in body["cells"].items()}
            return cls(str(body["kpi"]), str(body["unit"]), int(body["step_ms"]), int(body["end_step"]), cells)
        except DecodeError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise DecodeError(f"KPI history snapshot is corrupt: {err}") from err

    def series(self, cell: int) -> tuple[int, np.ndarray] | None:
        """(first absolute step, values) of ``cell``, or None when the snapshot does not hold it."""
        vals = self.cells.get(int(cell))
        if vals is None:
            return None
        return self.end_step - len(vals), vals
