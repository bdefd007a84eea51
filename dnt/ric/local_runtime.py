"""The local runtime: an xApp attached to the local near-RT RIC fabric (``python -m sim.fabric``) over TCP.

Everything but the transport is production's: SDL is :class:`~dnt.ric.sdl.SdlStore` on the fabric's Redis
(configured by ``DBAAS_SERVICE_HOST`` / ``DBAAS_SERVICE_PORT``, as ricsdl is in a pod; when they are unset,
the Redis the fabric announces is used), subscriptions go through the fabric's subscription manager REST API
with :class:`~dnt.ric.subscription.SubmgrClient` (the same CamelCase JSON production sends), results come
back on :class:`~dnt.ric.http.RicHttpServer`, and dispatch is :class:`~dnt.ric.runtime.BaseRuntime`'s.

Frame format (version 1; every integer big-endian) on the xApp port of the fabric::

    offset size field
     0     4    length        u32  bytes after this field: 16 + meid + xid + endpoint + payload
     4     1    version       u8   1
     5     1    kind          u8   1 DATA, 2 HELLO (xApp -> fabric), 3 WELCOME (fabric -> xApp)
     6     1    flags         u8   bit 0 RTS: deliver to ``endpoint`` (return-to-sender), not by route
     7     1    meid_len      u8   0..31
     8     4    mtype         i32  RMR message type (dnt.e2.mtypes)
    12     4    sub_id        i32  RMR subscription id, -1 = none
    16     1    xid_len       u8   0..32 (transaction id)
    17     1    endpoint_len  u8   0..64: the sender on fabric -> xApp frames; the RTS target otherwise
    18     2    reserved      u16  0
    20     ...  meid, xid, endpoint (ASCII), then the payload

HELLO and WELCOME carry JSON payloads. HELLO: ``{"name", "instance", "rx": [mtypes], "policies": [A1 policy
type ids], "http": {"host", "port"}}`` — the fabric derives its routes from it, like rtmgr from descriptors,
and it is sent again whenever a handler is added (policy types include those asked for by A1_POLICY_QUERY,
so they survive a fabric restart). WELCOME: ``{"fabric", "submgr_url", "a1_url", "dbaas":
{"host", "port"}}``. A frame whose length is over :data:`MAX_FRAME_BYTES` or whose version is unknown ends the
connection (framing is lost); a frame with inconsistent inner lengths is dropped and counted.

When the fabric goes away, :meth:`LocalRuntime.run` reconnects with exponential backoff and sends HELLO
again; sends in between raise :class:`~dnt.errors.TransportError` (RMR's "no endpoint").
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import select
import socket
import struct
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dnt.e2.e2ap_ies import RicAction
from dnt.e2.mtypes import A1_POLICY_QUERY, RIC_HEALTH_CHECK_REQ
from dnt.errors import ConfigError, DecodeError, TransportError
from dnt.ric.config import read_descriptor
from dnt.ric.http import RicHttpServer
from dnt.ric.runtime import NO_SUB_ID, BaseRuntime, Message
from dnt.ric.sdl import SdlStore, Store
from dnt.ric.subscription import ClientEndpoint, SubmgrClient, SubscriptionBook

__all__ = ["FRAME_VERSION", "KIND_DATA", "KIND_HELLO", "KIND_WELCOME", "FLAG_RTS", "HEADER", "MAX_FRAME_BYTES",
           "DEFAULT_FABRIC_PORT", "Frame", "FramingError", "encode_frame", "decode_body", "FrameBuffer",
           "LocalConfig", "LocalRuntime"]

logger = logging.getLogger(__name__)

FRAME_VERSION = 1
KIND_DATA, KIND_HELLO, KIND_WELCOME = 1, 2, 3
FLAG_RTS = 0x01
HEADER = struct.Struct(">IBBBBiiBBH")
"""The fixed 20-byte frame header (see the module docstring)."""
MAX_FRAME_BYTES = 1 << 20
DEFAULT_FABRIC_PORT = 4560
"""The fabric's xApp port by default (the RMR data port of OSC descriptors)."""
_FIXED = HEADER.size - 4
_KINDS = (KIND_DATA, KIND_HELLO, KIND_WELCOME)


class FramingError(TransportError):
    """The byte stream cannot be split into frames any more (bad length or version): close the connection."""


