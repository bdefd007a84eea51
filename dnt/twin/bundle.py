"""One-file model bundles with a content hash: weights + window config + normaliser + metadata.

Layout (``.dntm``)::

    b"DNTMODEL\\n"                                   magic, 9 bytes
    {"format": 1, "sha256": "<hex>", "payload_bytes": N}\\n   one JSON line
    <payload: N bytes, a torch.save of {"forecaster": state, "metadata": {...}}>

The SHA-256 is over the payload bytes. :func:`load_bundle` checks the magic, the length and the hash
before unpickling anything (and then unpickles with ``weights_only=True``), so a tampered or truncated
file raises :class:`~dnt.errors.ModelIntegrityError` instead of loading wrong weights. The A1 model
manifest names this digest; xApps verify it before loading.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from dnt.errors import DataError, ModelIntegrityError
from dnt.twin.train import Forecaster

__all__ = ["BUNDLE_MAGIC", "Bundle", "save_bundle", "load_bundle", "digest", "pack_payload", "unpack_payload"]

BUNDLE_MAGIC = b"DNTMODEL\n"
BUNDLE_FORMAT = 1
_MAX_HEADER = 4096


@dataclass(frozen=True, eq=False)
class Bundle:
    """A loaded bundle: the ready forecaster, its metadata and the verified payload digest (hex)."""

    forecaster: Forecaster
    metadata: dict[str, Any] = field(default_factory=dict)
    digest: str = ""


def save_bundle(forecaster: Forecaster, path: str | Path, metadata: dict[str, Any] | None = None) -> str:
    """Write ``forecaster`` (and JSON-able ``metadata``) to ``path`` atomically; return the digest.

    Raises
    ------
    DataError
        if the forecaster is not trained or ``metadata`` is not JSON-serialisable.
    """
    path = Path(path)
    meta = dict(metadata or {})
    try:
        json.dumps(meta, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise DataError(f"bundle metadata must be plain JSON ({err})") from err
    buf = io.BytesIO()
    torch.save({"forecaster": forecaster.state_dict(), "metadata": meta}, buf)
    data, sha = pack_payload(buf.getvalue())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return sha


def pack_payload(payload: bytes) -> tuple[bytes, str]:
    """Frame ``payload`` as a bundle (magic, JSON header with its SHA-256, payload); return ``(bytes, digest)``."""
    sha = hashlib.sha256(payload).hexdigest()
    header = json.dumps({"format": BUNDLE_FORMAT, "sha256": sha, "payload_bytes": len(payload)}).encode()
    return BUNDLE_MAGIC + header + b"\n" + payload, sha


def _verified_payload(path: Path) -> tuple[bytes, str]:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ModelIntegrityError(f"{path}: cannot read model bundle ({err})") from err
    return unpack_payload(data, str(path))


def unpack_payload(data: bytes, source: str = "<bytes>") -> tuple[bytes, str]:
    """Check a framed bundle's magic, length and SHA-256; return ``(payload, digest)``.

    Raises
    ------
    ModelIntegrityError
        naming ``source``, if the bytes are not a bundle, are truncated or fail their hash.
    """
    path = source
    hint = "re-download or re-publish the model (the file is corrupt, truncated or was modified)"
    if not data.startswith(BUNDLE_MAGIC):
        raise ModelIntegrityError(f"{path}: not a DNT model bundle (bad magic); {hint}")
    end = data.find(b"\n", len(BUNDLE_MAGIC), len(BUNDLE_MAGIC) + _MAX_HEADER)
    if end < 0:
        raise ModelIntegrityError(f"{path}: bundle header is missing or truncated; {hint}")
    try:
        header = json.loads(data[len(BUNDLE_MAGIC):end])
        fmt, sha, size = header["format"], str(header["sha256"]), int(header["payload_bytes"])
    except (ValueError, KeyError, TypeError) as err:
        raise ModelIntegrityError(f"{path}: unreadable bundle header ({err}); {hint}") from err
    if fmt != BUNDLE_FORMAT:
        raise ModelIntegrityError(f"{path}: bundle format {fmt} is not supported (expected {BUNDLE_FORMAT}); "
                                  "re-export the model with this version of dnt")
    payload = data[end + 1:]
    if len(payload) != size:
        raise ModelIntegrityError(f"{path}: payload is {len(payload)} bytes, header says {size} "
                                  f"(truncated or padded); {hint}")
    actual = hashlib.sha256(payload).hexdigest()
    if actual != sha:
        raise ModelIntegrityError(f"{path}: content hash mismatch (stored sha256 {sha[:12]}…, "
                                  f"computed {actual[:12]}…); {hint}")
    return payload, sha


def digest(path: str | Path) -> str:
    """The verified SHA-256 (hex) of a bundle's payload; :class:`ModelIntegrityError` if it does not match."""
    return _verified_payload(Path(path))[1]


def load_bundle(path: str | Path) -> Bundle:
    """Read and verify a bundle written by :func:`save_bundle`.

    Raises
    ------
    ModelIntegrityError
        if the file is unreadable, not a bundle, truncated, fails its hash, or its content is malformed.
    """
    path = Path(path)
    payload, sha = _verified_payload(path)
    try:
        doc = torch.load(io.BytesIO(payload), weights_only=True)
        forecaster = Forecaster.from_state_dict(doc["forecaster"])
        metadata = dict(doc.get("metadata", {}))
    except (DataError, KeyError, TypeError, RuntimeError, EOFError, ValueError,
            pickle.UnpicklingError) as err:
        raise ModelIntegrityError(f"{path}: bundle hash is valid but its content is malformed ({err}); "
                                  "re-export the model") from err
    return Bundle(forecaster, metadata, sha)
