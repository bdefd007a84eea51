"""One way in for traffic data: detect the format of a path and load it as :class:`Traffic`.

Formats: the official raw daily files (``sms-call-internet-mi-*.txt[.gz]``, tab-separated), a folder
of them (consecutive days are joined), the converted CSV of ``../shared/data/milan`` and the
project's own ``.npz`` cache. ``"synthetic"`` names the embedded generator.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

from dnt.data.frame import Traffic
from dnt.errors import DataError

__all__ = ["detect_format", "load_traffic", "RAW_GLOB"]

RAW_GLOB = "sms-call-internet-mi-*.txt*"


def _first_line(path: Path) -> str:
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:  # type: ignore[operator]
            return fh.readline(4096).decode("utf-8", errors="replace")
    except (OSError, EOFError) as err:
        raise DataError(f"cannot read ({err})", path=str(path)) from err


def detect_format(path: str | Path) -> str:
    """``"raw-dir"``, ``"raw"``, ``"converted"`` or ``"cache"``; :class:`DataError` otherwise."""
    path = Path(path)
    if path.is_dir():
        if not any(path.glob(RAW_GLOB)):
            raise DataError(f"folder has no raw daily files ({RAW_GLOB})", path=str(path))
        return "raw-dir"
    if not path.exists():
        raise DataError("no such file; pass a raw daily file, a folder of them, a converted CSV, "
                        "a .npz cache, or 'synthetic'", path=str(path))
    if path.suffix == ".npz":
        return "cache"
    line = _first_line(path)
    if line.startswith("cell_id,"):
        return "converted"
    if line.count("\t") == 7:
        return "raw"
    raise DataError("unrecognised format: expected a raw tab-separated daily file (8 columns) or a converted "
                    "CSV starting with 'cell_id,timestamp_utc,...'", path=str(path), line=1)


def load_traffic(path: str | Path, *, progress: Callable[[int, int], None] | None = None,
                 cache_dir: str | Path | None = None) -> Traffic:
    """Load any supported format (see module docstring)."""
    fmt = detect_format(path)
    path = Path(path)
    if fmt == "cache":
        return Traffic.load(path)
    if fmt == "converted":
        from dnt.data.converted import read_converted

        return read_converted(path)
    from dnt.data.raw import read_raw, read_raw_many

    if fmt == "raw":
        return read_raw(path, cache_dir=cache_dir, progress=progress)
    return read_raw_many(sorted(path.glob(RAW_GLOB)), cache_dir=cache_dir, progress=progress)
