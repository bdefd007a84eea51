"""Descriptive statistics of a :class:`Traffic` (what ``dnt data inspect`` prints)."""

from __future__ import annotations

from typing import Any

import numpy as np

from dnt.data.converted import format_utc_ms
from dnt.data.frame import Traffic, local_calendar

__all__ = ["top_share", "peak_local_hour", "summarize"]


def top_share(totals: np.ndarray, fraction: float = 0.10) -> float:
    """Share of the total carried by the busiest ``fraction`` of cells."""
    t = np.sort(np.nan_to_num(np.asarray(totals, dtype=np.float64)))[::-1]
    if t.sum() <= 0:
        return float("nan")
    k = max(1, int(round(fraction * t.size)))
    return float(t[:k].sum() / t.sum())


def peak_local_hour(traffic: Traffic, channel: str) -> float:
    """Local hour (0–23) at which the cells' summed mean daily profile of ``channel`` peaks."""
    x = np.nansum(traffic.channel(channel), axis=0)
    hour, _, _ = local_calendar(traffic.times_ms)
    h = np.floor(hour).astype(int)
    prof = np.array([x[h == k].mean() if (h == k).any() else np.nan for k in range(24)])
    return float(np.nanargmax(prof))


def summarize(traffic: Traffic) -> dict[str, Any]:
    """Shape, span, gaps and per-channel totals, shares, concentration and peak hour."""
    observed = ~np.isnan(traffic.values[:, :, 0])
    out: dict[str, Any] = {
        "cells": traffic.n_cells,
        "cell_id_range": [int(traffic.cell_ids.min()), int(traffic.cell_ids.max())],
        "steps": traffic.n_steps,
        "step_minutes": traffic.step_ms / 60_000,
        "start_utc": format_utc_ms(traffic.start_ms),
        "end_utc": format_utc_ms(traffic.end_ms),
        "days": traffic.n_steps * traffic.step_ms / 86_400_000,
        "observed_fraction": float(observed.mean()),
        "channels": {},
    }
    totals = {c: float(np.nansum(traffic.channel(c))) for c in traffic.channels}
    grand = sum(totals.values())
    for c in traffic.channels:
        per_cell = np.nansum(traffic.channel(c), axis=1)
        out["channels"][c] = {
            "total": totals[c],
            "share": totals[c] / grand if grand > 0 else float("nan"),
            "mean_per_cell_step": float(np.nanmean(traffic.channel(c))),
            "top10pct_share": top_share(per_cell) if traffic.n_cells >= 10 else float("nan"),
            "peak_local_hour": peak_local_hour(traffic, c) if totals[c] > 0 else float("nan"),
        }
    return out
