"""Settings of the local near-RT RIC fabric (one frozen dataclass; the CLI flags are shorthands)."""

from __future__ import annotations

from dataclasses import dataclass

from dnt.e2.kpm_types import KPM_OID
from dnt.e2.rc_ranfunc import RC_OID
from dnt.e2.transport import TRANSPORT_KINDS
from dnt.errors import ConfigError

__all__ = ["FabricConfig"]


@dataclass(frozen=True)
class FabricConfig:
    """Where the fabric listens and how its components behave.

    Ports default to the OSC ones (e2term SCTP 36422, RMR data 4560, submgr REST 8088); 0 picks a free port.
    """

    host: str = "127.0.0.1"
    """Listen address of every port (loopback by default: the fabric has no authentication)."""
    e2_port: int = 36422
    """E2 termination port (E2 nodes connect here)."""
    e2_transport: str = "tcp"
    """``tcp`` (4-byte length framing) or ``sctp`` (kernel SCTP, PPID 70)."""
    xapp_port: int = 4560
    """Port xApps attach to (:mod:`dnt.ric.local_runtime` frames)."""
    http_port: int = 8088
    """REST port: submgr ``/ric/v1/subscriptions``, A1 ``/A1-P/v2``, health, metrics, routes."""
    ric_mcc: str = "001"
    ric_mnc: str = "01"
    ric_id: int = 1
    """Global RIC ID sent in E2 setup responses (PLMN + 20-bit id)."""
    known_oids: tuple[str, ...] = (KPM_OID, RC_OID)
    """E2SMs the RIC serves: RAN functions with other OIDs are rejected at E2 setup (setup still succeeds)."""
    e2_timeout_s: float = 2.0
    """submgr: how long to wait for an E2 subscription (delete) response (``E2TimeoutTimerValue`` default)."""
    e2_retries: int = 2
    """submgr: E2 request re-sends after a timeout (``E2RetryCount`` default)."""
    notify_timeout_s: float = 5.0
    """submgr: HTTP timeout of the result notification to the xApp."""
    a1_delete_ttl_s: float = 5.0
    """A1: a deleted instance disappears when every handler answered DELETED, or after this long."""
    xapp_buffer_bytes: int = 8 << 20
    """Unsent bytes allowed per xApp connection; beyond it messages to that xApp are dropped (slow consumer)."""
    max_frame_bytes: int = 1 << 20
    """Largest E2AP PDU / xApp frame accepted."""

    def __post_init__(self) -> None:
        for name in ("e2_port", "xapp_port", "http_port"):
            port = getattr(self, name)
            if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < 65536:
                raise ConfigError(f"fabric.{name}={port!r} must be a TCP port (0 = any free one)")
        if self.e2_transport not in TRANSPORT_KINDS:
            raise ConfigError(f"fabric.e2_transport={self.e2_transport!r} must be one of {TRANSPORT_KINDS}")
        if not 0 <= self.ric_id < 1 << 20:
            raise ConfigError(f"fabric.ric_id={self.ric_id} must fit 20 bits")
        if min(self.e2_timeout_s, self.notify_timeout_s, self.a1_delete_ttl_s) <= 0 or self.e2_retries < 0:
            raise ConfigError("fabric timeouts must be > 0 s and e2_retries >= 0")