@dataclass(frozen=True)
class Frame:
    """One frame of the fabric's xApp protocol."""

    kind: int
    mtype: int = 0
    payload: bytes = b""
    meid: str | None = None
    sub_id: int = NO_SUB_ID
    xid: bytes = b""
    endpoint: str = ""
    flags: int = 0

    def message(self) -> Message:
        """The DATA frame as a :class:`~dnt.ric.runtime.Message` (``source`` = the sending endpoint)."""
        return Message(self.mtype, self.payload, self.meid, self.sub_id, self.xid, self.endpoint or None)


def encode_frame(frame: Frame) -> bytes:
    """Encode ``frame`` with its length prefix.

    Raises
    ------
    TransportError
        A field does not fit (MEID > 31 bytes, xid > 32, endpoint > 64, frame > MAX_FRAME_BYTES).
    """
    meid = (frame.meid or "").encode("ascii", "replace")
    endpoint = frame.endpoint.encode("ascii", "replace")
    xid = bytes(frame.xid)
    if len(meid) > 31 or len(xid) > 32 or len(endpoint) > 64:
        raise TransportError(f"frame fields too long: meid {len(meid)} (<= 31), xid {len(xid)} (<= 32), "
                             f"endpoint {len(endpoint)} (<= 64) bytes")
    length = _FIXED + len(meid) + len(xid) + len(endpoint) + len(frame.payload)
    if length > MAX_FRAME_BYTES:
        raise TransportError(f"frame of {length} bytes exceeds MAX_FRAME_BYTES={MAX_FRAME_BYTES}")
    head = HEADER.pack(length, FRAME_VERSION, frame.kind, frame.flags, len(meid), frame.mtype, frame.sub_id,
                       len(xid), len(endpoint), 0)
    return b"".join((head, meid, xid, endpoint, frame.payload))


def decode_body(body: bytes) -> Frame:
    """Decode one frame from the bytes after its length field.

    Raises
    ------
    DecodeError
        Unknown kind, inner lengths that do not fit the body, or a non-ASCII MEID / endpoint.
    """
    if len(body) < _FIXED:
        raise DecodeError(f"frame of {len(body)} bytes is shorter than its {_FIXED}-byte header")
    head = HEADER.unpack_from(b"\0\0\0\0" + body[:_FIXED])
    _, version, kind, flags, meid_len, mtype, sub_id, xid_len, ep_len, _ = head
    if version != FRAME_VERSION or kind not in _KINDS:
        raise DecodeError(f"frame version {version} / kind {kind} unknown (version {FRAME_VERSION}, kinds {_KINDS})")
    end = _FIXED + meid_len + xid_len + ep_len
    if meid_len > 31 or xid_len > 32 or ep_len > 64 or end > len(body):
        raise DecodeError(f"frame lengths meid={meid_len} xid={xid_len} endpoint={ep_len} do not fit "
                          f"its {len(body)} bytes")
    try:
        meid = body[_FIXED:_FIXED + meid_len].decode("ascii")
        endpoint = body[end - ep_len:end].decode("ascii")
    except UnicodeDecodeError as err:
        raise DecodeError(f"frame MEID / endpoint is not ASCII: {err}") from err
    xid = body[_FIXED + meid_len:_FIXED + meid_len + xid_len]
    return Frame(kind, mtype, body[end:], meid or None, sub_id, xid, endpoint, flags)


