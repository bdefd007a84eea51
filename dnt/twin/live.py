"""The H-twin's live pieces: per-cell sliding windows of KPM values, forecasts, and the aggregator's SDL state.

:class:`CellHistory` turns a stream of KPM reports (several per 10-minute step when the simulator runs
accelerated) into one value per cell per step (the mean of the step's reports), keeps the last
``max_steps`` steps, and cuts them into training windows (:meth:`CellHistory.split`) and forecast inputs
(:meth:`CellHistory.inputs`), z-scored per cell with the cell's own history. Seasonal inputs older than
the history are filled with the last value (persistence), so a young worker still forecasts;
:meth:`CellHistory.seed` fills a new cell's past from the V-twin's KPI history snapshot
(:class:`dnt.twin.archive.KpiHistory`) so that it is rarely young.

:func:`server_to_bytes` / :func:`server_from_bytes` persist a :class:`~dnt.fl.asyn.FedBuff` server (model,
layout, buffered updates, counters) as one blob, so a restarted aggregator loses no accepted update.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict
from typing import Any

import numpy as np
import torch

from dnt.data.windows import Split
from dnt.errors import DataError, DecodeError
from dnt.fl.asyn import AsyncConfig, AsyncStats, FedBuff
from dnt.fl.messages import GlobalTwin, TwinUpdate, decode, encode
from dnt.fl.rules import RULES
from dnt.fl.types import GlobalModel, Layout, unflatten
from dnt.twin.lifecycle import TwinSpec

__all__ = ["CellHistory", "forecast", "server_to_bytes", "server_from_bytes"]


class CellHistory:
    """Per-cell series of step values (see the module docstring).

    Parameters
    ----------
    spec : the twin's windowing.
    step_ms : length of one step of the series (600 000: Milan's 10 minutes).
    max_steps : steps kept per cell.
    """

    def __init__(self, spec: TwinSpec, step_ms: int = 600_000, max_steps: int = 288) -> None:
        self.spec, self.step_ms, self.max_steps = spec, int(step_ms), int(max_steps)
        self.steps: dict[int, dict[int, float]] = {}
        self._open: dict[int, tuple[int, float, int]] = {}  # cell -> (step, sum, count) of the current step

    def add(self, cell: int, time_ms: int, value: float) -> bool:
        """Record one report; True when it closed the cell's previous step (a new value is in the series)."""
        step = int(time_ms) // self.step_ms
        cur = self._open.get(cell)
        if cur is None or step > cur[0]:
            self._open[cell] = (step, float(value), 1)
            if cur is None:
                return False
            series = self.steps.setdefault(cell, {})
            series[cur[0]] = cur[1] / cur[2]
            for old in sorted(series)[:-self.max_steps]:
                del series[old]
            return True
        if step == cur[0]:
            self._open[cell] = (step, cur[1] + float(value), cur[2] + 1)
        return False  # a late report of an already closed step is ignored

    def has(self, cell: int) -> bool:
        """True once ``cell`` has a value (closed or still open)."""
        return cell in self.steps or cell in self._open

    def cells(self) -> list[int]:
        """Every cell with a value (closed or still open)."""
        return sorted(set(self.steps) | set(self._open))

    def seed(self, cell: int, first_step: int, values: np.ndarray, before: int | None = None) -> int:
        """Fill ``cell``'s steps before its earliest known step (and before ``before``) from an archive
        (``values`` start at ``first_step``); never overwrites a live value, skips NaN, keeps at most
        ``max_steps``. Returns the number of steps seeded."""
        known = list(self.steps.get(cell, {})) + ([self._open[cell][0]] if cell in self._open else [])
        known += [] if before is None else [int(before)]
        limit = min(known) if known else first_step + len(values)
        series = self.steps.setdefault(cell, {})
        lo = max(int(first_step), limit - self.max_steps)
        added = []
        for k in range(lo, min(limit, first_step + len(values))):
            v = float(values[k - first_step])
            if np.isfinite(v):
                series[k] = v
                added.append(k)
        for old in sorted(series)[:-self.max_steps]:
            del series[old]
        if not series:
            del self.steps[cell]
        return sum(k in series for k in added)

    def series(self, cell: int) -> tuple[np.ndarray, int]:
        """(values of the closed steps, contiguous, gaps filled forward; the step index after the last)."""
        s = self.steps.get(cell, {})
        if not s:
            return np.zeros(0, dtype=np.float32), 0
        first, last = min(s), max(s)
        out = np.empty(last - first + 1, dtype=np.float32)
        prev = s[first]
        for i, k in enumerate(range(first, last + 1)):
            prev = s.get(k, prev)
            out[i] = prev
        return out, last + 1

    def _stats(self, x: np.ndarray) -> tuple[float, float]:
        return float(x.mean()), float(max(x.std(), 1e-3 * max(abs(x.mean()), 1.0)))

    def _inputs(self, z: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
        sp = self.spec
        xc = np.array([z[t - 1 - i] for i in range(sp.closeness)], dtype=np.float32)
        xp = np.empty((sp.period, sp.horizon), dtype=np.float32)
        for k in range(1, sp.period + 1):
            for j in range(sp.horizon):
                idx = t - k * sp.period_steps + j
                xp[k - 1, j] = z[idx] if idx >= 0 else z[t - 1]
        return xc, xp

    def split(self, cells: list[int], max_windows: int = 64) -> Split:
        """The latest ``max_windows`` training windows of each cell (z-units); empty when too young."""
        sp = self.spec
        xcs, xps, ys, rows, starts = [], [], [], [], []
        for row, cell in enumerate(cells):
            x, _ = self.series(cell)
            if x.size < sp.closeness + sp.horizon + 1:
                continue
            mu, sd = self._stats(x)
            z = (x - mu) / sd
            for t in range(max(sp.closeness, x.size - sp.horizon + 1 - max_windows), x.size - sp.horizon + 1):
                xc, xp = self._inputs(z, t)
                xcs.append(xc)
                xps.append(xp)
                ys.append(z[t:t + sp.horizon])
                rows.append(row)
                starts.append(t)
        if not ys:
            h = sp.horizon
            return Split(np.zeros((0, sp.closeness), np.float32), np.zeros((0, sp.period, h), np.float32),
                         np.zeros((0, h), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64))
        return Split(np.stack(xcs), np.stack(xps), np.stack(ys).astype(np.float32), np.array(rows, np.int64),
                     np.array(starts, np.int64))

    def inputs(self, cell: int) -> tuple[np.ndarray, np.ndarray, float, float, int] | None:
        """(xc, xp, mean, std, next step) to forecast ``cell`` from its latest closed step; None when too young."""
        x, nxt = self.series(cell)
        if x.size < self.spec.closeness:
            return None
        mu, sd = self._stats(x)
        xc, xp = self._inputs((x - mu) / sd, x.size)
        return xc, xp, mu, sd, nxt

    def state(self) -> dict[str, Any]:
        """JSON-ready state (closed steps only) for SDL."""
        return {str(c): {str(k): v for k, v in s.items()} for c, s in self.steps.items()}

    def restore(self, state: dict[str, Any]) -> None:
        """Load :meth:`state` output (a restart resumes with the same history)."""
        self.steps = {int(c): {int(k): float(v) for k, v in s.items()} for c, s in state.items()}


def forecast(model: torch.nn.Module, vec: np.ndarray, history: CellHistory,
             cell: int) -> tuple[list[float], int] | None:
    """(raw forecast values of the next ``horizon`` steps, first step index) of ``cell``; None when too young."""
    inp = history.inputs(cell)
    if inp is None:
        return None
    xc, xp, mu, sd, nxt = inp
    m = unflatten(np.asarray(vec, dtype=np.float32), model).eval()
    with torch.no_grad():
        z = m(torch.from_numpy(xc[None]), torch.from_numpy(xp[None])).numpy()[0]
    return [float(max(v * sd + mu, 0.0)) for v in z], nxt


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def server_to_bytes(server: FedBuff, lay: Layout, rule: str) -> bytes:
    """One blob holding a FedBuff server's model, buffer, settings and counters."""
    body = {"rule": rule, "cfg": asdict(server.cfg), "stats": asdict(server.stats),
            "model": _b64(encode(GlobalTwin(server.model, lay))),
            "buffer": [_b64(encode(TwinUpdate(u, lay))) for u in server.buffer]}
    return json.dumps(body).encode()


def server_from_bytes(data: bytes) -> tuple[FedBuff, Layout, str]:
    """Rebuild what :func:`server_to_bytes` saved (the model is checked against its digest).

    Raises
    ------
    DecodeError, ModelIntegrityError
        a corrupt blob.
    """
    try:
        body = json.loads(data)
        twin = decode(base64.b64decode(body["model"]), GlobalTwin)
        server = FedBuff(GlobalModel(twin.model.version, twin.model.vector, twin.model.cluster),
                         RULES[body["rule"]](), AsyncConfig(**body["cfg"]))
        server.stats = AsyncStats(**body["stats"])
        server.buffer = [decode(base64.b64decode(b), TwinUpdate, twin.layout).update for b in body["buffer"]]
    except (ValueError, KeyError, TypeError, DataError) as err:
        raise DecodeError(f"aggregator state is corrupt: {err}") from err
    return server, twin.layout, str(body["rule"])
