"""The in-memory traffic container every reader, generator and model shares.

A :class:`Traffic` is dense: ``values[c, t, k]`` is the activity of cell ``cell_ids[c]`` in the
interval starting at ``start_ms + t * step_ms`` (ms since the Unix epoch, UTC) on channel
``channels[k]``. ``NaN`` means *not observed* (a gap), which is different from ``0`` (observed,
no activity). Units are the Milan dataset's anonymised activity index.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from dnt.errors import DataError

__all__ = [
    "CHANNELS",
    "STEP_10MIN_MS",
    "HOUR_MS",
    "DAY_MS",
    "MILAN_TZ",
    "Traffic",
    "local_calendar",
]

CHANNELS: tuple[str, ...] = ("sms_in", "sms_out", "call_in", "call_out", "internet")
STEP_10MIN_MS = 600_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
MILAN_TZ = ZoneInfo("Europe/Rome")


def local_calendar(times_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local (Europe/Rome) hour-of-day as a float, weekday (Mon=0) and local date ordinal.

    Parameters
    ----------
    times_ms : (T,) int64 ms since the epoch, UTC.
    """
    times_ms = np.asarray(times_ms, dtype=np.int64)
    if times_ms.size == 0:
        empty = np.zeros(0)
        return empty, empty.astype(np.int64), empty.astype(np.int64)
    # UTC offsets change at most twice a year: compute per distinct local day boundary, cheaply.
    t0, t1 = int(times_ms.min()), int(times_ms.max())
    offsets = {}
    for ms in range(t0 - DAY_MS, t1 + 2 * DAY_MS, 6 * HOUR_MS):
        moment = dt.datetime.fromtimestamp(ms / 1000, tz=MILAN_TZ)
        offsets[ms] = int(moment.utcoffset().total_seconds() * 1000)  # type: ignore[union-attr]
    keys = np.array(sorted(offsets), dtype=np.int64)
    vals = np.array([offsets[k] for k in keys], dtype=np.int64)
    idx = np.clip(np.searchsorted(keys, times_ms, side="right") - 1, 0, len(keys) - 1)
    local_ms = times_ms + vals[idx]
    day = local_ms // DAY_MS
    hour = (local_ms - day * DAY_MS) / HOUR_MS
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
    return hour, weekday.astype(np.int64), day.astype(np.int64)


