"""Codecs of the twin messages (``schemas/proto/dnt_twin.proto``): TwinUpdate, GlobalTwin, Forecast.

Messages are frozen dataclasses; ``encode(msg) -> bytes`` and ``decode(data, cls) -> msg``. Decoding
checks more than the protobuf parser does (which accepts most short byte strings as a message of
unknown fields): every tensor's byte length must match its shape, an update must carry tensors, and a
layout, when given, must match names and shapes; otherwise :class:`~dnt.errors.DecodeError`. A
:class:`GlobalTwin`'s weights must hash to its ``sha256`` (:func:`~dnt.fl.types.vector_digest`),
otherwise :class:`~dnt.errors.ModelIntegrityError`: a corrupt or tampered model is never loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from google.protobuf.message import DecodeError as _PbDecodeError
from google.protobuf.message import EncodeError as _PbEncodeError
from torch import nn

from dnt.errors import DecodeError, EncodeError, ModelIntegrityError
from dnt.fl.proto import dnt_twin_pb2 as pb
from dnt.fl.types import GlobalModel, Layout, Update, flatten, layout, split, unflatten, vector_digest

__all__ = ["TwinUpdate", "GlobalTwin", "Forecast", "WireSizes", "encode", "decode", "global_twin_from_model"]


@dataclass(frozen=True, eq=False)
class TwinUpdate:
    """A twin worker's update on the wire.

    Parameters
    ----------
    update : the :class:`~dnt.fl.types.Update` (flat delta in ``layout`` order).
    layout : tensor names and shapes the flat delta is cut into.
    created_ms : worker clock when the update was made (ms since the epoch).
    nonce, auth_tag : reserved for the security issue (replay protection and message authentication);
        empty = unsigned.
    """

    update: Update
    layout: Layout
    created_ms: int = 0
    nonce: bytes = b""
    auth_tag: bytes = b""


@dataclass(frozen=True, eq=False)
class GlobalTwin:
    """A published twin model (the global twin, or a cluster twin when ``model.cluster`` is set)."""

    model: GlobalModel
    layout: Layout
    created_ms: int = 0

    @property
    def sha256(self) -> str:
        return self.model.digest

    def load_into(self, module: nn.Module) -> nn.Module:
        """Copy the weights into ``module`` (same architecture; :class:`DecodeError` if the layout differs)."""
        if layout(module) != self.layout:
            raise DecodeError(f"GlobalTwin layout {_describe(self.layout)} does not match the model "
                              f"{_describe(layout(module))}")
        return unflatten(self.model.vector, module)


@dataclass(frozen=True)
class Forecast:
    """One cell's forecast: ``values[j]`` is the interval starting at ``start_ms + j * step_ms``."""

    cell_id: int
    start_ms: int
    step_ms: int
    values: tuple[float, ...]
    model_version: int
    cluster: int | None = None


Msg = TypeVar("Msg", TwinUpdate, GlobalTwin, Forecast)


def global_twin_from_model(module: nn.Module, version: int, cluster: int | None = None,
                           created_ms: int = 0) -> GlobalTwin:
    """A :class:`GlobalTwin` holding ``module``'s current weights."""
    return GlobalTwin(GlobalModel(version, flatten(module), cluster), layout(module), created_ms)


@dataclass(frozen=True)
class WireSizes:
    """Encoded sizes of one update and one model of a layout (for cost accounting)."""

    update_bytes: int
    model_bytes: int

    @classmethod
    def of(cls, lay: Layout, client_id: str = "0000", version: int = 1_000_000) -> WireSizes:
        """Sizes of a :class:`TwinUpdate` (with a cluster id and a 16-byte nonce and 32-byte tag, as a
        signed update will carry) and a :class:`GlobalTwin` of ``lay``; within a few varint bytes of any
        real message of that layout."""
        zeros = np.zeros(lay.size, dtype=np.float32)
        upd = TwinUpdate(Update(client_id, zeros, 1_000, version, 0, 0), lay, 1_700_000_000_000,
                         b"\0" * 16, b"\0" * 32)
        model = GlobalTwin(GlobalModel(version, zeros, 0), lay, 1_700_000_000_000)
        return cls(len(encode(upd)), len(encode(model)))


def _describe(lay: Layout) -> str:
    return f"({len(lay.names)} tensors, {lay.size} scalars)"


def _tensors_out(target: Any, vec: np.ndarray, lay: Layout) -> None:
    for name, arr in split(vec, lay).items():
        target.add(name=name, shape=list(arr.shape), data=np.ascontiguousarray(arr, dtype="<f4").tobytes())


def _tensors_in(tensors: Any, expected: Layout | None, what: str) -> tuple[np.ndarray, Layout]:
    names: list[str] = []
    shapes: list[tuple[int, ...]] = []
    parts: list[np.ndarray] = []
    for t in tensors:
        shape = tuple(int(s) for s in t.shape)
        n = int(np.prod(shape, dtype=np.int64))
        if len(t.data) != 4 * n:
            raise DecodeError(f"{what}: tensor {t.name!r} of shape {shape} carries {len(t.data)} bytes, "
                              f"expected {4 * n} (float32)")
        names.append(t.name)
        shapes.append(shape)
        parts.append(np.frombuffer(t.data, dtype="<f4"))
    try:
        lay = Layout(tuple(names), tuple(shapes))
    except ValueError as err:
        raise DecodeError(f"{what}: {err}") from err
    if expected is not None and lay != expected:
        raise DecodeError(f"{what}: tensors {_describe(lay)} do not match the expected model {_describe(expected)}"
                          " (names or shapes differ: another model architecture?)")
    vec = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, dtype=np.float32)
    return vec, lay


