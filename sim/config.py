"""Simulator configuration: one frozen dataclass per concern, YAML + dotted overrides via :func:`dnt.config.load`.

``load_config("sim/config.example.yaml", ["replay.speed=60", "ric.transport=tcp"])`` reads the YAML, rejects
unknown keys and applies the overrides; the CLI turns its flags into such overrides.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dnt import config as dnt_config
from dnt.e2.transport import DEFAULT_MAX_FRAME_BYTES, E2AP_SCTP_PORT, TRANSPORT_KINDS
from dnt.errors import ConfigError
from sim.replay import ReplayConfig
from sim.topology import TopologyConfig

__all__ = ["RicConfig", "E2Config", "BackoffConfig", "FaultConfig", "SimConfig", "load_config", "CODECS"]

CODECS = ("fast", "generic")


@dataclass(frozen=True)
class RicConfig:
    """Where the E2 termination is and how to reach it."""

    host: str = "127.0.0.1"
    """E2 termination address."""
    port: int = E2AP_SCTP_PORT
    """E2 termination port (36422 as OSC e2term; srsRAN/FlexRIC set-ups often use 36421)."""
    transport: str = "sctp"
    """``"sctp"`` (kernel SCTP, PPID 70: real RICs) or ``"tcp"`` (4-byte length framing: local fabric, tests)."""
    connect_timeout_s: float = 5.0
    """Give up one connection attempt after this long (then back off and retry)."""
    setup_timeout_s: float = 10.0
    """Drop the association when no E2 setup response arrives within this long."""
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    """Largest PDU sent or accepted."""

    def __post_init__(self) -> None:
        if self.transport not in TRANSPORT_KINDS:
            raise ConfigError(f"ric.transport must be one of {TRANSPORT_KINDS}, got {self.transport!r}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"ric.port must be in 0..65535, got {self.port}")
        for name in ("connect_timeout_s", "setup_timeout_s"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"ric.{name} must be positive, got {getattr(self, name)}")
        if self.max_frame_bytes < 1024:
            raise ConfigError(f"ric.max_frame_bytes must be ≥ 1024, got {self.max_frame_bytes}")


@dataclass(frozen=True)
class E2Config:
    """E2 application settings of every simulated node."""

    kpm_ran_function_id: int = 2
    """RAN function id of E2SM-KPM (2 as srsRAN, VIAVI and kpimon expect)."""
    rc_ran_function_id: int = 3
    """RAN function id of E2SM-RC (3 as srsran/oran-sc-ric)."""
    min_report_period_ms: int = 10
    """Shortest KPM reporting period accepted; shorter event triggers are refused."""
    codec: str = "fast"
    """``"fast"``: pre-encoded constant parts + the RICindication template; ``"generic"``: every indication
    through the full E2AP (pycrate) and E2SM-KPM codecs. Both give the same bytes."""

    def __post_init__(self) -> None:
        for name in ("kpm_ran_function_id", "rc_ran_function_id"):
            if not 0 <= getattr(self, name) <= 4095:
                raise ConfigError(f"e2.{name} must be in 0..4095, got {getattr(self, name)}")
        if self.kpm_ran_function_id == self.rc_ran_function_id:
            raise ConfigError("e2.kpm_ran_function_id and e2.rc_ran_function_id must differ")
        if self.min_report_period_ms < 1:
            raise ConfigError(f"e2.min_report_period_ms must be ≥ 1, got {self.min_report_period_ms}")
        if self.codec not in CODECS:
            raise ConfigError(f"e2.codec must be one of {CODECS}, got {self.codec!r}")


@dataclass(frozen=True)
class BackoffConfig:
    """Reconnection after the RIC goes away: exponential backoff with jitter, capped."""

    initial_s: float = 0.5
    """First wait after a lost or refused association."""
    max_s: float = 30.0
    """Cap of the wait."""
    multiplier: float = 2.0
    """Growth of the wait per failed attempt."""
    jitter: float = 0.2
    """Each wait is scaled by a uniform factor in [1 - jitter, 1 + jitter] (0..1), so nodes do not reconnect
    in lockstep."""

    def __post_init__(self) -> None:
        if not 0 < self.initial_s <= self.max_s:
            raise ConfigError(f"backoff needs 0 < initial_s <= max_s, got {self.initial_s}, {self.max_s}")
        if not self.multiplier >= 1:
            raise ConfigError(f"backoff.multiplier must be ≥ 1, got {self.multiplier}")
        if not 0 <= self.jitter < 1:
            raise ConfigError(f"backoff.jitter must be in [0, 1), got {self.jitter}")

    def delay_s(self, attempt: int, u: float) -> float:
        """Wait before reconnection attempt ``attempt`` (0 = first retry), with ``u`` uniform in [0, 1)."""
        base = min(self.initial_s * self.multiplier ** min(attempt, 64), self.max_s)
        return min(base * (1 - self.jitter + 2 * self.jitter * u), self.max_s * (1 + self.jitter))


@dataclass(frozen=True)
class FaultConfig:
    """Fault injection (for tests and demos); all off by default. Runtime switches exist on the runner too."""

    drop_association_every_s: float | None = None
    """Close every node's association this often (wall seconds); the node then backs off and reconnects."""
    malformed_pdu_every_s: float | None = None
    """Send a malformed PDU (undecodable bytes) this often on every association."""
    report_delay_ms: float = 0.0
    """Hold every batch of indications back this long before sending (a slow or congested node)."""

    def __post_init__(self) -> None:
        for name in ("drop_association_every_s", "malformed_pdu_every_s"):
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and v > 0):
                raise ConfigError(f"faults.{name} must be positive or null, got {v}")
        if not 0 <= self.report_delay_ms < 3_600_000:
            raise ConfigError(f"faults.report_delay_ms must be in [0, 3600000), got {self.report_delay_ms}")


@dataclass(frozen=True)
class SimConfig:
    """The whole simulator."""

    ric: RicConfig = field(default_factory=RicConfig)
    """E2 termination address and transport."""
    topology: TopologyConfig = field(default_factory=TopologyConfig)
    """gNBs, their cells and identities."""
    replay: ReplayConfig = field(default_factory=ReplayConfig)
    """Traffic source, replay speed, capacity model and initial slice policy."""
    e2: E2Config = field(default_factory=E2Config)
    """RAN function ids and codec path."""
    backoff: BackoffConfig = field(default_factory=BackoffConfig)
    """Reconnection backoff."""
    faults: FaultConfig = field(default_factory=FaultConfig)
    """Fault injection switches."""


def load_config(path: str | Path | None = None, overrides: Sequence[str] = ()) -> SimConfig:
    """YAML at ``path`` (or the defaults) with ``a.b=c`` overrides → :class:`SimConfig`."""
    cfg = dnt_config.load(path, SimConfig, overrides)
    if not isinstance(cfg, SimConfig):  # pragma: no cover - load returns cls
        raise ConfigError("config did not load as SimConfig")
    return cfg
