"""Cost accounting for every way of mapping the network into its twin.

A :class:`CostLedger` collects what a method spent, by phase (``creation``, ``maintenance``, ...):
bytes sent up (clients → server: raw data for the traditional twin, model updates for FL) and down
(server → clients: models), client compute seconds, server compute seconds, wall seconds, messages
and training sample-passes (a machine-independent compute count). :class:`CostWeights` folds bytes and
compute into one number, in *resource-seconds*::

    cost_s = compute_weight * (client_s + server_s) + 8 * (bytes_up + bytes_down) / link_bps

i.e. a byte costs the time it occupies a link of ``link_bps`` and a compute second costs
``compute_weight`` (1 = a CPU second is worth a link second). Each part is also reported on its own.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from dnt.errors import ConfigError

__all__ = ["CostTotals", "CostWeights", "CostLedger"]


@dataclass(frozen=True)
class CostTotals:
    """Summed costs (of one phase or of all)."""

    bytes_up: int = 0
    """Bytes sent from clients (cells / twin workers) to the server."""
    bytes_down: int = 0
    """Bytes sent from the server to clients."""
    client_s: float = 0.0
    """Compute seconds spent on clients (local training, local evaluation)."""
    server_s: float = 0.0
    """Compute seconds spent on the server (aggregation, centralised training)."""
    wall_s: float = 0.0
    """Wall seconds (measured, or simulated where a phase runs on a virtual clock)."""
    messages: int = 0
    """Messages sent (both directions)."""
    samples: int = 0
    """Training sample-passes (windows × epochs): a compute count that does not depend on the machine."""

    def __add__(self, other: CostTotals) -> CostTotals:
        return CostTotals(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    @property
    def bytes(self) -> int:
        """Bytes in both directions."""
        return self.bytes_up + self.bytes_down

    @property
    def compute_s(self) -> float:
        """Client plus server compute seconds."""
        return self.client_s + self.server_s


@dataclass(frozen=True)
class CostWeights:
    """How bytes and compute are folded into one cost (see the module docstring)."""

    link_bps: float = 100e6
    """Link rate that converts bytes into link-seconds (default 100 Mbit/s, a cell's share of backhaul)."""
    compute_weight: float = 1.0
    """Resource-seconds per compute second."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.link_bps) and self.link_bps > 0):
            raise ConfigError(f"link_bps must be > 0, got {self.link_bps!r}")
        if not (math.isfinite(self.compute_weight) and self.compute_weight >= 0):
            raise ConfigError(f"compute_weight must be >= 0, got {self.compute_weight!r}")

    def link_s(self, t: CostTotals) -> float:
        """Link-seconds of the bytes in ``t``."""
        return 8.0 * t.bytes / self.link_bps

    def cost(self, t: CostTotals) -> float:
        """``compute_weight * compute_s + link_s`` of ``t``."""
        return self.compute_weight * t.compute_s + self.link_s(t)


@dataclass
class CostLedger:
    """What one method spent, by phase.

    Examples
    --------
    >>> led = CostLedger("htwin")
    >>> led.add("maintenance", bytes_up=410_000, client_s=0.2, messages=1)
    >>> led.totals().bytes_up
    410000
    """

    method: str = ""
    phases: dict[str, CostTotals] = field(default_factory=dict)

    def add(self, phase: str, *, bytes_up: int = 0, bytes_down: int = 0, client_s: float = 0.0,
            server_s: float = 0.0, wall_s: float = 0.0, messages: int = 0, samples: int = 0) -> None:
        """Add costs to ``phase``; every amount must be >= 0 (:class:`ConfigError` otherwise)."""
        amounts = {"bytes_up": bytes_up, "bytes_down": bytes_down, "client_s": client_s, "server_s": server_s,
                   "wall_s": wall_s, "messages": messages, "samples": samples}
        for k, v in amounts.items():
            if not (math.isfinite(v) and v >= 0):
                raise ConfigError(f"cost {k} must be finite and >= 0, got {v!r}")
        add = CostTotals(int(bytes_up), int(bytes_down), float(client_s), float(server_s), float(wall_s),
                         int(messages), int(samples))
        self.phases[phase] = self.phases.get(phase, CostTotals()) + add

    def merge(self, other: CostLedger) -> None:
        """Add every phase of ``other`` to this ledger."""
        for phase, t in other.phases.items():
            self.phases[phase] = self.phases.get(phase, CostTotals()) + t

    def totals(self, phase: str | None = None) -> CostTotals:
        """Totals of one phase (zeros if it has none) or, with ``None``, of all phases."""
        if phase is not None:
            return self.phases.get(phase, CostTotals())
        out = CostTotals()
        for t in self.phases.values():
            out = out + t
        return out

    def cost(self, weights: CostWeights, phase: str | None = None) -> float:
        """The folded cost (resource-seconds) of one phase or of all."""
        return weights.cost(self.totals(phase))

    def as_dict(self, weights: CostWeights | None = None) -> dict[str, Any]:
        """JSON-able record: per-phase and total amounts, plus link-seconds and cost when ``weights`` given."""

        def one(t: CostTotals) -> dict[str, Any]:
            d: dict[str, Any] = {**asdict(t), "bytes": t.bytes, "compute_s": t.compute_s}
            if weights is not None:
                d["link_s"] = weights.link_s(t)
                d["cost_s"] = weights.cost(t)
            return d

        return {"method": self.method, "phases": {p: one(t) for p, t in self.phases.items()},
                "total": one(self.totals())}