def encode(msg: TwinUpdate | GlobalTwin | Forecast) -> bytes:
    """Serialise a message to protobuf bytes.

    Raises
    ------
    EncodeError
        if a field does not fit its wire type (e.g. a layout that does not match the vector).
    """
    try:
        if isinstance(msg, TwinUpdate):
            u = msg.update
            out = pb.TwinUpdate(client_id=u.client_id, base_version=u.base_version, num_samples=u.num_samples,
                                created_ms=msg.created_ms, nonce=msg.nonce, auth_tag=msg.auth_tag)
            if u.cluster is not None:
                out.cluster_id = u.cluster
            if u.staleness is not None:
                out.staleness = u.staleness
            _tensors_out(out.delta, u.delta, msg.layout)
        elif isinstance(msg, GlobalTwin):
            out = pb.GlobalTwin(version=msg.model.version, sha256=msg.model.digest, created_ms=msg.created_ms)
            if msg.model.cluster is not None:
                out.cluster_id = msg.model.cluster
            _tensors_out(out.tensors, msg.model.vector, msg.layout)
        elif isinstance(msg, Forecast):
            out = pb.Forecast(cell_id=msg.cell_id, start_ms=msg.start_ms, step_ms=msg.step_ms,
                              values=[float(v) for v in msg.values], model_version=msg.model_version)
            if msg.cluster is not None:
                out.cluster_id = msg.cluster
        else:
            raise EncodeError(f"not a twin message: {type(msg).__name__}")
        return bytes(out.SerializeToString())
    except (ValueError, TypeError, _PbEncodeError) as err:
        if isinstance(err, EncodeError):
            raise
        raise EncodeError(f"cannot encode {type(msg).__name__}: {err}") from err


def _parse(data: bytes, cls: Any, what: str) -> Any:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise DecodeError(f"{what}: expected bytes, got {type(data).__name__}")
    try:
        return cls.FromString(bytes(data))
    except (_PbDecodeError, ValueError, TypeError, IndexError, RuntimeError) as err:
        raise DecodeError(f"{what}: not a valid protobuf message ({err})") from err


def decode(data: bytes, cls: type[Msg], layout: Layout | None = None) -> Msg:
    """Parse ``data`` as a message of class ``cls`` (:class:`TwinUpdate`, :class:`GlobalTwin`, :class:`Forecast`).

    Parameters
    ----------
    layout : for updates and models, the expected tensor names and shapes (``None`` = accept any).

    Raises
    ------
    DecodeError
        for bytes that are not a valid message of that kind.
    ModelIntegrityError
        for a :class:`GlobalTwin` whose weights do not hash to its ``sha256``.
    """
    result: Any
    if cls is TwinUpdate:
        m = _parse(data, pb.TwinUpdate, "TwinUpdate")
        if len(m.delta) == 0:
            raise DecodeError("TwinUpdate: no delta tensors (empty or foreign bytes?)")
        if not m.client_id:
            raise DecodeError("TwinUpdate: empty client_id")
        vec, lay = _tensors_in(m.delta, layout, "TwinUpdate")
        try:
            upd = Update(m.client_id, vec, int(m.num_samples), int(m.base_version),
                         int(m.cluster_id) if m.HasField("cluster_id") else None,
                         int(m.staleness) if m.HasField("staleness") else None)
        except ValueError as err:
            raise DecodeError(f"TwinUpdate: {err}") from err
        result = TwinUpdate(upd, lay, int(m.created_ms), bytes(m.nonce), bytes(m.auth_tag))
    elif cls is GlobalTwin:
        m = _parse(data, pb.GlobalTwin, "GlobalTwin")
        if len(m.tensors) == 0:
            raise DecodeError("GlobalTwin: no tensors (empty or foreign bytes?)")
        vec, lay = _tensors_in(m.tensors, layout, "GlobalTwin")
        got = vector_digest(vec)
        if m.sha256 != got:
            raise ModelIntegrityError(f"GlobalTwin v{m.version}: weights hash to {got[:16]}…, the message says "
                                      f"{m.sha256[:16] or '(none)'}…; the model is corrupt or was modified, "
                                      "keep the current twin and fetch it again")
        cluster = int(m.cluster_id) if m.HasField("cluster_id") else None
        result = GlobalTwin(GlobalModel(int(m.version), vec, cluster), lay, int(m.created_ms))
    elif cls is Forecast:
        m = _parse(data, pb.Forecast, "Forecast")
        if len(m.values) == 0 or m.step_ms == 0:
            raise DecodeError("Forecast: no values or step_ms 0 (empty or foreign bytes?)")
        result = Forecast(int(m.cell_id), int(m.start_ms), int(m.step_ms), tuple(float(v) for v in m.values),
                          int(m.model_version), int(m.cluster_id) if m.HasField("cluster_id") else None)
    else:
        raise DecodeError(f"unknown message class {cls!r}; expected TwinUpdate, GlobalTwin or Forecast")
    return result  # type: ignore[no-any-return]
