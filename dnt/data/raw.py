"""Reader and writer for the official raw daily Milan files ``sms-call-internet-mi-YYYY-MM-DD.txt[.gz]``.

Format (Barlacchi et al., *Scientific Data* 2:150055, 2015): tab-separated, no header, 8 columns
``square_id, time_interval, country_code, sms_in, sms_out, call_in, call_out, internet``; the time is
the start of the 10-minute interval in ms since the epoch (UTC); an empty field means no activity
(0). One row per (square, interval, country code); :func:`read_raw` sums over the country codes. A
(cell, interval) with no row at all is unobserved (``NaN``) in the dense result.

A full day is about 300 MB and 4.3 M rows, so the reader streams it in 16 MiB blocks of whole lines
(peak memory about 250 MB) and sums each block into a dense (cell, step) buffer with ``np.add.at``.
A block is parsed by numpy in C: the positions of all whitespace and control bytes must be exactly
seven tabs then a newline per line, which also tells which fields are empty; ``np.fromstring`` reads
the non-empty fields as whitespace-separated numbers and they are scattered into an (n, 8) table.
Any irregularity sends the block to a per-line diagnosis that names the first bad line; value checks
(ids, grid, signs) are vectorised and name the line from the row index. The aggregate is cached as
``.npz`` (:meth:`Traffic.save`), keyed on the source's path, size and ``mtime_ns``.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from dnt.data.frame import CHANNELS, STEP_10MIN_MS, Traffic
from dnt.data.grid import N_CELLS, check_cell_ids
from dnt.errors import DataError

__all__ = ["RAW_COLUMNS", "read_raw", "read_raw_many", "write_raw", "raw_cache_path"]

logger = logging.getLogger(__name__)

RAW_COLUMNS: tuple[str, ...] = ("square_id", "time_interval", "country_code", *CHANNELS)
ProgressFn = Callable[[int, int], None]

_N_COLS = len(RAW_COLUMNS)
_BLOCK_BYTES = 1 << 24  # 16 MiB of text per parse step (about 230 k rows)
_MAX_LINE_BYTES = 1 << 16  # no valid raw line comes close; a longer one means this is not a raw file
_MAX_SPAN_STEPS = 31 * 144  # a raw file holds one day; 31 days of span means a stray time value
_CACHE_VERSION = b"raw-cache-v1"
_TAB, _NL, _SPACE = 9, 10, 32
_LINE_SEPS = np.array([_TAB] * (_N_COLS - 1) + [_NL], dtype=np.uint8)


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------
def read_raw(path: str | Path, *, cells: Sequence[int] | np.ndarray | None = None,
             cache_dir: str | Path | None = None, use_cache: bool = True,
             progress: ProgressFn | None = None) -> Traffic:
    """Read one raw daily file (plain or gzip) into a dense :class:`Traffic` with all 5 channels.

    Parameters
    ----------
    path : the raw file; gzip is recognised by its magic bytes.
    cells : keep only these square ids (sorted, deduplicated); a requested cell without rows is
        all ``NaN``. ``None`` keeps every cell present in the file.
    cache_dir : where the ``.npz`` cache goes. ``None``: a ``.dnt-cache`` folder beside the source
        when the source's folder is writable (and has write bits), else ``$XDG_CACHE_HOME/dnt/raw``
        (``~/.cache/dnt/raw``). A cache that cannot be written is skipped with a logged warning.
    use_cache : read and write the cache. A corrupt cache is rebuilt with a logged warning.
    progress : called as ``progress(bytes_done, bytes_total)`` on the (compressed) file size.

    Returns
    -------
    Traffic
        ``values[c, t, k]`` summed over country codes, 10-minute steps spanning the times present in
        the file (for every cell, whatever ``cells`` selects); unobserved (cell, interval) = ``NaN``.

    Raises
    ------
    DataError
        naming file and line for a truncated file (plain or gzip; the file must end with a newline),
        garbled bytes or a non-numeric
        field, a wrong column count, a negative or non-finite value, a cell id outside 1..10000, a
        time off the 10-minute grid, or a file without rows.
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError as err:
        raise DataError(f"cannot read ({err})", path=str(path)) from err
    want = None if cells is None else np.unique(check_cell_ids(np.asarray(cells)))
    if want is not None and not want.size:
        raise DataError("cells is empty; pass None to keep every cell", path=str(path))
    cache = raw_cache_path(path, cells=want, cache_dir=cache_dir) if use_cache else None
    if cache is not None and cache.exists():
        try:
            traffic = Traffic.load(cache)
            if progress is not None:
                progress(st.st_size, st.st_size)
            return traffic
        except (DataError, zipfile.BadZipFile, EOFError, zlib.error, OSError, ValueError) as err:
            logger.warning("cache %s is unreadable (%s); rebuilding it from %s", cache, err, path)
    traffic = _parse_file(path, want, progress, st.st_size)
    if cache is not None:
        _write_cache(traffic, cache, path)
    return traffic