@dataclass(frozen=True, eq=False)
class Traffic:
    """Dense per-cell, per-interval, per-channel activity.

    Parameters
    ----------
    cell_ids : (C,) int, strictly increasing Milan square ids (1..10000).
    start_ms : start of the first interval, ms since the epoch (UTC).
    step_ms : interval length in ms (600_000 for 10 min, 3_600_000 for hourly).
    values : (C, T, K) float32; NaN = not observed.
    channels : names of the K channels, a subset of :data:`CHANNELS` in that order.
    """

    cell_ids: np.ndarray
    start_ms: int
    step_ms: int
    values: np.ndarray
    channels: tuple[str, ...] = CHANNELS

    def __post_init__(self) -> None:
        ids = np.asarray(self.cell_ids)
        vals = np.asarray(self.values)
        if ids.ndim != 1:
            raise DataError(f"cell_ids must be 1-D, got shape {ids.shape}")
        if vals.ndim != 3 or vals.shape[0] != ids.shape[0] or vals.shape[2] != len(self.channels):
            raise DataError(
                f"values must have shape (cells={ids.shape[0]}, steps, channels={len(self.channels)}), "
                f"got {vals.shape}"
            )
        if ids.size > 1 and not np.all(np.diff(ids) > 0):
            raise DataError("cell_ids must be strictly increasing (sort them and drop duplicates)")
        if ids.size and (ids.min() < 1 or ids.max() > 10_000):
            raise DataError(f"cell ids must be in 1..10000, got {int(ids.min())}..{int(ids.max())}")
        if self.step_ms <= 0:
            raise DataError(f"step_ms must be positive, got {self.step_ms}")
        unknown = [c for c in self.channels if c not in CHANNELS]
        if unknown:
            raise DataError(f"unknown channels {unknown}; expected a subset of {CHANNELS}")
        object.__setattr__(self, "cell_ids", ids.astype(np.int32, copy=False))
        object.__setattr__(self, "values", vals.astype(np.float32, copy=False))
        object.__setattr__(self, "start_ms", int(self.start_ms))
        object.__setattr__(self, "step_ms", int(self.step_ms))

    # -- shape ---------------------------------------------------------------------------
    @property
    def n_cells(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_steps(self) -> int:
        return int(self.values.shape[1])

    @property
    def times_ms(self) -> np.ndarray:
        """(T,) int64 interval start times."""
        return self.start_ms + self.step_ms * np.arange(self.n_steps, dtype=np.int64)

    @property
    def end_ms(self) -> int:
        """End of the last interval (exclusive)."""
        return self.start_ms + self.step_ms * self.n_steps

    @property
    def steps_per_day(self) -> int:
        return DAY_MS // self.step_ms

    def channel(self, name: str) -> np.ndarray:
        """(C, T) view of one channel."""
        if name not in self.channels:
            raise DataError(f"channel {name!r} not in this data (has {self.channels})")
        return self.values[:, :, self.channels.index(name)]

    def row(self, cell_id: int) -> int:
        """Row index of ``cell_id``; :class:`DataError` if absent."""
        i = int(np.searchsorted(self.cell_ids, cell_id))
        if i >= self.n_cells or self.cell_ids[i] != cell_id:
            raise DataError(f"cell {cell_id} is not in this data ({self.n_cells} cells)")
        return i

    # -- selection -----------------------------------------------------------------------
    def select_cells(self, cell_ids: Sequence[int] | np.ndarray) -> Traffic:
        rows = [self.row(int(c)) for c in sorted(set(int(c) for c in cell_ids))]
        return Traffic(self.cell_ids[rows], self.start_ms, self.step_ms, self.values[rows], self.channels)

    def select_channels(self, names: Sequence[str]) -> Traffic:
        idx = [self.channels.index(n) for n in CHANNELS if n in names and n in self.channels]
        missing = [n for n in names if n not in self.channels]
        if missing:
            raise DataError(f"channels {missing} not in this data (has {self.channels})")
        return Traffic(self.cell_ids, self.start_ms, self.step_ms, self.values[:, :, idx],
                       tuple(self.channels[i] for i in idx))

    def slice_steps(self, start: int, stop: int) -> Traffic:
        start, stop, _ = slice(start, stop).indices(self.n_steps)
        return Traffic(self.cell_ids, self.start_ms + start * self.step_ms, self.step_ms,
                       self.values[:, start:stop], self.channels)

    def resample(self, step_ms: int) -> Traffic:
        """Sum consecutive intervals into ``step_ms`` bins aligned to this data's start.

        A bin with any unobserved interval is NaN; a trailing partial bin is dropped.
        """
        if step_ms % self.step_ms:
            raise DataError(f"cannot resample step {self.step_ms} ms to {step_ms} ms (not a multiple)")
        k = step_ms // self.step_ms
        n = self.n_steps // k
        v = self.values[:, : n * k].reshape(self.n_cells, n, k, len(self.channels)).sum(axis=2)
        return Traffic(self.cell_ids, self.start_ms, step_ms, v, self.channels)

    # -- compact columnar cache ------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write a compressed ``.npz``: one (C, T) float32 column per channel plus the axes."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        cols = {f"ch_{c}": self.channel(c) for c in self.channels}
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(tmp, cell_ids=self.cell_ids,
                            axes=np.array([self.start_ms, self.step_ms], dtype=np.int64), **cols)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Traffic:
        """Read a file written by :meth:`save`."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                channels = tuple(c for c in CHANNELS if f"ch_{c}" in z.files)
                start_ms, step_ms = (int(x) for x in z["axes"])
                values = np.stack([z[f"ch_{c}"] for c in channels], axis=-1)
                return cls(z["cell_ids"], start_ms, step_ms, values, channels)
        except (OSError, KeyError, ValueError) as err:
            raise DataError(f"not a readable traffic cache ({err}); delete it to rebuild", path=str(path)) from err
