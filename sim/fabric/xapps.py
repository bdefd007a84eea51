"""The fabric's xApp port: xApps attach with :mod:`dnt.ric.local_runtime` frames (asyncio streams).

A connection starts with HELLO (name, rx message types, A1 policy types, HTTP endpoint); the hub registers
the routes and answers WELCOME (submgr and A1 URLs, the Redis). DATA frames go to :meth:`Fabric.from_xapp`.
Bad input never ends the fabric: a frame with a bad length or version ends that connection (framing is
lost), a frame with inconsistent fields is dropped; both are counted under ``fabric/dropped/bad_frame``.
An xApp that does not read its socket is a slow consumer: past ``xapp_buffer_bytes`` of unsent data its
messages are dropped (``fabric/dropped/slow_consumer``) rather than buffered without bound.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from dnt.errors import DecodeError, TransportError
from dnt.ric.local_runtime import (
    HEADER,
    KIND_DATA,
    KIND_HELLO,
    KIND_WELCOME,
    Frame,
    decode_body,
    encode_frame,
)
from dnt.ric.runtime import Message

if TYPE_CHECKING:
    from sim.fabric.server import Fabric

__all__ = ["XappConnection", "XappHub"]

log = logging.getLogger(__name__)


class XappConnection:
    """One attached xApp instance."""

    def __init__(self, name: str, instance: str, writer: asyncio.StreamWriter, limit: int) -> None:
        self.name, self.instance, self.writer, self.limit = name, instance, writer, limit

    def send(self, frame: Frame) -> bool:
        """Queue ``frame``; False when the connection is closing or over its buffer limit."""
        transport = self.writer.transport
        if transport.is_closing() or transport.get_write_buffer_size() > self.limit:
            return False
        transport.write(encode_frame(frame))
        return True

    def close(self) -> None:
        self.writer.close()


class XappHub:
    """Accepts xApp connections; the newest connection of a name wins (an xApp restart)."""

    def __init__(self, fabric: Fabric) -> None:
        self.fabric = fabric
        self.conns: dict[str, XappConnection] = {}
        self._server: asyncio.base_events.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; return the bound port."""
        self._server = await asyncio.start_server(self._serve, host, port, limit=self.fabric.cfg.max_frame_bytes)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self.conns.values()):
            conn.close()
        if self._server is not None:
            await self._server.wait_closed()

    def deliver(self, name: str, msg: Message, sender: str) -> bool:
        """Send ``msg`` to xApp ``name`` as a DATA frame from ``sender``; False (counted) when impossible."""
        conn = self.conns.get(name)
        if conn is None:
            self.fabric.drop("xapp_unavailable", f"{msg.describe()} for {name}: not attached")
            return False
        frame = Frame(KIND_DATA, msg.mtype, msg.payload, msg.meid, msg.sub_id, msg.xid, sender)
        try:
            sent = conn.send(frame)
        except TransportError as err:  # a field that does not fit the frame
            self.fabric.drop("bad_frame", f"{msg.describe()} for {name}: {err}")
            return False
        if not sent:
            self.fabric.drop("slow_consumer", f"{msg.describe()} for {name}: send buffer full or closing")
            return False
        self.fabric.count("fabric/to_xapp")
        return True

    async def _read(self, reader: asyncio.StreamReader) -> bytes | None:
        """The next frame body; None at EOF. Raises TransportError when framing is lost."""
        try:
            head = await reader.readexactly(5)
        except asyncio.IncompleteReadError:
            return None
        length = int.from_bytes(head[:4], "big")
        if length < HEADER.size - 4 or length > self.fabric.cfg.max_frame_bytes or head[4] != 1:
            raise TransportError(f"bad frame header (length {length}, version {head[4]})")
        try:
            rest = await reader.readexactly(length - 1)
        except asyncio.IncompleteReadError:
            return None
        return head[4:] + rest

    def _hello(self, frame: Frame, writer: asyncio.StreamWriter, conn: XappConnection | None) -> XappConnection:
        info = json.loads(frame.payload)
        name = str(info["name"])
        http = info.get("http") or {}
        address = (str(http["host"]), int(http["port"])) if http.get("port") else None
        self.fabric.router.register(name, frozenset(int(m) for m in info.get("rx", ())),
                                    {int(p) for p in info.get("policies", ())}, address)
        if conn is None:
            conn = XappConnection(name, str(info.get("instance", name)), writer, self.fabric.cfg.xapp_buffer_bytes)
            old = self.conns.get(name)
            if old is not None and old is not conn:
                old.close()
            self.conns[name] = conn
            conn.send(Frame(KIND_WELCOME, payload=json.dumps(self.fabric.welcome()).encode(), endpoint="fabric"))
            self.fabric.count("fabric/xapp_attached")
            log.info("xApp %s attached (%s, rx %s)", name, conn.instance, sorted(info.get("rx", ())))
        return conn

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn: XappConnection | None = None
        try:
            while True:
                body = await self._read(reader)
                if body is None:
                    break
                try:
                    frame = decode_body(body)
                    if frame.kind == KIND_HELLO:
                        conn = self._hello(frame, writer, conn)
                        continue
                    if conn is None or frame.kind != KIND_DATA:
                        raise DecodeError(f"frame kind {frame.kind} before HELLO / not DATA")
                except (DecodeError, ValueError, KeyError, TypeError) as err:
                    self.fabric.drop("bad_frame", f"from {conn.name if conn else writer.get_extra_info('peername')}: "
                                                  f"{type(err).__name__}: {err}")
                    continue
                try:
                    self.fabric.from_xapp(conn.name, frame)
                except Exception as err:  # one message must not end the connection
                    self.fabric.drop("internal_error", f"{frame.mtype} from {conn.name}: {type(err).__name__}: {err}")
                    log.exception("routing a frame from %s failed", conn.name)
        except (TransportError, ConnectionError, OSError) as err:
            self.fabric.drop("bad_frame", f"connection {conn.name if conn else '?'} closed: {err}")
        except Exception:  # the fabric must survive any one connection
            log.exception("xApp connection %s failed", conn.name if conn else "?")
        finally:
            if conn is not None and self.conns.get(conn.name) is conn:
                del self.conns[conn.name]
                log.info("xApp %s detached", conn.name)
            writer.close()

    def attached(self) -> dict[str, Any]:
        """Attached xApps by name: their instance ids."""
        return {n: c.instance for n, c in self.conns.items()}