def read_raw_many(paths: Iterable[str | Path], *, cells: Sequence[int] | np.ndarray | None = None,
                  cache_dir: str | Path | None = None, use_cache: bool = True,
                  progress: ProgressFn | None = None) -> Traffic:
    """Read several raw files (e.g. consecutive days) into one :class:`Traffic`.

    The result has the union of the cells and one contiguous 10-minute axis from the earliest to the
    latest interval; intervals in no file (a missing day) are ``NaN``. Other parameters as in
    :func:`read_raw`; ``progress`` counts bytes over all files.

    Raises
    ------
    DataError
        for an empty list, any error of :func:`read_raw`, or an interval observed in two files.
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise DataError("no raw files given")
    try:
        sizes = [p.stat().st_size for p in paths]
    except OSError as err:
        raise DataError(f"cannot read ({err})", path=str(getattr(err, "filename", None))) from err
    total, done = sum(sizes), 0
    # With the cache on, keep only each day's axes and reload it from its cache when filling the
    # result: the peak is the result plus one day, not twice the result.
    parts: list[tuple[Path, Traffic | None, np.ndarray, int, int]] = []
    for p, size in zip(paths, sizes, strict=True):
        def step(d: int, _t: int, base: int = done) -> None:
            if progress is not None:
                progress(base + d, total)
        t = read_raw(p, cells=cells, cache_dir=cache_dir, use_cache=use_cache, progress=step)
        if len(paths) == 1:
            return t
        parts.append((p, None if use_cache else t, t.cell_ids, t.start_ms, t.n_steps))
        done += size
    ids = np.unique(np.concatenate([part[2] for part in parts]))
    start = min(part[3] for part in parts)
    end = max(part[3] + part[4] * STEP_10MIN_MS for part in parts)
    values = np.full((ids.size, (end - start) // STEP_10MIN_MS, len(CHANNELS)), np.nan, dtype=np.float32)
    for i, (p, held, *_) in enumerate(parts):
        t = held if held is not None else read_raw(p, cells=cells, cache_dir=cache_dir)
        rows = np.searchsorted(ids, t.cell_ids)
        t0 = (t.start_ms - start) // STEP_10MIN_MS
        block = values[rows, t0:t0 + t.n_steps]
        observed = ~np.isnan(t.values).all(axis=2)
        clash = observed & ~np.isnan(block).all(axis=2)
        if clash.any():
            c, s = (int(x[0]) for x in np.nonzero(clash))
            cell, ms = int(t.cell_ids[c]), t.start_ms + s * STEP_10MIN_MS
            other = next(q for q, _, q_ids, q_start, q_steps in parts[:i]
                         if cell in q_ids and q_start <= ms < q_start + q_steps * STEP_10MIN_MS)
            raise DataError(f"cell {cell} at {ms} ms is also in {other}; the files overlap", path=str(p))
        block[observed] = t.values[observed]
        values[rows, t0:t0 + t.n_steps] = block
        parts[i] = (p, None, *parts[i][2:])
    return Traffic(ids, start, STEP_10MIN_MS, values, CHANNELS)


def raw_cache_path(path: str | Path, *, cells: np.ndarray | None = None,
                   cache_dir: str | Path | None = None) -> Path:
    """Where :func:`read_raw` keeps the cache of ``path`` (its name changes when the source changes).

    The name is ``<file name>.<source key>.<state key>.npz``: the source key hashes the resolved path
    and the cell selection, the state key the file's size and ``mtime_ns``.
    """
    path = Path(path)
    st = path.stat()
    src = hashlib.sha256(_CACHE_VERSION + os.fsencode(path.resolve()))
    if cells is not None:
        src.update(np.asarray(cells, dtype=np.int64).tobytes())
    state = hashlib.sha256(f"{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:12]
    return _cache_folder(path, cache_dir) / f"{path.name}.{src.hexdigest()[:12]}.{state}.npz"


def _cache_folder(path: Path, cache_dir: str | Path | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    beside = path.resolve().parent / ".dnt-cache"
    if _writable(beside if beside.is_dir() else beside.parent):
        return beside
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "dnt" / "raw"


def _writable(folder: Path) -> bool:
    """Writable by us *and* meant to be: root passes ``os.access`` even on folders without write bits."""
    try:
        return os.access(folder, os.W_OK) and bool(folder.stat().st_mode & 0o222)
    except OSError:
        return False


def _write_cache(traffic: Traffic, cache: Path, source: Path) -> None:
    try:
        traffic.save(cache)
        prefix = cache.name.rsplit(".", 2)[0] + "."  # <file name>.<source key>.
        for stale in cache.parent.iterdir():
            if stale.name.startswith(prefix) and stale.name.endswith(".npz") and stale != cache \
                    and not stale.name.endswith(".tmp.npz"):
                stale.unlink(missing_ok=True)
    except OSError as err:
        logger.warning("cannot write the cache of %s to %s (%s); continuing without it", source, cache, err)


def _open_binary(path: Path) -> tuple[BinaryIO, BinaryIO]:
    """(stream to read, underlying file for progress); gzip is detected by its magic bytes."""
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        return gzip.GzipFile(fileobj=raw, mode="rb"), raw  # type: ignore[return-value]
    raw.seek(0)
    return raw, raw


def _parse_file(path: Path, want: np.ndarray | None, progress: ProgressFn | None, size: int) -> Traffic:
    acc = _Accumulator(want)
    line0 = 1  # number of the first line not parsed yet
    buf = bytearray(_BLOCK_BYTES + _MAX_LINE_BYTES)
    view = memoryview(buf)
    held = 0  # bytes of an unfinished line kept at the start of buf
    try:
        stream, raw = _open_binary(path)
    except OSError as err:
        raise DataError(f"cannot read ({err})", path=str(path)) from err
    with raw, stream:
        while True:
            got, failure = _fill(stream, view, held, _BLOCK_BYTES)
            filled = held + got
            cut = buf.rfind(b"\n", 0, filled) + 1
            if cut:
                line0 = _parse_block(view[:cut], line0, path, acc)
            if failure is not None:
                raise DataError(f"the data stops in this line: {failure} (a truncated or corrupt gzip file?)",
                                path=str(path), line=line0) from failure
            if not got:
                break
            held = filled - cut
            if held > _MAX_LINE_BYTES:
                raise DataError(f"line longer than {_MAX_LINE_BYTES} bytes: not a raw tab-separated file",
                                path=str(path), line=line0)
            buf[:held] = buf[cut:filled]
            if progress is not None:
                progress(raw.tell(), size)
    if held:
        fields = buf.count(b"\t", 0, held) + 1
        raise DataError(f"the file ends inside a line ({fields} of {_N_COLS} fields, no newline): "
                        "it looks truncated", path=str(path), line=line0)
    return acc.result(path)


def _fill(stream: BinaryIO, view: memoryview, start: int, size: int) -> tuple[int, BaseException | None]:
    """Read up to ``size`` bytes into ``view[start:]`` in 1 MiB steps: (bytes read, read error or None).

    Small steps keep what a truncated gzip stream yielded before its error, so that the error can
    name the line where the data stops.
    """
    got = 0
    while got < size:
        try:
            n = stream.readinto1(view[start + got:start + min(size, got + (1 << 20))])
        except (OSError, EOFError, zlib.error) as err:
            return got, err
        if not n:
            break
        got += n
    return got, None


def _parse_block(chunk: memoryview | bytes, line0: int, path: Path, acc: _Accumulator) -> int:
    """Parse whole lines ``chunk`` starting at line ``line0`` into ``acc``; return the next line number."""
    table = _fast_table(chunk)
    if table is None:
        data = bytes(chunk)
        if b"\r\n" in data:  # CRLF line ends: drop the CRs (line numbers stay) and try again
            data = data.replace(b"\r\n", b"\n")
            table = _fast_table(data)
        if table is None:
            _diagnose(data, line0, path)
            raise DataError("cannot parse this block of lines", path=str(path), line=line0)  # not reached
    cell, step = _check_values(table, line0, path)
    acc.add(cell, step, table, line0, path)
    return line0 + table.shape[0]


def _fast_table(chunk: memoryview | bytes) -> np.ndarray | None:
    """(rows, 8) float64 table of whole lines ``chunk``, or ``None`` if anything is irregular."""
    buf = np.frombuffer(chunk, dtype=np.uint8)
    seps = np.flatnonzero(buf <= _SPACE)  # every whitespace or control byte: only tabs and newlines may occur
    n = seps.size // _N_COLS
    if not n or seps.size != _N_COLS * n or not (buf[seps].reshape(n, _N_COLS) == _LINE_SEPS).all():
        return None
    # Each line has exactly 7 tabs then a newline. A field is empty when the byte before its
    # separator is a separator too (buf[-1] is the final newline, so seps[0] == 0 works).
    present = (buf[seps - 1] > _SPACE).reshape(n, _N_COLS)
    if not present[:, :3].all():
        return None
    try:
        flat = np.fromstring(buf, dtype=np.float64, sep=" ")  # skips the empty fields
    except ValueError:
        return None
    if flat.size != int(np.count_nonzero(present)):
        return None
    table = np.zeros((n, _N_COLS))
    table[present] = flat
    return table


def _diagnose(chunk: bytes, line0: int, path: Path) -> None:
    """Raise a :class:`DataError` for the first malformed line of ``chunk``."""
    for i, line in enumerate(chunk.split(b"\n")[:-1]):
        fields = line.split(b"\t")
        where = {"path": str(path), "line": line0 + i}
        if len(fields) != _N_COLS:
            raise DataError(f"expected {_N_COLS} tab-separated columns {list(RAW_COLUMNS)}, "
                            f"got {len(fields)}", **where)
        for name, field in zip(RAW_COLUMNS, fields, strict=True):
            if field == b"" and name in RAW_COLUMNS[3:]:
                continue
            shown = field.decode("utf-8", errors="backslashreplace")
            if not field.isascii() or not shown.isprintable():
                raise DataError(f"{name} field {shown!r} holds garbled (non-text) bytes", **where)
            ok = field != b"" and field.strip() == field
            if ok:
                try:
                    ok = np.fromstring(field, dtype=np.float64, sep=" ").size == 1
                except ValueError:
                    ok = False
            if not ok:
                raise DataError(f"{name} field {shown!r} is not a number", **where)


def _check_values(table: np.ndarray, line0: int, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Validate the parsed rows; return (cell id, absolute 10-minute step) as int64."""
    cell, time, country, vals = table[:, 0], table[:, 1], table[:, 2], table[:, 3:]
    with np.errstate(invalid="ignore"):
        cell_i, time_i = cell.astype(np.int64), time.astype(np.int64)
        country_i = country.astype(np.int64)
    step = time_i // STEP_10MIN_MS
    if (cell.min() >= 1 and cell.max() <= N_CELLS and (cell_i == cell).all()
            and time.min() >= 0 and time.max() < 2.0**53 and (time_i == time).all()
            and (step * STEP_10MIN_MS == time_i).all()
            and country.min() >= 0 and country.max() < 2.0**31 and (country_i == country).all()
            and vals.min() >= 0 and vals.max() < np.inf):
        return cell_i, step
    checks = (
        (~((cell >= 1) & (cell <= N_CELLS) & (cell == np.floor(cell))),
         lambda i: f"unknown cell id {_show(table[i, 0])}: Milan square ids are integers 1..{N_CELLS}"),
        (~((time >= 0) & (time < 2.0**53) & (np.fmod(time, STEP_10MIN_MS) == 0)),
         lambda i: f"time_interval {_show(table[i, 1])} is not on the 10-minute grid (ms since the epoch)"),
        (~((country >= 0) & (country == np.floor(country)) & (country < 2.0**31)),
         lambda i: f"country_code {_show(table[i, 2])} is not a non-negative integer"),
        (~((vals >= 0) & (vals < np.inf)).all(axis=1),
         lambda i: "activity values must be finite and non-negative, got "
                   + ", ".join(f"{c}={_show(v)}" for c, v in zip(CHANNELS, table[i, 3:], strict=True))),
    )
    for bad, message in checks:
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(message(i), path=str(path), line=line0 + i)
    raise DataError("invalid values in this block", path=str(path), line=line0)  # not reached


