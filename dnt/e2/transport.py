"""E2 stream transports: kernel SCTP (PPID 70) for real RICs, TCP with 4-byte length framing for local use.

An E2 association carries E2AP PDUs that name their own procedure, so the E2 transports follow the house
``send / recv / close`` shape with bytes only (no message type or MEID at this layer):

* :class:`SctpTransport` — a one-to-one kernel SCTP socket (``socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP)``)
  with ``SCTP_NODELAY`` and the E2AP payload protocol id 70 set once through ``SCTP_DEFAULT_SNDINFO``;
  SCTP keeps message boundaries, one ``recvmsg`` (until ``MSG_EOR``) is one PDU. Port 36422 as OSC e2term.
* :class:`TcpFramedTransport` — TCP where every PDU is preceded by its length, 4 bytes big-endian. Frames
  over ``max_frame_bytes`` are refused on both sides (a peer that announces one is dropped).
* :class:`AsyncStreamTransport` — the same two on an asyncio event loop (used by the simulator, which
  drives hundreds of associations from one thread).

The sans-IO pieces (:func:`encode_frame`, :class:`FrameDecoder`, the ``sctp_sndinfo`` / ``sctp_rcvinfo``
struct layouts of ``linux/sctp.h`` and RFC 6458 §5.3) are tested on their own, since the project's
machines have no kernel SCTP (``EPROTONOSUPPORT``); :func:`sctp_available` tells.
"""

from __future__ import annotations

import asyncio
import errno
import select
import socket
import struct
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from dnt.errors import TransportError

__all__ = [
    "E2AP_SCTP_PORT",
    "E2AP_PPID",
    "SOL_SCTP",
    "SCTP_NODELAY",
    "SCTP_DEFAULT_SNDINFO",
    "SCTP_RECVRCVINFO",
    "SCTP_RCVINFO",
    "DEFAULT_MAX_FRAME_BYTES",
    "TRANSPORT_KINDS",
    "FRAME_HEADER",
    "SndInfo",
    "RcvInfo",
    "pack_sndinfo",
    "unpack_sndinfo",
    "pack_rcvinfo",
    "unpack_rcvinfo",
    "encode_frame",
    "FrameDecoder",
    "TransportClosed",
    "StreamTransport",
    "TcpFramedTransport",
    "SctpTransport",
    "StreamListener",
    "AsyncStreamTransport",
    "sctp_available",
    "open_socket",
    "configure_sctp",
    "connect",
]

E2AP_SCTP_PORT = 36422
"""E2 termination SCTP port (OSC e2term ``sctp-port``)."""
E2AP_PPID = 70
"""SCTP payload protocol identifier of E2AP (IANA)."""
SOL_SCTP = getattr(socket, "IPPROTO_SCTP", 132)
"""Socket option level of SCTP options (= IPPROTO_SCTP)."""
SCTP_NODELAY = 3
"""``linux/sctp.h``: turn off Nagle-like bundling delay (int)."""
SCTP_DEFAULT_SNDINFO = 34
"""``linux/sctp.h``: default ``struct sctp_sndinfo`` for every send (RFC 6458 §8.1.31)."""
SCTP_RECVRCVINFO = 32
"""``linux/sctp.h``: deliver ``struct sctp_rcvinfo`` as ancillary data on receive (int)."""
SCTP_RCVINFO = 3
"""cmsg type of ``struct sctp_rcvinfo`` (RFC 6458 §5.3.5)."""
DEFAULT_MAX_FRAME_BYTES = 1 << 20
"""Largest E2AP PDU accepted (1 MiB; an E2 setup of a large gNB is tens of kB)."""
TRANSPORT_KINDS = ("sctp", "tcp")

FRAME_HEADER = struct.Struct(">I")
# struct sctp_sndinfo { u16 snd_sid; u16 snd_flags; u32 snd_ppid (network order); u32 snd_context;
#                       sctp_assoc_t snd_assoc_id (s32); }                                      16 bytes
_SNDINFO = struct.Struct("=HHIIi")
# struct sctp_rcvinfo { u16 rcv_sid; u16 rcv_ssn; u16 rcv_flags; (2 pad) u32 rcv_ppid (network order);
#                       u32 rcv_tsn; u32 rcv_cumtsn; u32 rcv_context; sctp_assoc_t rcv_assoc_id; }  28 bytes
_RCVINFO = struct.Struct("=HHHxxIIIIi")
_RECV_CHUNK = 256 * 1024


