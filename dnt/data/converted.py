"""Reader for the converted CSV format of ``../shared/data/milan/``.

Header ``cell_id,timestamp_utc,sms_in,sms_out,call_in,call_out,internet``; one row per (cell,
10-minute interval), values summed over country codes; ``timestamp_utc`` is the interval start in
ISO-8601 UTC (``2013-10-31T23:00:00Z``). A channel column that is empty in every row is a channel the
source does not provide and is left out of the result; an empty field in a provided channel means no
activity (0). Intervals missing from the file are ``NaN`` (unobserved) in the dense result.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dnt.data.frame import CHANNELS, STEP_10MIN_MS, Traffic
from dnt.data.grid import N_CELLS
from dnt.errors import DataError

__all__ = ["HEADER", "read_converted", "write_converted", "parse_utc_ms", "format_utc_ms"]

HEADER: tuple[str, ...] = ("cell_id", "timestamp_utc", *CHANNELS)


def parse_utc_ms(text: str) -> int:
    """``2013-10-31T23:00:00Z`` → ms since the epoch."""
    if not text.endswith("Z"):
        raise ValueError(f"timestamp {text!r} is not UTC ('...Z')")
    moment = dt.datetime.fromisoformat(text[:-1]).replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def format_utc_ms(ms: int) -> str:
    """ms since the epoch → ``2013-10-31T23:00:00Z``."""
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")  # noqa: SIM115


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    try:
        with _open_text(path) as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise DataError("empty file; expected a header " + ",".join(HEADER), path=str(path), line=1)
            if tuple(h.strip() for h in header) != HEADER:
                raise DataError(f"header {header} is not the converted format {list(HEADER)}",
                                path=str(path), line=1)
            yield from enumerate(reader, start=2)
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError, csv.Error) as err:
        raise DataError(f"cannot read ({err}); is the file complete and in the converted CSV format?",
                        path=str(path)) from err


def read_converted(path: str | Path, step_ms: int = STEP_10MIN_MS) -> Traffic:
    """Read a converted CSV (``.csv`` or ``.csv.gz``) into a dense :class:`Traffic`.

    Raises
    ------
    DataError
        naming file and line for a wrong column count, a bad number, a negative value, an unknown
        cell id, a timestamp off the ``step_ms`` grid, or a duplicate (cell, timestamp) key.
    """
    path = Path(path)
    ts_cache: dict[str, int] = {}
    cells: list[int] = []
    times: list[int] = []
    vals: list[list[float]] = []
    seen_channel = [False] * len(CHANNELS)
    for lineno, row in _rows(path):
        if not row:
            continue
        if len(row) != len(HEADER):
            raise DataError(f"expected {len(HEADER)} columns, got {len(row)}", path=str(path), line=lineno)
        try:
            cell = int(row[0])
        except ValueError as err:
            raise DataError(f"cell_id {row[0]!r} is not an integer", path=str(path), line=lineno) from err
        if not 1 <= cell <= N_CELLS:
            raise DataError(f"unknown cell id {cell} (Milan squares are 1..{N_CELLS})", path=str(path), line=lineno)
        ts = ts_cache.get(row[1])
        if ts is None:
            try:
                ts = parse_utc_ms(row[1])
            except ValueError as err:
                raise DataError(f"bad timestamp_utc {row[1]!r} ({err})", path=str(path), line=lineno) from err
            if ts % step_ms:
                raise DataError(f"timestamp {row[1]} is not on the {step_ms // 60000}-minute grid",
                                path=str(path), line=lineno)
            ts_cache[row[1]] = ts
        out = []
        for k, field in enumerate(row[2:]):
            if field == "":
                out.append(0.0)
                continue
            try:
                x = float(field)
            except ValueError as err:
                raise DataError(f"{CHANNELS[k]} value {field!r} is not a number", path=str(path),
                                line=lineno) from err
            if not math.isfinite(x) or x < 0:
                raise DataError(f"{CHANNELS[k]} value {field!r} must be finite and non-negative",
                                path=str(path), line=lineno)
            seen_channel[k] = True
            out.append(x)
        cells.append(cell)
        times.append(ts)
        vals.append(out)
    if not cells:
        raise DataError("no data rows", path=str(path))
    cell_arr = np.asarray(cells, dtype=np.int64)
    time_arr = np.asarray(times, dtype=np.int64)
    val_arr = np.asarray(vals, dtype=np.float64)
    ids, c_idx = np.unique(cell_arr, return_inverse=True)
    t0 = int(time_arr.min())
    t_idx = (time_arr - t0) // step_ms
    n_steps = int(t_idx.max()) + 1
    key = c_idx * n_steps + t_idx
    uniq, first = np.unique(key, return_index=True)
    if uniq.size != key.size:
        dup = np.setdiff1d(np.arange(key.size), first)[0]
        raise DataError(f"duplicate (cell {cells[dup]}, {format_utc_ms(times[dup])}) row", path=str(path))
    keep = [k for k in range(len(CHANNELS)) if seen_channel[k]]
    dense = np.full((ids.size, n_steps, len(keep)), np.nan, dtype=np.float32)
    dense[c_idx, t_idx] = val_arr[:, keep]
    return Traffic(ids, t0, step_ms, dense, tuple(CHANNELS[k] for k in keep))


def write_converted(traffic: Traffic, path: str | Path) -> Path:
    """Write ``traffic`` in the converted format (unobserved intervals are skipped)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8", newline="") as fh:  # type: ignore[operator]
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(HEADER)
        times = traffic.times_ms
        cols = [traffic.channels.index(c) if c in traffic.channels else None for c in CHANNELS]
        for ci, cell in enumerate(traffic.cell_ids):
            for ti, ts in enumerate(times):
                v = traffic.values[ci, ti]
                if np.isnan(v).all():
                    continue
                w.writerow([int(cell), format_utc_ms(int(ts)),
                            *("" if k is None else repr(float(v[k])) for k in cols)])
    return path