def _show(x: float) -> str:
    """A parsed number as it would read in the file: ``10001``, ``1.5``, ``nan``."""
    x = float(x)
    return str(int(x)) if x.is_integer() and abs(x) < 2**63 else repr(x)


class _Accumulator:
    """Sums per (cell, absolute 10-minute step) in float64 over a time span that grows as needed."""

    def __init__(self, want: np.ndarray | None) -> None:
        self.fixed = want is not None
        self.ids = np.zeros(0, dtype=np.int64) if want is None else want
        self.row_of = np.full(N_CELLS + 1, -1, dtype=np.int64)
        self.row_of[self.ids] = np.arange(self.ids.size)
        self.started = False
        self.t_min = self.t_max = 0  # absolute steps seen in the file (all cells)
        self.lo = 0  # absolute step of column 0 of the buffers
        rows = N_CELLS if want is None else want.size  # untouched rows cost no memory (calloc)
        self.sums = np.zeros((len(CHANNELS), rows, 0))
        self.seen = np.zeros((rows, 0), dtype=bool)

    def _fit(self, lo: int, hi: int) -> None:
        """Make room for absolute steps ``lo..hi-1``, keeping the sums; grows with a day of slack."""
        rows, old_steps = self.seen.shape
        if old_steps and self.lo <= lo and hi <= self.lo + old_steps:
            return
        if old_steps:
            old_hi = self.lo + old_steps
            lo = min(lo, self.lo) - (144 if lo < self.lo else 0)
            hi = max(hi, old_hi) + (144 if hi > old_hi else 0)
        sums = np.zeros((len(CHANNELS), rows, hi - lo))
        seen = np.zeros((rows, hi - lo), dtype=bool)
        if old_steps:
            off = self.lo - lo
            sums[:, :, off:off + old_steps] = self.sums
            seen[:, off:off + old_steps] = self.seen
        self.sums, self.seen, self.lo = sums, seen, lo

    def add(self, cell: np.ndarray, step: np.ndarray, table: np.ndarray, line0: int, path: Path) -> None:
        """Add rows ``table`` (cell ids ``cell``, absolute steps ``step``) starting at line ``line0``."""
        b_min, b_max = int(step.min()), int(step.max())
        t_min = min(self.t_min, b_min) if self.started else b_min
        t_max = max(self.t_max, b_max) if self.started else b_max
        if t_max - t_min >= _MAX_SPAN_STEPS:
            stray = int(np.argmax((step == b_min) if b_min == t_min else (step == b_max)))
            raise DataError(f"time_interval {int(table[stray, 1])} is {(t_max - t_min) // 144} days from "
                            "the other rows; a raw file holds one day", path=str(path), line=line0 + stray)
        self.started, self.t_min, self.t_max = True, t_min, t_max
        if self.fixed:
            keep = self.row_of[cell] >= 0
            step, cell, table = step[keep], cell[keep], table[keep]
        else:
            mark = np.zeros(N_CELLS + 1, dtype=bool)
            mark[cell] = True
            new = np.flatnonzero(mark & (self.row_of < 0))
            self.row_of[new] = self.ids.size + np.arange(new.size)
            self.ids = np.concatenate([self.ids, new])
        self._fit(t_min, t_max + 1)
        n_steps = self.seen.shape[1]
        key = self.row_of[cell] * n_steps + (step - self.lo)
        self.seen.reshape(-1)[key] = True
        vals = np.ascontiguousarray(table[:, 3:].T)
        for k in range(len(CHANNELS)):
            np.add.at(self.sums[k].reshape(-1), key, vals[k])

    def result(self, path: Path) -> Traffic:
        if not self.started:
            raise DataError("no data rows", path=str(path))
        order = np.argsort(self.ids)
        a, b = self.t_min - self.lo, self.t_max - self.lo + 1
        seen = self.seen[order, a:b]
        values = np.moveaxis(self.sums[:, order, a:b], 0, -1).astype(np.float32)
        values[~seen] = np.nan
        return Traffic(self.ids[order], self.t_min * STEP_10MIN_MS, STEP_10MIN_MS, values, CHANNELS)


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------
# Country codes other than Italy (39) and 0, most frequent first as in the 2013-11-01 sample.
_FOREIGN = (33, 46, 48, 41, 49, 20, 355, 40, 34, 359, 44, 1, 380, 32, 420, 357, 86, 82, 47, 373, 370,
            212, 852, 7, 45, 43, 94, 91, 90, 81, 421, 358, 352, 27, 233, 216, 30, 31, 36, 351, 353,
            354, 356, 371, 372, 375, 376, 377, 378, 381, 382, 385, 386, 387, 389, 51, 52, 53, 54, 55,
            56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 84, 92, 93, 95, 98, 211, 213, 218, 220, 221, 222,
            223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 234, 235, 236, 237, 238, 239, 240, 241,
            242, 243, 244, 245, 248, 249, 250, 251, 252, 253, 254, 255, 256, 257, 258, 260, 261, 262,
            263, 264, 265, 266, 267, 268, 269, 290, 291, 297, 298, 299, 350, 374, 379, 383, 423, 500,
            501, 502, 503, 504, 505, 506, 507, 508, 509, 590, 591, 592, 593, 594, 595, 596, 597, 598,
            599, 670, 672, 673, 674, 675, 676, 677, 678, 679, 680, 681, 682, 683, 685, 686, 687, 688,
            689, 690, 691, 692, 850, 853, 855, 856, 880, 886, 960, 961, 962, 963, 964, 965, 966, 967,
            968, 970, 971, 972, 973, 974, 975, 976, 977, 992, 993, 994, 995, 996, 998)
