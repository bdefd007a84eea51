"""Loader for the shared E2 byte-vector files (``shared/data/e2-vectors/*.txt``).

Format (see that folder's README): header lines ``# key: value`` (``what``, ``type``, ``e2ap``, ``e2sm``,
``source``, ``produced_by``, ``length``), then one line ``hex: <hex digits>``. Blank lines are allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dnt.errors import DataError

__all__ = ["Vector", "load_vector", "load_vectors"]


@dataclass(frozen=True)
class Vector:
    """One vector file.

    Attributes
    ----------
    name : str
        File name without ``.txt`` (``"srsran_ricsubscriptionrequest"``).
    path : Path
        The file.
    data : bytes
        The PDU bytes (the ``hex:`` line).
    meta : dict of str to str
        The header fields, keys lower-case (``meta["type"] == "E2AP-PDU"``).
    """

    name: str
    path: Path
    data: bytes
    meta: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def type(self) -> str:
        """The ``# type`` field (``"E2AP-PDU"``, ``"E2AP-PDU (expected to FAIL)"``, ``"E2SM-KPM-..."``)."""
        return self.meta.get("type", "")

    @property
    def negative(self) -> bool:
        """True for a vector that a conformant decoder must reject (``*_NEGATIVE`` or "expected to FAIL")."""
        return self.name.endswith("_NEGATIVE") or "expected to fail" in self.type.lower()


def load_vector(path: str | Path) -> Vector:
    """Read one vector file.

    Parameters
    ----------
    path : str or Path
        The ``.txt`` file.

    Returns
    -------
    Vector

    Raises
    ------
    DataError
        No ``hex:`` line, two of them, odd or non-hex digits, or a ``# length`` that disagrees with the
        bytes (the message names the file and line).
    """
    p = Path(path)
    meta: dict[str, str] = {}
    data: bytes | None = None
    for lineno, raw in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep:
                meta[key.strip().lower()] = value.strip()
            continue
        if line.startswith("hex:"):
            if data is not None:
                raise DataError("a second hex: line (one PDU per file)", path=str(p), line=lineno)
            digits = "".join(line[4:].split())
            try:
                data = bytes.fromhex(digits)
            except ValueError as err:
                raise DataError(f"hex: line is not hex digits: {err}", path=str(p), line=lineno) from err
            continue
        raise DataError(
            f"unexpected line {line[:40]!r} (expected '# key: value' or 'hex: ...')", path=str(p), line=lineno
        )
    if data is None:
        raise DataError("no hex: line", path=str(p))
    length = meta.get("length", "").split(" ")[0]
    if length.isdigit() and int(length) != len(data):
        raise DataError(f"# length says {length} bytes, hex: holds {len(data)}", path=str(p))
    return Vector(name=p.stem, path=p, data=data, meta=meta)


def load_vectors(directory: str | Path, type_prefix: str | None = None) -> list[Vector]:
    """Read every ``*.txt`` vector of a folder (``README.md`` is skipped), sorted by name.

    Parameters
    ----------
    directory : str or Path
        The folder, e.g. ``shared/data/e2-vectors``.
    type_prefix : str or None
        Keep only vectors whose ``# type`` starts with this (``"E2AP-PDU"``).

    Returns
    -------
    list of Vector
    """
    vectors = [load_vector(p) for p in sorted(Path(directory).glob("*.txt"))]
    if type_prefix is not None:
        vectors = [v for v in vectors if v.type.startswith(type_prefix)]
    return vectors