class FrameBuffer:
    """Split a byte stream into frame bodies (sans-IO)."""

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self.max_frame_bytes = max_frame_bytes
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Add ``data``; return the complete frame bodies. Raises FramingError on a bad length or version."""
        self._buf += data
        out = []
        while len(self._buf) >= 5:
            length = int.from_bytes(self._buf[:4], "big")
            if length < _FIXED or length > self.max_frame_bytes or self._buf[4] != FRAME_VERSION:
                raise FramingError(f"bad frame: length {length}, version {self._buf[4]} (stream out of sync)")
            if len(self._buf) < 4 + length:
                break
            out.append(bytes(self._buf[4:4 + length]))
            del self._buf[:4 + length]
        return out


@dataclass(frozen=True)
class LocalConfig:
    """Settings of :class:`LocalRuntime`.

    Attributes
    ----------
    xapp_name : str
        The xApp name: routes, SDL namespaces (``dnt.ric.<name>``) and A1 ``handler_id`` use it.
    fabric_host, fabric_port : str, int
        The fabric's xApp port (env ``DNT_FABRIC=host:port``).
    submgr_url : str
        Subscription manager REST base; empty = the one the fabric announces.
    http_host, http_port : str, int
        This xApp's HTTP server (health, subscription results); port 0 = ephemeral.
    policies : tuple of int
        A1 policy types this xApp handles (descriptor ``messaging.ports[].policies``).
    connect_timeout_s : float
        How long the first connection may take (the fabric may still be starting).
    reconnect_initial_s, reconnect_max_s : float
        Backoff between reconnection attempts (doubling).
    poll_interval_s : float
        How often :meth:`LocalRuntime.run` looks at :meth:`LocalRuntime.stop`.
    request_timeout_s, response_timeout_s : float
        submgr REST call timeout; how long ``subscribe`` waits for the result.
    """

    xapp_name: str = "xapp"
    fabric_host: str = "127.0.0.1"
    fabric_port: int = DEFAULT_FABRIC_PORT
    submgr_url: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = 0
    policies: tuple[int, ...] = ()
    connect_timeout_s: float = 10.0
    reconnect_initial_s: float = 0.05
    reconnect_max_s: float = 2.0
    poll_interval_s: float = 0.2
    request_timeout_s: float = 5.0
    response_timeout_s: float = 15.0

    def __post_init__(self) -> None:
        if not self.xapp_name or len(self.xapp_name.encode()) > 64 or not self.xapp_name.isascii():
            raise ConfigError(f"xapp_name={self.xapp_name!r} must be 1..64 ASCII characters")
        if not 0 < self.fabric_port < 65536 or not 0 <= self.http_port < 65536:
            raise ConfigError(f"fabric_port={self.fabric_port} / http_port={self.http_port} must be TCP ports")
        if min(self.connect_timeout_s, self.reconnect_initial_s, self.reconnect_max_s, self.poll_interval_s) <= 0:
            raise ConfigError("LocalConfig timeouts and intervals must be > 0 s")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, base: LocalConfig | None = None) -> LocalConfig:
        """``base`` updated from ``DNT_FABRIC`` (host:port), ``DNT_SUBMGR_URL`` and the descriptor (``CONFIG_FILE``).

        Raises
        ------
        ConfigError
            ``DNT_FABRIC`` is not ``host:port`` or the descriptor cannot be read.
        """
        env = os.environ if env is None else env
        changes: dict[str, Any] = {}
        fabric = env.get("DNT_FABRIC", "").strip()
        if fabric:
            host, sep, port = fabric.rpartition(":")
            if not sep or not port.isdigit():
                raise ConfigError(f"DNT_FABRIC={fabric!r} must be host:port")
            changes.update(fabric_host=host or "127.0.0.1", fabric_port=int(port))
        if env.get("DNT_SUBMGR_URL"):
            changes["submgr_url"] = env["DNT_SUBMGR_URL"]
        if env.get("CONFIG_FILE"):
            desc = read_descriptor(env["CONFIG_FILE"])
            name = desc.get("name") or desc.get("xapp_name")
            if isinstance(name, str) and name:
                changes["xapp_name"] = name
            ports = (desc.get("messaging") or {}).get("ports") or []
            ids = {int(p) for port in ports if isinstance(port, Mapping) for p in port.get("policies") or ()}
            if ids:
                changes["policies"] = tuple(sorted(ids))
        return dataclasses.replace(base or cls(), **changes)


class LocalRuntime(BaseRuntime):
    """:class:`~dnt.ric.runtime.Runtime` over the local fabric (see the module docstring).

    Parameters
    ----------
    cfg : LocalConfig, optional
        Default :meth:`LocalConfig.from_env`.
    store : Store, optional
        Default :class:`~dnt.ric.sdl.SdlStore` on the fabric's Redis.

    Raises
    ------
    TransportError
        The fabric did not answer within ``cfg.connect_timeout_s``.
    """

    def __init__(self, cfg: LocalConfig | None = None, *, store: Store | None = None) -> None:
        self.cfg = cfg = cfg or LocalConfig.from_env()
        self._send_lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._buffer = FrameBuffer()
        self._stopped = threading.Event()
        self._run_thread: threading.Thread | None = None
        self._instance = f"{cfg.xapp_name}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._queried: set[int] = set()  # A1 policy types asked for with A1_POLICY_QUERY: re-announced in HELLO
        self.welcome: dict[str, Any] = {}
        self.http = RicHttpServer(cfg.http_host, cfg.http_port, ready=self.healthy,
                                  on_subscription_response=self._on_subscription_response,
                                  metrics=self.metrics).start()
        try:
            self._connect(time.monotonic() + cfg.connect_timeout_s)
            if store is None:
                store = self._default_store()
        except BaseException:
            self.http.stop()
            raise
        super().__init__(store, name=cfg.xapp_name)
        self.subscriptions = self._submgr_client()

    # --- connection ----------------------------------------------------------------------------------------
    def _hello(self) -> bytes:
        handlers = getattr(self, "_handlers", {RIC_HEALTH_CHECK_REQ: None})
        policies = sorted(set(self.cfg.policies) | self._queried)
        body = {"version": FRAME_VERSION, "name": self.cfg.xapp_name, "instance": self._instance,
                "rx": sorted(handlers), "policies": policies,
                "http": {"host": self.cfg.http_host, "port": self.http.port}}
        return encode_frame(Frame(KIND_HELLO, payload=json.dumps(body).encode(), endpoint=self.cfg.xapp_name))

    def _handshake(self, timeout_s: float) -> socket.socket:
        sock = socket.create_connection((self.cfg.fabric_host, self.cfg.fabric_port), timeout=timeout_s)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(self._hello())
            buffer = FrameBuffer()
            deadline = time.monotonic() + timeout_s
            while True:
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                data = sock.recv(65536)
                if not data:
                    raise TransportError("the fabric closed the connection during the handshake")
                for body in buffer.feed(data):
                    frame = decode_body(body)
                    if frame.kind == KIND_WELCOME:
                        self.welcome = json.loads(frame.payload or b"{}")
                        sock.settimeout(None)
                        self._buffer = buffer
                        return sock
        except BaseException:
            sock.close()
            raise

    def _connect(self, deadline: float) -> None:
        """Connect and handshake, retrying with backoff until ``deadline`` (raises TransportError after)."""
        delay = self.cfg.reconnect_initial_s
        while True:
            try:
                sock = self._handshake(min(max(deadline - time.monotonic(), 0.05), 5.0))
            except (OSError, ValueError, TransportError, DecodeError) as err:
                if time.monotonic() + delay > deadline or self._stopped.is_set():
                    raise TransportError(f"{self.cfg.xapp_name}: cannot attach to the fabric at "
                                         f"{self.cfg.fabric_host}:{self.cfg.fabric_port}: {err}") from err
                self._stopped.wait(delay)
                delay = min(delay * 2, self.cfg.reconnect_max_s)
                continue
            with self._send_lock:
                self._sock = sock
            logger.info("%s: attached to the fabric at %s:%d", self.cfg.xapp_name, self.cfg.fabric_host,
                        self.cfg.fabric_port)
            return

    def _default_store(self) -> Store:
        if not os.environ.get("DBAAS_SERVICE_HOST") and self.welcome.get("dbaas"):
            db = self.welcome["dbaas"]  # not in a pod: use the Redis the fabric announces
            os.environ["DBAAS_SERVICE_HOST"], os.environ["DBAAS_SERVICE_PORT"] = str(db["host"]), str(db["port"])
        return SdlStore()

    def _submgr_client(self) -> SubmgrClient:
        url = self.cfg.submgr_url or str(self.welcome.get("submgr_url", ""))
        if not url:
            raise ConfigError("no submgr URL: set LocalConfig.submgr_url / DNT_SUBMGR_URL or use a fabric that "
                              "announces one")
        endpoint = ClientEndpoint(self.cfg.http_host, self.http.port, 0)
        return SubmgrClient(url, endpoint, SubscriptionBook(self._store, f"dnt.ric.{self.name}"),
                            request_timeout_s=self.cfg.request_timeout_s,
                            response_timeout_s=self.cfg.response_timeout_s)

    def _lost(self, why: str) -> None:
        with self._send_lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
            if not self._stopped.is_set():
                self.count("ric/disconnects")
                logger.warning("%s: lost the fabric connection: %s", self.name, why)

    def _reconnect(self) -> None:
        old_url = self.welcome.get("submgr_url")
        try:
            self._connect(time.monotonic() + self.cfg.reconnect_max_s * 2)
        except TransportError as err:
            logger.debug("%s: still detached: %s", self.name, err)
            return
        self.count("ric/reconnects")
        if not self.cfg.submgr_url and self.welcome.get("submgr_url") != old_url:
            self.subscriptions = self._submgr_client()

    def _registered(self, mtype: int) -> None:
        if self._sock is not None:
            try:
                self._write(self._hello())
            except TransportError as err:
                logger.warning("%s: could not re-register after adding %d: %s", self.name, mtype, err)

    # --- sending -------------------------------------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        with self._send_lock:
            sock = self._sock
            if sock is None:
                raise TransportError(f"{self.cfg.xapp_name} is not attached to the fabric (no endpoint)")
            try:
                sock.sendall(data)
            except OSError as err:
                raise TransportError(f"send to the fabric failed: {err}") from err

    def _send(self, msg: Message) -> None:
        if self._stopped.is_set():
            raise TransportError(f"{self.name} is stopped; cannot send {msg.describe()}")
        if msg.mtype == A1_POLICY_QUERY:
            self._queried.add(msg.sub_id)
        self._write(encode_frame(Frame(KIND_DATA, msg.mtype, msg.payload, msg.meid, msg.sub_id, msg.xid)))

    def _reply(self, request: Message, mtype: int, payload: bytes) -> None:
        if not request.source:
            raise TransportError(f"cannot reply to {request.describe()}: no source")
        self._write(encode_frame(Frame(KIND_DATA, mtype, payload, request.meid, request.sub_id, request.xid,
                                       request.source, FLAG_RTS)))

    # --- subscriptions -------------------------------------------------------------------------------------
    def _on_subscription_response(self, body: bytes) -> None:
        self.subscriptions.handle_notification(body)

    def subscribe(self, node: str, ran_func: int, trigger: bytes, actions: Sequence[RicAction]) -> int:
        """Subscribe through the fabric's submgr REST API (see :class:`~dnt.ric.subscription.SubmgrClient`)."""
        return self.subscriptions.subscribe(node, ran_func, trigger, actions)

    def unsubscribe(self, sub_id: int) -> None:  # noqa: D102
        self.subscriptions.unsubscribe(sub_id)

    # --- receiving, lifecycle ------------------------------------------------------------------------------
    def _transport_healthy(self) -> bool:
        return self._sock is not None and not self._stopped.is_set()

    def _receive(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(256 * 1024)
        except OSError as err:
            data, why = b"", str(err)
        else:
            why = "the fabric closed the connection"
        if not data:
            self._lost(why)
            return
        try:
            bodies = self._buffer.feed(data)
        except FramingError as err:
            self.count("ric/dropped/bad_frame")
            self._lost(str(err))
            return
        for body in bodies:
            try:
                frame = decode_body(body)
            except DecodeError as err:
                self.count("ric/dropped")
                self.count("ric/dropped/bad_frame")
                logger.error("%s: dropped a malformed frame from the fabric: %s", self.name, err)
                continue
            if frame.kind == KIND_DATA:
                self.dispatch(frame.message())

    def run(self) -> None:
        """Dispatch messages in this thread until :meth:`stop`, reconnecting when the fabric goes away."""
        while not self._stopped.is_set():
            sock = self._sock
            if sock is None:
                self._reconnect()
                continue
            try:
                ready, _, _ = select.select([sock], [], [], self.cfg.poll_interval_s)
            except (OSError, ValueError):  # closed under us by stop() or _lost()
                continue
            if ready:
                self._receive(sock)

    def start(self) -> LocalRuntime:
        """:meth:`run` in a background thread; returns self."""
        if self._run_thread is None:
            self._run_thread = threading.Thread(target=self.run, name=f"{self.name}-dispatch", daemon=True)
            self._run_thread.start()
        return self

    def stop(self) -> None:
        """Stop dispatching; close the connection, the HTTP server and the store. Idempotent."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        with self._send_lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self._run_thread is not None and self._run_thread is not threading.current_thread():
            self._run_thread.join(timeout=self.cfg.poll_interval_s + 5)
        self.http.stop()
        self._store.close()