@dataclass(frozen=True)
class SndInfo:
    """``struct sctp_sndinfo`` with the PPID in host order."""

    sid: int = 0
    flags: int = 0
    ppid: int = E2AP_PPID
    context: int = 0
    assoc_id: int = 0


@dataclass(frozen=True)
class RcvInfo:
    """``struct sctp_rcvinfo`` with the PPID in host order."""

    sid: int
    ssn: int
    flags: int
    ppid: int
    tsn: int
    cumtsn: int
    context: int
    assoc_id: int


def pack_sndinfo(info: SndInfo | None = None) -> bytes:
    """The 16-byte ``sctp_sndinfo`` value of ``SCTP_DEFAULT_SNDINFO`` (PPID converted to network order)."""
    i = info or SndInfo()
    try:
        return _SNDINFO.pack(i.sid, i.flags, socket.htonl(i.ppid), i.context, i.assoc_id)
    except (struct.error, OverflowError) as err:
        raise TransportError(f"sctp_sndinfo field out of range in {i}: {err}") from err


def unpack_sndinfo(data: bytes) -> SndInfo:
    """Inverse of :func:`pack_sndinfo`."""
    if len(data) != _SNDINFO.size:
        raise TransportError(f"sctp_sndinfo is {_SNDINFO.size} bytes, got {len(data)}")
    sid, flags, ppid, context, assoc = _SNDINFO.unpack(data)
    return SndInfo(sid, flags, socket.ntohl(ppid), context, assoc)


def pack_rcvinfo(info: RcvInfo) -> bytes:
    """The 28-byte ``sctp_rcvinfo`` (for tests; the kernel writes it)."""
    return _RCVINFO.pack(
        info.sid, info.ssn, info.flags, socket.htonl(info.ppid), info.tsn, info.cumtsn, info.context, info.assoc_id
    )


def unpack_rcvinfo(data: bytes) -> RcvInfo:
    """Parse the ``SCTP_RCVINFO`` cmsg payload (PPID returned in host order)."""
    if len(data) < _RCVINFO.size:
        raise TransportError(f"sctp_rcvinfo is {_RCVINFO.size} bytes, got {len(data)}")
    sid, ssn, flags, ppid, tsn, cumtsn, context, assoc = _RCVINFO.unpack_from(data)
    return RcvInfo(sid, ssn, flags, socket.ntohl(ppid), tsn, cumtsn, context, assoc)


