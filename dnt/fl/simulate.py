"""Event-driven simulation of asynchronous twin updates on a virtual clock.

Clients (twin workers) wake up every ``period_s`` (from ``phase_s``), pull the model their cluster is
served, train on whatever new data they have (the ``work`` callback decides), and their update reaches
the server after a *virtual* duration: ``samples * s_per_sample * slowness`` of compute, the transfer
of one model down and one update up at ``link_bps``, and the client's fixed ``delay_s`` (queueing,
backhaul, a busy host). Meanwhile other updates move the server on, so updates arrive stale. A client
never overlaps itself: its next wake-up is one period after the last, or on arrival if that is later.

Nothing depends on measured time, so a run is a deterministic function of its inputs (ties on the
clock are broken by event order). The measured compute of each local training still goes to the cost
ledger. Starts happen before ``end_s``; updates in flight at ``end_s`` are delivered, and the servers'
buffers are flushed at the end unless ``flush_at_end`` is off.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, cast

import numpy as np

from dnt.errors import ConfigError
from dnt.fl.asyn import SubmitResult
from dnt.fl.cost import CostLedger
from dnt.fl.messages import WireSizes
from dnt.fl.types import GlobalModel, Update

__all__ = ["SimClient", "SimConfig", "WorkResult", "SimEvent", "SimResult", "Endpoint", "Work", "AsyncSimulation"]


class Endpoint(Protocol):
    """What the simulation talks to: an :class:`~dnt.fl.asyn.AsyncServer` or :class:`~dnt.fl.asyn.ClusteredAsync`."""

    def serve(self, cluster: int | None = None) -> GlobalModel: ...

    def submit(self, update: Update) -> SubmitResult: ...

    def flush(self) -> object: ...


@dataclass(frozen=True)
class SimClient:
    """A simulated twin worker."""

    client_id: str
    cluster: int | None = None
    period_s: float = 86_400.0
    """Seconds between wake-ups (how often it pushes what new data it has)."""
    phase_s: float = 0.0
    """First wake-up, seconds after the simulation start."""
    slowness: float = 1.0
    """Multiplier on the virtual compute time (heterogeneous hosts)."""
    delay_s: float = 0.0
    """Extra virtual seconds before its update reaches the server."""

    def __post_init__(self) -> None:
        if not (self.period_s > 0 and self.phase_s >= 0 and self.slowness > 0 and self.delay_s >= 0):
            raise ConfigError(f"client {self.client_id}: period_s > 0, slowness > 0, phase_s and delay_s >= 0")


@dataclass(frozen=True)
class SimConfig:
    """Clock and speed settings."""

    start_s: float = 0.0
    """Virtual time of the start."""
    end_s: float = 86_400.0
    """No client starts work at or after this time."""
    s_per_sample: float = 0.001
    """Virtual compute seconds per training sample-pass at slowness 1."""
    link_bps: float = 100e6
    """Virtual link rate for model and update transfers."""
    flush_at_end: bool = True
    """Aggregate what is left in the buffers once every update is delivered."""
    seed: int = 0
    """Root of the per-call seeds handed to ``work``."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.end_s) and self.end_s > self.start_s):
            raise ConfigError(f"end_s must be > start_s, got {self.start_s}..{self.end_s}")
        if not (self.s_per_sample >= 0 and self.link_bps > 0):
            raise ConfigError("s_per_sample must be >= 0 and link_bps > 0")


@dataclass(frozen=True, eq=False)
class WorkResult:
    """A client's work: the update (without staleness), the sample-passes and the measured CPU seconds."""

    update: Update
    samples: int
    compute_s: float


Work = Callable[[SimClient, float, GlobalModel, int], WorkResult | None]
"""``work(client, now_s, served_model, seed)``: train from ``served_model`` on the data the client has at
``now_s``; ``None`` = nothing new to learn from."""


@dataclass(frozen=True)
class SimEvent:
    """One delivered update."""

    t_s: float
    client_id: str
    cluster: int | None
    base_version: int
    staleness: int
    reason: str


