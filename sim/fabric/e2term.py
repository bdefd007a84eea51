"""The fabric's E2 termination (with e2mgr's node bookkeeping): E2 nodes connect here over TCP or SCTP.

* **E2 setup**: the RAN name is built as OSC e2term does (:func:`dnt.e2.ran_name`); RAN functions whose
  E2SM OID the RIC serves (KPM, RC) are accepted, others rejected without failing the setup. The node's
  record goes to SDL like e2mgr's (:mod:`dnt.e2.rnib`: ns ``e2Manager``, key ``RAN:<name>``, CONNECTED),
  and becomes DISCONNECTED when the association ends; persisted subscriptions of the node are restored.
* **Node → RIC**: RIC_INDICATION goes to the xApp owning its subscription (the RICrequestID instance id is
  the RMR sub id); subscription (delete) responses and failures to submgr; control acks and failures to the
  xApp that sent the control; error indications are logged and counted; a RIC service update is answered.
* **RIC → node**: RIC_CONTROL_REQ from xApps by MEID (= RAN name); subscription requests from submgr.
* **Bad input**: an undecodable PDU is answered with an ERROR INDICATION (transfer syntax error) and
  counted; a PDU before E2 setup ends the association (as e2term drops it); the fabric keeps running.

Sends to a node go through a per-node queue drained by one writer task (batched writes, in order).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
import struct
from collections import deque
from typing import TYPE_CHECKING

from dnt.e2 import e2ap, fastpath
from dnt.e2.e2ap_ies import Cause, GlobalRicId, PlmnId
from dnt.e2.e2ap_setup import known_ran_functions
from dnt.e2.e2ap_types import (
    E2setupRequest,
    ErrorIndication,
    RICcontrolAcknowledge,
    RICcontrolFailure,
    RICindication,
    RICserviceUpdate,
    RICserviceUpdateAcknowledge,
)
from dnt.e2.mtypes import RIC_INDICATION, mtype_of
from dnt.e2.rnib import DISCONNECTED, E2MGR_NS, NodebInfo, ran_key
from dnt.e2.transport import AsyncStreamTransport, TransportClosed, configure_sctp, open_socket
from dnt.errors import DecodeError, TransportError
from dnt.ric.runtime import Message

if TYPE_CHECKING:
    from sim.fabric.server import Fabric

__all__ = ["E2Term", "NodeLink", "peek_request_id"]

log = logging.getLogger(__name__)

_SUBMGR_TYPES = frozenset({"RICsubscriptionResponse", "RICsubscriptionFailure", "RICsubscriptionDeleteResponse",
                           "RICsubscriptionDeleteFailure"})
_IE29 = b"\x00\x1d\x00\x05\x00"
_RID = struct.Struct(">HH")


def peek_request_id(pdu: bytes) -> tuple[int, int] | None:
    """(requestor, instance) of an E2AP PDU whose first IE is RICrequestID, read from the APER bytes.

    Controls and their answers put IE 29 first (E2AP §9.1); when the bytes do not match that layout
    (None), callers fall back to a full decode.
    """
    if len(pdu) < 14 or pdu[0] not in (0x00, 0x20, 0x40):
        return None
    pos = 4 if pdu[3] & 0x80 == 0 else 5  # one- or two-octet open-type length
    if len(pdu) < pos + 12 or pdu[pos] != 0 or pdu[pos + 3:pos + 8] != _IE29:
        return None
    requestor, instance = _RID.unpack_from(pdu, pos + 8)
    return requestor, instance


class NodeLink:
    """One E2 association: its transport, identity and send queue."""

    def __init__(self, transport: AsyncStreamTransport) -> None:
        self.transport = transport
        self.info: NodebInfo | None = None
        self.queue: deque[bytes] = deque()
        self.wake = asyncio.Event()

    @property
    def name(self) -> str:
        return self.info.ran_name if self.info else "?"

    def send(self, pdu: bytes) -> None:
        self.queue.append(pdu)
        self.wake.set()

    async def writer(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            batch = list(self.queue)
            self.queue.clear()
            if batch:
                await self.transport.send_many(batch)


class E2Term:
    """E2 termination + node bookkeeping (see the module docstring)."""

    def __init__(self, fabric: Fabric) -> None:
        self.fabric = fabric
        cfg = fabric.cfg
        self.ric_id = GlobalRicId(PlmnId(cfg.ric_mcc, cfg.ric_mnc), cfg.ric_id)
        self.nodes: dict[str, NodeLink] = {}
        self.pending_controls: dict[tuple[str, int, int], str] = {}
        self._server: socket.socket | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.address = ""

    # -- listening ------------------------------------------------------------------------------------------
    async def start(self, host: str, port: int) -> int:
        kind = self.fabric.cfg.e2_transport
        self._server = open_socket(kind)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind((host, port))
        self._server.listen(1024)
        self._server.setblocking(False)
        bound = int(self._server.getsockname()[1])
        self.address = f"{host}:{bound}"
        self._spawn(self._accept_loop(kind))
        return bound

    def _spawn(self, coro: object) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _accept_loop(self, kind: str) -> None:
        loop = asyncio.get_running_loop()
        assert self._server is not None
        while True:
            sock, _ = await loop.sock_accept(self._server)
            if kind == "tcp":
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            else:
                configure_sctp(sock)
            self._spawn(self._serve(NodeLink(AsyncStreamTransport(kind, sock, self.fabric.cfg.max_frame_bytes))))

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self.nodes.values()):
            link.transport.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- one association ------------------------------------------------------------------------------------
    async def _serve(self, link: NodeLink) -> None:
        writer = self._spawn(link.writer())
        try:
            while True:
                data = await link.transport.recv()
                if data is not None and not self._on_pdu(link, data):
                    break
        except (TransportClosed, TransportError) as err:
            log.debug("E2 association %s ended: %s", link.name, err)
        except Exception:  # the fabric must survive any one association
            log.exception("E2 association %s failed", link.name)
        finally:
            writer.cancel()
            link.transport.close()
            self._gone(link)

    def _gone(self, link: NodeLink) -> None:
        info = link.info
        if info is None or self.nodes.get(info.ran_name) is not link:
            return
        del self.nodes[info.ran_name]
        down = dataclasses.replace(info, connection_status=DISCONNECTED)
        self.fabric.sdl(lambda: self.fabric.store.set(E2MGR_NS, ran_key(down.ran_name), down.to_bytes()))
        self.fabric.count("fabric/e2/disconnects")
        log.info("E2 node %s DISCONNECTED", info.ran_name)

    def _on_pdu(self, link: NodeLink, data: bytes) -> bool:
        """Handle one PDU from a node; False ends the association."""
        ind = fastpath.try_decode_indication(data)
        if ind is not None and link.info is not None:
            self._indication(link, ind.request_id.instance_id, data)
            return True
        try:
            msg = e2ap.decode(data)
        except DecodeError as err:
            self.fabric.drop("e2_decode_error", f"undecodable PDU from {link.name}: {err}")
            link.send(e2ap.encode(ErrorIndication(cause=Cause("protocol", "transfer-syntax-error"))))
            return True
        if isinstance(msg, E2setupRequest):
            self._setup(link, msg)
            return True
        if link.info is None:
            self.fabric.drop("e2_before_setup", f"{type(msg).__name__} before E2 setup: association closed")
            return False
        kind = type(msg).__name__
        if isinstance(msg, RICindication):
            self._indication(link, msg.request_id.instance_id, data)
        elif kind in _SUBMGR_TYPES:
            self.fabric.submgr.on_e2_response(link.name, msg)
        elif isinstance(msg, RICcontrolAcknowledge | RICcontrolFailure):
            self._control_answer(link, msg, data)
        elif isinstance(msg, RICserviceUpdate):
            accepted, rejected = known_ran_functions(msg, self.fabric.cfg.known_oids)
            link.send(e2ap.encode(RICserviceUpdateAcknowledge(transaction_id=msg.transaction_id, accepted=accepted,
                                                              rejected=rejected)))
        elif isinstance(msg, ErrorIndication):
            self.fabric.count("fabric/e2/error_indications_received")
            log.warning("E2 node %s sent an error indication: %s", link.name, msg.cause)
        else:
            self.fabric.drop("e2_unexpected", f"{kind} from {link.name} is not handled by the fabric")
        return True

    def _setup(self, link: NodeLink, msg: E2setupRequest) -> None:
        resp = e2ap.e2_setup_response(msg, self.ric_id, self.fabric.cfg.known_oids)
        info = NodebInfo.from_setup(msg, (f.ran_function_id for f in resp.accepted), self.address)
        old = self.nodes.get(info.ran_name)
        if old is not None and old is not link:
            old.transport.close()  # the node came back on a new association
        link.info = info
        self.nodes[info.ran_name] = link
        link.send(e2ap.encode(resp))
        self.fabric.count("fabric/e2/setups")
        log.info("E2 node %s CONNECTED: accepted RAN functions %s, rejected %s", info.ran_name,
                 [f.ran_function_id for f in resp.accepted], [f.ran_function_id for f in resp.rejected])
        self.fabric.sdl(lambda: self.fabric.store.set(E2MGR_NS, ran_key(info.ran_name), info.to_bytes()))
        self.fabric.submgr.restore(info.ran_name)

    def _indication(self, link: NodeLink, instance_id: int, data: bytes) -> None:
        self.fabric.count("fabric/e2/indications")
        self.fabric.to_xapps(Message(RIC_INDICATION, data, link.name, instance_id), "e2term")

    def _control_answer(self, link: NodeLink, msg: RICcontrolAcknowledge | RICcontrolFailure, data: bytes) -> None:
        rid = msg.request_id
        owner = self.pending_controls.pop((link.name, rid.requestor_id, rid.instance_id), None)
        answer = Message(mtype_of(msg), data, link.name)
        if owner is None:
            self.fabric.to_xapps(answer, "e2term")
        else:
            self.fabric.hub.deliver(owner, answer, "e2term")

    # -- RIC → node -----------------------------------------------------------------------------------------
    def send(self, meid: str, pdu: bytes) -> bool:
        """Queue ``pdu`` for node ``meid``; False when it is not connected."""
        link = self.nodes.get(meid)
        if link is None:
            return False
        link.send(pdu)
        return True

    def control(self, msg: Message, sender: str) -> None:
        """Forward an xApp's RIC_CONTROL_REQ by MEID; remember who sent it (for its ack / failure)."""
        if not msg.meid or msg.meid not in self.nodes:
            self.fabric.drop("unknown_meid", f"{msg.describe()} from {sender}: no E2 node {msg.meid!r} connected")
            return
        rid = peek_request_id(msg.payload)
        if rid is None:
            try:
                decoded = e2ap.decode(msg.payload)
                rid = (decoded.request_id.requestor_id, decoded.request_id.instance_id)  # type: ignore[attr-defined]
            except (DecodeError, AttributeError) as err:
                self.fabric.drop("e2_decode_error", f"{msg.describe()} from {sender}: not an E2AP control: {err}")
                return
        if len(self.pending_controls) > 100_000:  # controls without answers (noAck) must not pile up
            self.pending_controls.clear()
        self.pending_controls[(msg.meid, *rid)] = sender
        self.nodes[msg.meid].send(msg.payload)
        self.fabric.count("fabric/e2/controls")
