"""The small shared types of federated twin learning: updates, aggregation context and result, model vectors.

A model travels as one flat float32 vector in its state-dict order (:func:`flatten`); a :class:`Layout`
(names and shapes) splits it back into tensors (:func:`unflatten`, :func:`split`). An :class:`Update` is
a client's ``delta = local weights - weights of base_version``; a rule turns a list of updates into one
:class:`Aggregated` delta. :class:`GlobalModel` is a published version with its content digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from dnt.errors import DataError

__all__ = [
    "Layout",
    "Update",
    "AggContext",
    "Aggregated",
    "GlobalModel",
    "layout",
    "flatten",
    "unflatten",
    "split",
    "vector_digest",
]


@dataclass(frozen=True)
class Layout:
    """Names and shapes of a model's floating-point state-dict entries, in order.

    Parameters
    ----------
    names : tensor names (``close.weight_ih_l0`` ...).
    shapes : one shape per name.
    """

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        if len(self.names) != len(self.shapes):
            raise DataError(f"layout has {len(self.names)} names but {len(self.shapes)} shapes")
        if len(set(self.names)) != len(self.names):
            raise DataError("layout names must be unique")

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(int(np.prod(s, dtype=np.int64)) for s in self.shapes)

    @property
    def size(self) -> int:
        """Total number of scalars (the flat vector's length)."""
        return int(sum(self.sizes))

    @property
    def nbytes(self) -> int:
        """Bytes of the flat vector as float32."""
        return 4 * self.size


@dataclass(frozen=True, eq=False)
class Update:
    """One client's model update.

    Parameters
    ----------
    client_id : who sent it (a cell id as text, e.g. ``"5161"``).
    delta : (D,) float32, local weights minus the weights of ``base_version``.
    num_samples : training windows behind it (the weight of sample-weighted rules).
    base_version : version of the model the local training started from.
    cluster : the client's V-twin cluster, ``None`` = unclustered.
    staleness : versions the server advanced between ``base_version`` and arrival; ``None`` = let the
        server / rule compute it as ``ctx.version - base_version``.
    """

    client_id: str
    delta: np.ndarray
    num_samples: int
    base_version: int
    cluster: int | None = None
    staleness: int | None = None

    def __post_init__(self) -> None:
        d = np.asarray(self.delta)
        if d.ndim != 1:
            raise DataError(f"update delta must be 1-D, got shape {d.shape} (flatten the model first)")
        if not np.issubdtype(d.dtype, np.number):
            raise DataError(f"update delta must be numeric, got dtype {d.dtype}")
        object.__setattr__(self, "delta", np.ascontiguousarray(d, dtype=np.float32))
        object.__setattr__(self, "client_id", str(self.client_id))
        for name in ("num_samples", "base_version"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0:
                raise DataError(f"update {name} must be an integer >= 0, got {v!r}")
            object.__setattr__(self, name, int(v))
        if self.staleness is not None:
            if isinstance(self.staleness, bool) or not isinstance(self.staleness, int | np.integer) \
                    or self.staleness < 0:
                raise DataError(f"update staleness must be an integer >= 0 or None, got {self.staleness!r}")
            object.__setattr__(self, "staleness", int(self.staleness))
        if self.cluster is not None:
            object.__setattr__(self, "cluster", int(self.cluster))


@dataclass(frozen=True)
class AggContext:
    """What a rule may know besides the updates. Rules are pure functions of (updates, context).

    Parameters
    ----------
    seed : randomness of the rule (random tie-breaks, sampling), so one seed gives one result.
    version : the current model version at aggregation time.
    staleness : per update (aligned with the list given to the rule); ``None`` = each update's own
        ``staleness``, else ``version - base_version``.
    config : free-form extras a rule may read.
    reference : (D,) the server's own update for this round, trained on its small clean root dataset
        from the same model as the clients (FLTrust's ``g_0``); ``None`` = the server has none. Rules
        that need it (:class:`~dnt.fl.rules.FLTrust`) raise :class:`~dnt.errors.AggregationError`
        without it; the others ignore it. Not part of equality.
    """

    seed: int = 0
    version: int = 0
    staleness: tuple[int, ...] | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    reference: np.ndarray | None = field(default=None, compare=False)


@dataclass(frozen=True, eq=False)
class Aggregated:
    """A rule's output.

    Parameters
    ----------
    delta : (D,) float32 aggregated update, to be added (times the server step) to the model.
    weights : (n,) float64 weight of each input update in input order (0 for rejected ones).
    rejected : indices of the input updates the rule left out, ascending.
    """

    delta: np.ndarray
    weights: np.ndarray
    rejected: tuple[int, ...] = ()

    def rejected_ids(self, updates: Sequence[Update]) -> list[str]:
        """Client ids of the rejected updates."""
        return [updates[i].client_id for i in self.rejected]


def vector_digest(vec: np.ndarray) -> str:
    """Hex SHA-256 of a flat model vector's little-endian float32 bytes (the twin's content hash)."""
    return hashlib.sha256(np.ascontiguousarray(vec, dtype="<f4").tobytes()).hexdigest()


@dataclass(frozen=True, eq=False)
class GlobalModel:
    """One published version of a twin (global or cluster).

    Parameters
    ----------
    version : increases by one per applied aggregation.
    vector : (D,) float32 weights (read-only copy).
    cluster : ``None`` for the global twin, else the cluster id.
    """

    version: int
    vector: np.ndarray
    cluster: int | None = None

    def __post_init__(self) -> None:
        v = np.array(self.vector, dtype=np.float32).reshape(-1)
        v.setflags(write=False)
        object.__setattr__(self, "vector", v)
        if self.version < 0:
            raise DataError(f"model version must be >= 0, got {self.version}")

    @property
    def digest(self) -> str:
        """:func:`vector_digest` of the weights."""
        return vector_digest(self.vector)


def _float_items(model: nn.Module | Mapping[str, torch.Tensor]) -> list[tuple[str, torch.Tensor]]:
    state = model.state_dict() if isinstance(model, nn.Module) else model
    return [(k, v) for k, v in state.items() if torch.is_floating_point(v)]


def layout(model: nn.Module | Mapping[str, torch.Tensor]) -> Layout:
    """The :class:`Layout` of a model (or state dict): its floating-point entries in state-dict order."""
    items = _float_items(model)
    return Layout(tuple(k for k, _ in items), tuple(tuple(int(s) for s in v.shape) for _, v in items))


def flatten(model: nn.Module | Mapping[str, torch.Tensor]) -> np.ndarray:
    """(D,) float32 copy of the model's floating-point state, concatenated in state-dict order."""
    items = _float_items(model)
    if not items:
        return np.zeros(0, dtype=np.float32)
    return torch.cat([v.detach().reshape(-1).to(torch.float32).cpu() for _, v in items]).numpy().copy()


def split(vec: np.ndarray, lay: Layout) -> dict[str, np.ndarray]:
    """Cut a flat vector into named arrays of ``lay``'s shapes (views into ``vec``)."""
    vec = np.asarray(vec)
    if vec.ndim != 1 or vec.size != lay.size:
        raise DataError(f"vector of shape {vec.shape} does not fit a layout of {lay.size} scalars")
    out: dict[str, np.ndarray] = {}
    off = 0
    for name, shape, n in zip(lay.names, lay.shapes, lay.sizes, strict=True):
        out[name] = vec[off:off + n].reshape(shape)
        off += n
    return out


@torch.no_grad()
def unflatten(vec: np.ndarray, model: nn.Module) -> nn.Module:
    """Copy a flat vector (from :func:`flatten` of the same architecture) into ``model`` in place.

    Raises
    ------
    DataError
        if the vector's length does not match the model.
    """
    state = model.state_dict()
    lay = layout(state)
    parts = split(np.array(vec, dtype=np.float32), lay)  # a writable copy: torch cannot wrap read-only arrays
    for name, arr in parts.items():
        state[name].copy_(torch.from_numpy(np.ascontiguousarray(arr)).to(state[name].dtype))
    return model