@dataclass
class SimResult:
    """The delivered updates in order, skipped wake-ups, and the virtual makespan."""

    events: list[SimEvent] = field(default_factory=list)
    skipped: int = 0
    makespan_s: float = 0.0

    @property
    def staleness(self) -> np.ndarray:
        return np.array([e.staleness for e in self.events if e.reason in ("buffered", "applied")], dtype=np.int64)

    def count(self, reason: str) -> int:
        return sum(e.reason == reason for e in self.events)


class AsyncSimulation:
    """Runs clients against an endpoint on a virtual clock.

    Parameters
    ----------
    clients : the workers (ids unique).
    endpoint : the server (or clustered servers) updates go to.
    work : the training callback, see :data:`Work`.
    cfg : clock and speed settings.
    wire : message sizes for the transfer time and the ledger (default: 4 bytes per weight).
    ledger : when given, bytes (one model down, one update up per update), client compute, server
        compute (measured around ``submit``) and sample-passes are added under ``phase``.
    """

    def __init__(self, clients: Sequence[SimClient], endpoint: Endpoint, work: Work, cfg: SimConfig | None = None,
                 *, wire: WireSizes | None = None, ledger: CostLedger | None = None,
                 phase: str = "maintenance") -> None:
        ids = [c.client_id for c in clients]
        if len(set(ids)) != len(ids):
            raise ConfigError("client ids must be unique")
        self.clients = list(clients)
        self.endpoint, self.work = endpoint, work
        self.cfg = cfg or SimConfig()
        self.wire, self.ledger, self.phase = wire, ledger, phase

    def run(self) -> SimResult:
        cfg = self.cfg
        res = SimResult()
        heap: list[tuple[float, int, str, int, object]] = []
        seq = 0
        for i, c in enumerate(self.clients):
            heapq.heappush(heap, (cfg.start_s + c.phase_s, seq, "start", i, None))
            seq += 1
        calls = [0] * len(self.clients)
        last_start = [0.0] * len(self.clients)
        dim = self.endpoint.serve(None).vector.size
        up = self.wire.update_bytes if self.wire else 4 * dim
        down = self.wire.model_bytes if self.wire else 4 * dim
        while heap:
            t, _, kind, i, payload = heapq.heappop(heap)
            c = self.clients[i]
            res.makespan_s = max(res.makespan_s, t - cfg.start_s)
            if kind == "start":
                if t >= cfg.end_s:
                    continue
                last_start[i] = t
                served = self.endpoint.serve(c.cluster)
                seed = int(np.random.SeedSequence([cfg.seed, i, calls[i]]).generate_state(1)[0])
                calls[i] += 1
                out = self.work(c, t - cfg.start_s, served, seed)
                if out is None:
                    res.skipped += 1
                    heapq.heappush(heap, (t + c.period_s, seq, "start", i, None))
                else:
                    dur = (out.samples * cfg.s_per_sample * c.slowness + 8.0 * (up + down) / cfg.link_bps
                           + c.delay_s)
                    upd = out.update
                    if upd.base_version != served.version or upd.cluster != c.cluster:
                        upd = Update(upd.client_id, upd.delta, upd.num_samples, served.version, c.cluster)
                    if self.ledger is not None:
                        self.ledger.add(self.phase, bytes_down=down, client_s=out.compute_s, samples=out.samples,
                                        messages=1)
                    heapq.heappush(heap, (t + dur, seq, "arrive", i, upd))
            else:
                upd = cast(Update, payload)
                t0 = time.process_time()
                sub = self.endpoint.submit(upd)
                if self.ledger is not None:
                    self.ledger.add(self.phase, bytes_up=up, server_s=time.process_time() - t0, messages=1)
                res.events.append(SimEvent(t - cfg.start_s, c.client_id, c.cluster, upd.base_version,
                                           sub.staleness, sub.reason))
                nxt = max(t, last_start[i] + c.period_s)
                heapq.heappush(heap, (nxt, seq, "start", i, None))
            seq += 1
        if cfg.flush_at_end:
            t0 = time.process_time()
            self.endpoint.flush()
            if self.ledger is not None:
                self.ledger.add(self.phase, server_s=time.process_time() - t0)
        return res
