"""Milano grid geometry: 100 x 100 squares of about 235 m, cell 1 in the south-west corner.

``row_from_south = (cell_id - 1) // 100`` and ``col_from_west = (cell_id - 1) % 100``, as in the
dataset's ``milano-grid.geojson`` (property ``cellId``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dnt.errors import DataError

__all__ = [
    "N_ROWS",
    "N_COLS",
    "N_CELLS",
    "SQUARE_M",
    "check_cell_ids",
    "cell_to_rc",
    "rc_to_cell",
    "neighbours",
    "positions_km",
    "load_centroids",
    "gnb_of_cell",
    "gnb_cells",
]

N_ROWS = 100
N_COLS = 100
N_CELLS = N_ROWS * N_COLS
SQUARE_M = 235.0


def check_cell_ids(cell_ids: np.ndarray | list[int] | int) -> np.ndarray:
    """Return ``cell_ids`` as an int array; :class:`DataError` naming the first id outside 1..10000."""
    ids = np.atleast_1d(np.asarray(cell_ids))
    if ids.size and not np.issubdtype(ids.dtype, np.integer):
        raise DataError(f"cell ids must be integers, got dtype {ids.dtype}")
    bad = (ids < 1) | (ids > N_CELLS)
    if bad.any():
        raise DataError(f"unknown cell id {int(ids[bad][0])}: Milan square ids are 1..{N_CELLS}")
    return ids.astype(np.int64)


def cell_to_rc(cell_ids: np.ndarray | list[int] | int) -> tuple[np.ndarray, np.ndarray]:
    """(row_from_south, col_from_west) for each cell id."""
    ids = check_cell_ids(cell_ids) - 1
    return ids // N_COLS, ids % N_COLS


def rc_to_cell(rows: np.ndarray | int, cols: np.ndarray | int) -> np.ndarray:
    """Cell ids for grid (row_from_south, col_from_west) pairs."""
    r, c = np.atleast_1d(np.asarray(rows)), np.atleast_1d(np.asarray(cols))
    if ((r < 0) | (r >= N_ROWS) | (c < 0) | (c >= N_COLS)).any():
        raise DataError(f"grid position outside 0..{N_ROWS - 1} x 0..{N_COLS - 1}")
    return (r * N_COLS + c + 1).astype(np.int64)


def neighbours(cell_id: int, radius: int = 1, diagonal: bool = True) -> np.ndarray:
    """Sorted ids of the cells within ``radius`` squares (Chebyshev if ``diagonal`` else Manhattan)."""
    (r,), (c,) = cell_to_rc(cell_id)
    out = []
    for dr in range(-radius, radius + 1):
        for dc in range(-radius, radius + 1):
            if (dr, dc) == (0, 0) or (not diagonal and abs(dr) + abs(dc) > radius):
                continue
            rr, cc = r + dr, c + dc
            if 0 <= rr < N_ROWS and 0 <= cc < N_COLS:
                out.append(rr * N_COLS + cc + 1)
    return np.array(sorted(out), dtype=np.int64)


def positions_km(cell_ids: np.ndarray | list[int]) -> np.ndarray:
    """(C, 2) planar (x_east, y_north) square centres in km from the south-west corner."""
    rows, cols = cell_to_rc(cell_ids)
    return np.stack([(cols + 0.5) * SQUARE_M / 1000.0, (rows + 0.5) * SQUARE_M / 1000.0], axis=1)


def load_centroids(geojson_path: str | Path) -> dict[int, tuple[float, float]]:
    """``{cellId: (lon, lat)}`` polygon centroids (vertex mean) from ``milano-grid.geojson``."""
    path = Path(geojson_path)
    try:
        doc = json.loads(path.read_text())
        out: dict[int, tuple[float, float]] = {}
        for feat in doc["features"]:
            cid = int(feat["properties"]["cellId"])
            ring = np.asarray(feat["geometry"]["coordinates"][0], dtype=float)
            if len(ring) > 1 and np.allclose(ring[0], ring[-1]):
                ring = ring[:-1]
            out[cid] = (float(ring[:, 0].mean()), float(ring[:, 1].mean()))
    except (OSError, ValueError, KeyError, IndexError, TypeError) as err:
        raise DataError(f"not a Milano grid GeoJSON ({err})", path=str(path)) from err
    return out


def gnb_of_cell(cell_ids: np.ndarray | list[int] | int, block: int = 5) -> np.ndarray:
    """E2 node (gNB) index owning each cell when the grid is cut into ``block`` x ``block`` squares.

    gNB indices run row-major from the south-west block: ``(row // block) * (100 // block) + col // block``.
    """
    if block < 1 or N_ROWS % block:
        raise DataError(f"block must divide {N_ROWS}, got {block}")
    rows, cols = cell_to_rc(cell_ids)
    return (rows // block) * (N_COLS // block) + cols // block


def gnb_cells(gnb: int, block: int = 5) -> np.ndarray:
    """Sorted cell ids owned by gNB index ``gnb`` (inverse of :func:`gnb_of_cell`)."""
    per_row = N_COLS // block
    if not 0 <= gnb < per_row * (N_ROWS // block):
        raise DataError(f"gNB index {gnb} outside 0..{per_row * (N_ROWS // block) - 1} for block {block}")
    r0, c0 = (gnb // per_row) * block, (gnb % per_row) * block
    rr, cc = np.meshgrid(np.arange(r0, r0 + block), np.arange(c0, c0 + block), indexing="ij")
    return np.sort(rc_to_cell(rr.ravel(), cc.ravel()))