_CODES = np.array(sorted({0, 39, *_FOREIGN}, key=str), dtype=np.int64)  # in the files' string order
_CODE_RANK = np.zeros(int(_CODES.max()) + 1, dtype=np.int64)
_CODE_RANK[_CODES] = np.arange(_CODES.size)
_FOREIGN_ARR = np.array([c for c in dict.fromkeys(_FOREIGN) if c != 39], dtype=np.int64)
_FOREIGN_P = 1.0 / np.arange(1, _FOREIGN_ARR.size + 1) ** 1.3
_FOREIGN_P /= _FOREIGN_P.sum()
# Chance that a row of country 0 / of a foreign country has activity on each channel.
_P_ACTIVE_0 = np.array([0.9, 0.15, 0.2, 0.45, 0.15])
_P_ACTIVE_FOREIGN = np.array([0.25, 0.1, 0.1, 0.15, 0.6])
_WRITE_KEYS = 1 << 16  # (cell, interval) keys formatted per step


def write_raw(traffic: Traffic, path: str | Path, *, seed: int = 0) -> Path:
    """Write ``traffic`` as a raw daily file that looks like the real ones (gzip if ``path`` ends ``.gz``).

    Each observed (cell, interval) becomes one row for country 39 (Italy, the largest share), a row
    for country 0 four times in five, and a Poisson number of rows for a heavy-tailed set of
    foreign codes, more for busier cells (about 3 rows per (cell, interval) on average). The
    values are split over the rows so that they sum back to the input (to float64 rounding); a
    channel with no activity in a row is an empty field. Rows are ordered like the real files: by
    square id as a *string* (1, 10, 100, 1000, 10000, 1001, ...), then time, then country code as a
    string. Unobserved (all-``NaN``) intervals get no row; an observed interval with no activity at
    all gets one row of country 39 with every channel empty. ``NaN`` in some channels only is
    written as no activity, and channels missing from ``traffic`` are written empty.

    Raises
    ------
    DataError
        for negative or infinite values, or steps other than 10 minutes.
    """
    path = Path(path)
    if traffic.step_ms != STEP_10MIN_MS:
        raise DataError(f"raw files hold 10-minute intervals; this traffic has {traffic.step_ms} ms steps")
    vals = np.full((traffic.n_cells, traffic.n_steps, len(CHANNELS)), np.nan)
    for k, name in enumerate(CHANNELS):
        if name in traffic.channels:
            vals[:, :, k] = traffic.channel(name)
    observed = ~np.isnan(vals).all(axis=2)
    vals = np.nan_to_num(vals, nan=0.0, posinf=np.inf)
    if (vals < 0).any() or np.isinf(vals).any():
        raise DataError("the raw format holds finite non-negative activity only")
    order = np.argsort(traffic.cell_ids.astype(str), kind="stable")
    kc, kt = np.nonzero(observed[order])  # keys in file order: cell (as string), then time
    kc = order[kc]
    activity = np.sqrt(vals[kc, kt].sum(axis=1))
    lam = 1.25 * activity / max(float(activity.mean()), 1e-12) if activity.size else activity
    cell_txt = traffic.cell_ids.astype(np.int64).astype("S5")
    time_txt = traffic.times_ms.astype("S20")
    code_txt = _CODES.astype("S4")
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    # gzip level 1: about 4x faster than the default 9 for a few % more bytes
    fh: BinaryIO = gzip.open(path, "wb", compresslevel=1) if path.name.endswith(".gz") \
        else open(path, "wb")  # type: ignore[assignment]
    with fh:
        for s in range(0, kc.size, _WRITE_KEYS):
            sl = slice(s, s + _WRITE_KEYS)
            key_rows, code_rank, parts = _split_rows(vals[kc[sl], kt[sl]], lam[sl], rng)
            fh.write(_join_fields([cell_txt[kc[sl]][key_rows], time_txt[kt[sl]][key_rows],
                                   code_txt[code_rank], *(_float_text(p) for p in parts.T)]))
    return path


