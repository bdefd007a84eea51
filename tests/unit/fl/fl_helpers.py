"""Helpers of the federated-learning tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import numpy as np
import torch

from dnt.data.frame import HOUR_MS, Traffic
from dnt.data.windows import Split, WindowConfig
from dnt.fl.types import Update
from dnt.twin.model import TwinLSTM

# 12 days hourly, P = 24, c = 3, p = 1, h = 2; val 2 days, test 2 days.
TINY_WINDOWS = WindowConfig(closeness=3, period=1, horizon=2, test_days=2, val_days=2)


def tiny_model(seed: int = 0) -> TwinLSTM:
    torch.manual_seed(seed)
    return TwinLSTM(horizon=2, hidden=8, layers=1, dropout=0.0, residual=True)


def sine_traffic(cells: int = 4, days: int = 12, seed: int = 0) -> Traffic:
    """Two groups of cells: even rows peak at one hour, odd rows at the opposite one."""
    rng = np.random.default_rng(seed)
    t = np.arange(days * 24)
    rows = [50 + 20 * np.sin(2 * np.pi * t / 24 + np.pi * (c % 2)) + rng.normal(0, 1, t.size) for c in range(cells)]
    return Traffic(np.arange(1, cells + 1) * 7, 0, HOUR_MS, np.stack(rows)[:, :, None].astype(np.float32),
                   ("internet",))


def cell_split(split: Split, row: int) -> Split:
    return split.subset(split.cell == row)


def upd(cid: str, delta: list[float], n: int = 1, base: int = 0, **kw: object) -> Update:
    """Shorthand for a hand-written update."""
    return Update(cid, np.array(delta, dtype=np.float32), n, base, **kw)  # type: ignore[arg-type]