# -- length framing (sans-IO) ----------------------------------------------------------------------------
def encode_frame(payload: bytes, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> bytes:
    """``len(payload)`` as 4 bytes big-endian, then ``payload``; :class:`TransportError` if too large."""
    if len(payload) > max_frame_bytes:
        raise TransportError(f"frame of {len(payload)} bytes exceeds max_frame_bytes={max_frame_bytes}")
    return FRAME_HEADER.pack(len(payload)) + payload


class FrameDecoder:
    """Splits a byte stream into length-prefixed frames, whatever the read sizes.

    ``feed(data)`` returns the frames completed by ``data``; a header announcing more than
    ``max_frame_bytes`` raises :class:`TransportError` (the stream cannot be resynchronised: drop it).
    ``check_eof()`` raises when the stream ended inside a frame.
    """

    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        if max_frame_bytes < 1:
            raise TransportError(f"max_frame_bytes must be positive, got {max_frame_bytes}")
        self.max_frame_bytes = max_frame_bytes
        self._buf = bytearray()

    @property
    def pending_bytes(self) -> int:
        """Bytes held of an unfinished frame (0 at a frame boundary)."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buf
        buf += data
        out: list[bytes] = []
        pos, end = 0, len(buf)
        while end - pos >= 4:
            (size,) = FRAME_HEADER.unpack_from(buf, pos)
            if size > self.max_frame_bytes:
                raise TransportError(
                    f"peer announced a frame of {size} bytes "
                    f"(max_frame_bytes={self.max_frame_bytes}); dropping the stream"
                )
            if end - pos - 4 < size:
                break
            out.append(bytes(buf[pos + 4 : pos + 4 + size]))
            pos += 4 + size
        if pos:
            del buf[:pos]
        return out

    def check_eof(self) -> None:
        """Raise :class:`TransportClosed` naming the shortfall if the stream ended mid-frame."""
        if self._buf:
            raise TransportClosed(f"stream ended inside a frame ({len(self._buf)} bytes of an unfinished frame)")


class TransportClosed(TransportError):
    """The peer closed the association (or it was reset)."""


# -- SCTP sockets ------------------------------------------------------------------------------------------
def sctp_available() -> bool:
    """True when the kernel can open a one-to-one SCTP socket."""
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, SOL_SCTP)
    except OSError:
        return False
    sock.close()
    return True


def configure_sctp(
    sock: socket.socket, *, ppid: int = E2AP_PPID, nodelay: bool = True, recv_rcvinfo: bool = False
) -> None:
    """Set ``SCTP_NODELAY``, the default send PPID (``SCTP_DEFAULT_SNDINFO``) and optionally ``SCTP_RECVRCVINFO``."""
    try:
        sock.setsockopt(SOL_SCTP, SCTP_NODELAY, int(nodelay))
        sock.setsockopt(SOL_SCTP, SCTP_DEFAULT_SNDINFO, pack_sndinfo(SndInfo(ppid=ppid)))
        if recv_rcvinfo:
            sock.setsockopt(SOL_SCTP, SCTP_RECVRCVINFO, 1)
    except OSError as err:
        raise TransportError(f"cannot set SCTP socket options: {err}") from err


def open_socket(kind: str) -> socket.socket:
    """A new IPv4 stream socket for ``kind`` ("sctp" or "tcp"), options set."""
    if kind == "tcp":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    if kind != "sctp":
        raise TransportError(f"unknown transport {kind!r}; use one of {TRANSPORT_KINDS}")
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, SOL_SCTP)
    except OSError as err:
        hint = (
            " (this kernel has no SCTP: load the sctp module, or use transport 'tcp')"
            if err.errno in (errno.EPROTONOSUPPORT, errno.ESOCKTNOSUPPORT)
            else ""
        )
        raise TransportError(f"cannot open an SCTP socket: {err}{hint}") from err
    try:
        configure_sctp(sock)
    except TransportError:
        sock.close()
        raise
    return sock


# -- blocking transports -----------------------------------------------------------------------------------
class StreamTransport(ABC):
    """One E2 association: ``send(pdu)``, ``send_many(pdus)``, ``recv(timeout) -> pdu | None``, ``close()``.

    ``recv`` returns None on timeout and raises :class:`TransportClosed` when the peer has gone.
    """

    kind: str = ""

    def __init__(self, sock: socket.socket, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        self.sock = sock
        self.max_frame_bytes = max_frame_bytes
        self._closed = False
        try:
            self.peer: tuple[str, int] | None = sock.getpeername()
        except OSError:
            self.peer = None

    @abstractmethod
    def send(self, payload: bytes) -> None: ...

    def send_many(self, payloads: Iterable[bytes]) -> None:
        for p in payloads:
            self.send(p)

    @abstractmethod
    def recv(self, timeout: float | None = None) -> bytes | None: ...

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def _wait_readable(self, timeout: float | None) -> bool:
        if self._closed:
            raise TransportClosed("transport is closed")
        ready, _, _ = select.select([self.sock], [], [], timeout)
        return bool(ready)

    def __enter__(self) -> StreamTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TcpFramedTransport(StreamTransport):
    """TCP with 4-byte big-endian length framing."""

    kind = "tcp"

    def __init__(self, sock: socket.socket, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        super().__init__(sock, max_frame_bytes)
        self._decoder = FrameDecoder(max_frame_bytes)
        self._ready: deque[bytes] = deque()

    def send(self, payload: bytes) -> None:
        self._sendall(encode_frame(payload, self.max_frame_bytes))

    def send_many(self, payloads: Iterable[bytes]) -> None:
        self._sendall(b"".join(encode_frame(p, self.max_frame_bytes) for p in payloads))

    def _sendall(self, data: bytes) -> None:
        if self._closed:
            raise TransportClosed("transport is closed")
        try:
            self.sock.sendall(data)
        except OSError as err:
            raise TransportClosed(f"send failed: {err}") from err

    def recv(self, timeout: float | None = None) -> bytes | None:
        while not self._ready:
            if not self._wait_readable(timeout):
                return None
            try:
                data = self.sock.recv(_RECV_CHUNK)
            except OSError as err:
                raise TransportClosed(f"receive failed: {err}") from err
            if not data:
                self._decoder.check_eof()
                raise TransportClosed("peer closed the connection")
            self._ready.extend(self._decoder.feed(data))
        return self._ready.popleft()


class SctpTransport(StreamTransport):
    """Kernel SCTP one-to-one socket; one message = one PDU (PPID 70 set by :func:`configure_sctp`)."""

    kind = "sctp"

    def send(self, payload: bytes) -> None:
        if self._closed:
            raise TransportClosed("transport is closed")
        if len(payload) > self.max_frame_bytes:
            raise TransportError(f"PDU of {len(payload)} bytes exceeds max_frame_bytes={self.max_frame_bytes}")
        try:
            self.sock.sendmsg([payload])
        except OSError as err:
            raise TransportClosed(f"send failed: {err}") from err

    def recv(self, timeout: float | None = None) -> bytes | None:
        parts: list[bytes] = []
        size = 0
        while True:
            if not self._wait_readable(timeout if not parts else None):
                return None
            try:
                data, _anc, flags, _addr = self.sock.recvmsg(_RECV_CHUNK)
            except OSError as err:
                raise TransportClosed(f"receive failed: {err}") from err
            if not data:
                raise TransportClosed("peer closed the association")
            parts.append(data)
            size += len(data)
            if size > self.max_frame_bytes:
                raise TransportError(f"SCTP message over max_frame_bytes={self.max_frame_bytes}")
            if flags & socket.MSG_EOR:
                return b"".join(parts)


_TRANSPORTS: dict[str, type[StreamTransport]] = {"tcp": TcpFramedTransport, "sctp": SctpTransport}


def connect(
    kind: str, host: str, port: int, timeout: float | None = 5.0, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
) -> StreamTransport:
    """Open an E2 association to ``host:port`` (blocking)."""
    sock = open_socket(kind)
    sock.settimeout(timeout)
    try:
        sock.connect((host, port))
    except OSError as err:
        sock.close()
        raise TransportError(f"cannot connect {kind} to {host}:{port}: {err}") from err
    sock.settimeout(None)
    return _TRANSPORTS[kind](sock, max_frame_bytes)


class StreamListener:
    """A listening socket (E2 termination side): ``accept(timeout) -> StreamTransport | None``."""

    def __init__(
        self,
        kind: str = "tcp",
        host: str = "127.0.0.1",
        port: int = 0,
        backlog: int = 1024,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    ) -> None:
        self.kind = kind
        self.max_frame_bytes = max_frame_bytes
        self.sock = open_socket(kind)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
            self.sock.listen(backlog)
        except OSError as err:
            self.sock.close()
            raise TransportError(f"cannot listen ({kind}) on {host}:{port}: {err}") from err

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.sock.getsockname()[:2]
        return str(host), int(port)

    def accept(self, timeout: float | None = None) -> StreamTransport | None:
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return None
        conn, _ = self.sock.accept()
        if self.kind == "tcp":
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        else:
            configure_sctp(conn)
        return _TRANSPORTS[self.kind](conn, self.max_frame_bytes)

    def close(self) -> None:
        self.sock.close()


# -- asyncio -------------------------------------------------------------------------------------------------
def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class AsyncStreamTransport:
    """An E2 association on an asyncio loop (non-blocking socket, ``loop.sock_*``).

    ``send`` / ``send_many`` write whole PDUs (``send_many`` batches them into one write); ``recv(timeout)``
    returns the next PDU, None on timeout, and raises :class:`TransportClosed` when the peer has gone. For
    SCTP a PDU is one message (``recvmsg`` until ``MSG_EOR``: SCTP keeps boundaries on one-to-one sockets).
    """

    def __init__(self, kind: str, sock: socket.socket, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        if kind not in TRANSPORT_KINDS:
            raise TransportError(f"unknown transport {kind!r}; use one of {TRANSPORT_KINDS}")
        self.kind = kind
        self.sock = sock
        self.max_frame_bytes = max_frame_bytes
        sock.setblocking(False)
        self._decoder = FrameDecoder(max_frame_bytes) if kind == "tcp" else None
        self._ready: deque[bytes] = deque()
        self._closed = False
        self.bytes_sent = 0

    @classmethod
    async def connect(
        cls, kind: str, host: str, port: int, timeout: float = 5.0, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    ) -> AsyncStreamTransport:
        sock = open_socket(kind)
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.sock_connect(sock, (host, port)), timeout)
        except (TimeoutError, OSError) as err:
            sock.close()
            raise TransportError(f"cannot connect {kind} to {host}:{port}: {err or 'timeout'}") from err
        return cls(kind, sock, max_frame_bytes)

    @property
    def closed(self) -> bool:
        return self._closed

    def _frame(self, payload: bytes) -> bytes:
        if self._decoder is not None:
            return encode_frame(payload, self.max_frame_bytes)
        if len(payload) > self.max_frame_bytes:
            raise TransportError(f"PDU of {len(payload)} bytes exceeds max_frame_bytes={self.max_frame_bytes}")
        return payload

    async def send(self, payload: bytes) -> None:
        await self._write(self._frame(payload))

    async def send_many(self, payloads: Iterable[bytes]) -> None:
        if self._decoder is not None:  # TCP: one write for the whole batch
            await self._write(b"".join(encode_frame(p, self.max_frame_bytes) for p in payloads))
        else:  # SCTP: one message per PDU
            for p in payloads:
                await self._write(self._frame(p))

    async def _write(self, data: bytes) -> None:
        if self._closed:
            raise TransportClosed("transport is closed")
        if not data:
            return
        try:
            await asyncio.get_running_loop().sock_sendall(self.sock, data)
        except OSError as err:
            raise TransportClosed(f"send failed: {err}") from err
        self.bytes_sent += len(data)

    async def recv(self, timeout: float | None = None) -> bytes | None:
        loop = asyncio.get_running_loop()
        while not self._ready:
            if self._closed:
                raise TransportClosed("transport is closed")
            try:
                if self._decoder is None:
                    return await asyncio.wait_for(self._recv_message(), timeout)
                data = await asyncio.wait_for(loop.sock_recv(self.sock, _RECV_CHUNK), timeout)
            except TimeoutError:
                return None
            except OSError as err:
                raise TransportClosed(f"receive failed: {err}") from err
            if not data:
                self._decoder.check_eof()
                raise TransportClosed("peer closed the connection")
            self._ready.extend(self._decoder.feed(data))
        return self._ready.popleft()

    async def _recv_message(self) -> bytes:
        """One SCTP message: ``recvmsg`` until ``MSG_EOR`` (a message larger than one read comes in parts)."""
        loop = asyncio.get_running_loop()
        parts: list[bytes] = []
        size = 0
        while True:
            try:
                data, _anc, flags, _addr = self.sock.recvmsg(_RECV_CHUNK)
            except (BlockingIOError, InterruptedError):
                ready = loop.create_future()
                fd = self.sock.fileno()
                loop.add_reader(fd, _resolve, ready)
                try:
                    await ready
                finally:
                    loop.remove_reader(fd)
                continue
            if not data:
                raise TransportClosed("peer closed the association")
            parts.append(data)
            size += len(data)
            if size > self.max_frame_bytes:
                raise TransportError(f"SCTP message over max_frame_bytes={self.max_frame_bytes}")
            if flags & socket.MSG_EOR:
                return b"".join(parts)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    async def aclose(self, drain_timeout: float = 2.0) -> None:
        """Graceful close: end our direction, read (and drop) until the peer closes, then close.

        Closing a TCP socket with unread input makes the kernel send RST, and the peer may then lose data
        it had not read yet; half-closing first lets everything already sent arrive.
        """
        if self._closed:
            return
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.close()
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + drain_timeout
        try:
            while (left := deadline - loop.time()) > 0:
                if not await asyncio.wait_for(loop.sock_recv(self.sock, _RECV_CHUNK), left):
                    break
        except (TimeoutError, OSError):
            pass
        self.close()