def _split_rows(v: np.ndarray, lam: np.ndarray, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Country-code rows for keys with totals ``v`` (K, 5): (key of each row, code rank, row values)."""
    n_keys = v.shape[0]
    keys = np.arange(n_keys)
    with_zero = keys[rng.random(n_keys) < 0.8]
    n_foreign = rng.poisson(np.minimum(lam, 30.0))
    foreign_keys = np.repeat(keys, n_foreign)
    foreign = rng.choice(_FOREIGN_ARR, size=foreign_keys.size, p=_FOREIGN_P)
    combo = np.concatenate([keys * _CODES.size + _CODE_RANK[39], with_zero * _CODES.size + _CODE_RANK[0],
                            foreign_keys * _CODES.size + _CODE_RANK[foreign]])
    combo = np.unique(combo)  # sorted by key, then code as a string; duplicate codes merged
    key_rows, rank = combo // _CODES.size, combo % _CODES.size
    code = _CODES[rank]
    positive = v[key_rows] > 0
    p_active = np.where((code == 0)[:, None], _P_ACTIVE_0, _P_ACTIVE_FOREIGN)
    active = (rng.random(positive.shape) < p_active) | (code == 39)[:, None]
    active &= positive
    idle = ~active.any(axis=1) & positive.any(axis=1) & (code != 39)
    if idle.any():  # give every extra row one channel with activity
        pick = np.argmax(positive[idle] * rng.random((int(idle.sum()), len(CHANNELS))), axis=1)
        active[np.flatnonzero(idle), pick] = True
    keep = active.any(axis=1) | (code == 39)
    key_rows, rank, code, active = key_rows[keep], rank[keep], code[keep], active[keep]
    scale = np.where(code == 39, 1.0, np.where(code == 0, 0.15, 0.04))[:, None]
    weight = np.where(active, scale * rng.gamma(1.0, 1.0, active.shape), 0.0)
    weight[code == 39] = np.where(active[code == 39], 1.0, 0.0)
    total = np.zeros((n_keys, len(CHANNELS)))
    np.add.at(total, key_rows, weight)
    share = np.divide(weight, total[key_rows], out=np.zeros_like(weight), where=weight > 0)
    return key_rows, rank, v[key_rows] * share


def _float_text(x: np.ndarray) -> np.ndarray:
    """Shortest round-trip text of each value; ``b""`` for 0 (no activity)."""
    out = np.zeros(x.size, dtype="S24")
    nz = x != 0
    out[nz] = x[nz].astype("S24")
    return out


def _join_fields(cols: list[np.ndarray]) -> bytes:
    """Tab-join fixed-width byte-string columns into lines, dropping their NUL padding."""
    n = cols[0].size
    widths = [c.dtype.itemsize for c in cols]
    out = np.zeros((n, sum(widths) + len(cols)), dtype=np.uint8)
    pos = 0
    for j, (col, w) in enumerate(zip(cols, widths, strict=True)):
        out[:, pos:pos + w] = np.ascontiguousarray(col).view(np.uint8).reshape(n, w)
        out[:, pos + w] = _NL if j == len(cols) - 1 else _TAB
        pos += w + 1
    return out[out != 0].tobytes()
