"""A tiny RIC-side E2 test receiver, for tests and ``bench/e2.py``; not the local RIC fabric.

It listens (framed TCP, or SCTP where the kernel has it), answers E2 setup (accepting KPM and RC),
subscribes KPM periodic per-cell reports (16 cells per subscription), decodes indications and checks
their sequence numbers, and sends RC slice quota controls, subscription deletes, resets or raw bytes on
request. It runs its own asyncio loop in a background thread; the blocking methods below are safe to
call from the test thread, and :meth:`TestReceiver.wait_for` waits on a condition (no fixed sleeps).

The cells of a node are derived from its gNB ID with the simulator's convention (``gnb_id_base`` +
block index, :class:`sim.topology.Topology`); a real RIC learns them from its inventory.

Decode modes: ``"fast"`` (E2AP template + KPM fast path, values kept), ``"full"`` (generic pycrate +
asn1tools), ``"count"`` (E2AP template only: ids and sequence numbers, no KPM decode).

``python -m sim.testing --port 0`` runs one as a process (the bench's sink): it prints ``LISTENING
<port>``, then one JSON line of counters per ``--stats-every`` seconds, until SIGTERM or stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dnt.data import grid
from dnt.e2 import e2ap, fastpath, kpm, rc
from dnt.e2.e2ap_ies import Cause, GlobalRicId, PlmnId, RicRequestId
from dnt.e2.e2ap_types import (
    E2apMessage,
    E2setupRequest,
    ErrorIndication,
    RICindication,
)
from dnt.e2.transport import AsyncStreamTransport, TransportClosed, configure_sctp, open_socket
from dnt.errors import DataError, DecodeError, TransportError
from sim import ricside
from sim.measurements import decode_message_generic, default_names

__all__ = ["ReceiverConfig", "NodeRecord", "Report", "TestReceiver", "header_time_ms", "main"]

log = logging.getLogger(__name__)

DECODE_MODES = ("fast", "full", "count")
_RESPONSES = {"RICsubscriptionResponse", "RICsubscriptionFailure", "RICsubscriptionDeleteResponse",
              "RICsubscriptionDeleteFailure", "RICcontrolAcknowledge", "RICcontrolFailure", "ResetResponse"}


@dataclass(frozen=True)
class ReceiverConfig:
    """Settings of the test receiver."""

    host: str = "127.0.0.1"
    """Listen address (loopback only in tests)."""
    port: int = 0
    """Listen port; 0 picks a free one (see :attr:`TestReceiver.port`)."""
    transport: str = "tcp"
    """``"tcp"`` (framed) or ``"sctp"``."""
    subscribe: bool = True
    """Subscribe KPM reports after each E2 setup."""
    cells: tuple[int, ...] | None = None
    """Squares to subscribe (those a node owns); None = every cell of every node."""
    report_period_ms: int = 1000
    """KPM reporting period (event trigger format 1)."""
    meas_names: tuple[str, ...] = field(default_factory=default_names)
    """Measurements of every action."""
    decode: str = "fast"
    """``"fast"``, ``"full"`` or ``"count"`` (see the module docstring)."""
    keep_reports: bool = True
    """Keep every decoded report (values by name) per node and cell (off for throughput runs)."""
    block: int = 5
    """The simulator's cells per gNB block side (to derive a node's cells)."""
    gnb_id_base: int = 1
    """The simulator's gNB ID of block index 0."""
    requestor_id: int = 1000
    """``ricRequestorID`` of every request."""

    def __post_init__(self) -> None:
        if self.decode not in DECODE_MODES:
            raise ValueError(f"decode must be one of {DECODE_MODES}, got {self.decode!r}")


@dataclass
class Report:
    """One decoded KPM report of one cell."""

    sn: int | None
    time_ms: int | None
    values: dict[str, Any]


@dataclass
class NodeRecord:
    """What the receiver knows of one E2 node (its RAN name is the key)."""

    ran_name: str
    gnb_id: int
    plmn: PlmnId
    cells: tuple[int, ...]
    setups: int = 0
    connected: bool = False
    ran_functions: dict[int, str] = field(default_factory=dict)
    subscriptions: dict[int, dict[int, int]] = field(default_factory=dict)
    """Instance id → {action id → square} of the subscriptions sent."""
    admitted: dict[int, tuple[int, ...]] = field(default_factory=dict)
    responses: list[E2apMessage] = field(default_factory=list)
    error_indications: list[ErrorIndication] = field(default_factory=list)
    reports: dict[int, list[Report]] = field(default_factory=dict)
    indications: int = 0


@functools.lru_cache(maxsize=4096)
def header_time_ms(header: bytes) -> int:
    """``colletStartTime`` of a KPM indication header in Unix ms (cached: every cell of a step shares it)."""
    return kpm.decode_indication_header(header).unix_ms


class TestReceiver:
    """See the module docstring. Use as a context manager or ``start()`` / ``stop()``."""

    __test__ = False  # not a pytest test class

    def __init__(self, cfg: ReceiverConfig | None = None) -> None:
        self.cfg = cfg or ReceiverConfig()
        self.counters: Counter[str] = Counter()
        self.nodes: dict[str, NodeRecord] = {}
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: socket.socket | None = None
        self._conns: dict[str, AsyncStreamTransport] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._instance = 0
        self._sn: dict[tuple[str, int, int, int], int] = {}
        self._waiters: dict[tuple[str, int, int], asyncio.Future[E2apMessage]] = {}
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------
    def start(self) -> TestReceiver:
        self._server = open_socket(self.cfg.transport)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind((self.cfg.host, self.cfg.port))
        self._server.listen(1024)
        self._server.setblocking(False)
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="e2-test-receiver",
                                        daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise TransportError("test receiver did not start")
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.getsockname()[1])

    def stop(self, timeout: float = 5.0) -> None:
        """Close the listener and every association (the nodes see the RIC go away)."""
        if self._loop is not None and self._stopped is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> TestReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        accept = asyncio.create_task(self._accept_loop())
        self._ready.set()
        await self._stopped.wait()
        accept.cancel()
        assert self._server is not None
        self._server.close()
        for tr in list(self._conns.values()):
            tr.close()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(accept, *self._tasks, return_exceptions=True)
        with self._cond:
            for rec in self.nodes.values():
                rec.connected = False
            self._cond.notify_all()

    async def _accept_loop(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._server is not None
        while True:
            sock, _ = await loop.sock_accept(self._server)
            if self.cfg.transport == "tcp":
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            else:
                configure_sctp(sock)
            task = asyncio.create_task(self._serve(AsyncStreamTransport(self.cfg.transport, sock)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # -- waiting ------------------------------------------------------------------------------------------
    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Block until ``predicate()`` holds (re-checked after every received batch) or ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
        return True

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def indications(self) -> int:
        return self.counters["rx/indications"]

    # -- requests (blocking, from any thread) -------------------------------------------------------------
    def _run(self, coro: Any, timeout: float) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def control(self, ran_name: str, slice_name: str, *, cell: int | None = None, min_ratio: int = 0,
                max_ratio: int = 100, dedicated_ratio: int = 0, ran_function_id: int = 3,
                timeout: float = 5.0) -> E2apMessage:
        """Send an RC slice PRB quota control; return the node's RICcontrolAcknowledge / RICcontrolFailure."""
        rec = self.nodes[ran_name]
        rid = self._next_request_id()
        req = ricside.slice_quota_control(rec.plmn, request_id=rid, slice_name=slice_name, cell=cell,
                                          min_ratio=min_ratio, max_ratio=max_ratio, dedicated_ratio=dedicated_ratio,
                                          ran_function_id=ran_function_id)
        return self._run(self._request(ran_name, req, (rid.requestor_id, rid.instance_id)), timeout)

    def delete_subscriptions(self, ran_name: str, timeout: float = 5.0) -> list[E2apMessage]:
        """Delete every subscription sent to the node; return the responses."""
        rec = self.nodes[ran_name]
        out = []
        for instance in list(rec.subscriptions):
            rid = RicRequestId(self.cfg.requestor_id, instance)
            out.append(self._run(self._request(ran_name, ricside.subscription_delete(rid), (rid.requestor_id,
                                                                                          instance)), timeout))
        return out

    def reset(self, ran_name: str, timeout: float = 5.0) -> E2apMessage:
        """Send E2 RESET REQUEST; return the RESET RESPONSE."""
        self._instance += 1
        tid = self._instance % 256
        return self._run(self._request(ran_name, ricside.reset_request(tid), ("reset", tid)), timeout)

    def send_raw(self, ran_name: str, data: bytes, timeout: float = 5.0) -> None:
        """Send arbitrary bytes as one PDU (e.g. a malformed one)."""
        self._run(self._conns[ran_name].send(data), timeout)

    def disconnect(self, ran_name: str) -> None:
        """Close one node's association (the listener stays)."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._conns[ran_name].close)

    def _next_request_id(self) -> RicRequestId:
        self._instance += 1
        return RicRequestId(self.cfg.requestor_id, 10_000 + self._instance % 50_000)

    async def _request(self, ran_name: str, msg: E2apMessage, key: tuple[Any, Any]) -> E2apMessage:
        fut: asyncio.Future[E2apMessage] = asyncio.get_running_loop().create_future()
        self._waiters[(ran_name, *key)] = fut  # type: ignore[index]
        await self._conns[ran_name].send(e2ap.encode(msg))
        return await fut

    # -- serving one association --------------------------------------------------------------------------
    async def _serve(self, tr: AsyncStreamTransport) -> None:
        rec: NodeRecord | None = None
        try:
            while True:
                data = await tr.recv()
                if data is None:
                    continue
                rec = await self._on_pdu(tr, rec, data) or rec
                self._notify()
        except (TransportClosed, TransportError) as err:
            log.debug("association ended: %s", err)
        finally:
            tr.close()
            if rec is not None:
                if self._conns.get(rec.ran_name) is tr:
                    del self._conns[rec.ran_name]
                rec.connected = False
            self._notify()

    async def _on_pdu(self, tr: AsyncStreamTransport, rec: NodeRecord | None, data: bytes) -> NodeRecord | None:
        mode = self.cfg.decode
        if mode != "full":
            ind = fastpath.try_decode_indication(data)
            if ind is not None:
                self._on_indication(rec, ind)
                return None
        try:
            msg = e2ap.decode(data)
        except DecodeError as err:
            self.counters["rx/decode_errors"] += 1
            log.info("undecodable PDU from %s: %s", rec.ran_name if rec else tr.sock, err)
            await tr.send(e2ap.encode(ErrorIndication(cause=Cause("protocol", "transfer-syntax-error"))))
            return None
        name = type(msg).__name__
        self.counters[f"rx/{name}"] += 1
        if isinstance(msg, RICindication):
            self._on_indication(rec, msg)
        elif isinstance(msg, E2setupRequest):
            return await self._on_setup(tr, msg)
        elif rec is not None and isinstance(msg, ErrorIndication):
            rec.error_indications.append(msg)
        elif rec is not None and name in _RESPONSES:
            self._on_response(rec, msg)
        return None

    async def _on_setup(self, tr: AsyncStreamTransport, msg: E2setupRequest) -> NodeRecord:
        name = e2ap.ran_name(msg.global_e2node_id)
        gid = msg.global_e2node_id.global_gnb_id  # type: ignore[union-attr]
        rec = self.nodes.get(name)
        if rec is None:
            try:
                cells = tuple(int(c) for c in grid.gnb_cells(gid.gnb_id - self.cfg.gnb_id_base, self.cfg.block))
            except DataError:  # not named by the simulator's convention: accept it, subscribe nothing
                log.warning("%s: gNB ID %d is not a simulator block; no cells subscribed", name, gid.gnb_id)
                cells = ()
            rec = self.nodes[name] = NodeRecord(name, gid.gnb_id, gid.plmn, cells)
        old = self._conns.get(name)
        if old is not None and old is not tr:
            old.close()
        self._conns[name] = tr
        rec.setups += 1
        rec.connected = True
        rec.subscriptions.clear()
        rec.admitted.clear()
        rec.ran_functions = {f.ran_function_id: f.oid for f in msg.ran_functions}
        self.counters["rx/setups"] += 1
        resp = e2ap.e2_setup_response(msg, GlobalRicId(PlmnId("001", "01"), 1), {kpm.KPM_OID, rc.RC_OID})
        out = [e2ap.encode(resp)]
        if self.cfg.subscribe:
            cells = [c for c in rec.cells if self.cfg.cells is None or c in self.cfg.cells]
            kpm_id = next((i for i, oid in rec.ran_functions.items() if oid == kpm.KPM_OID), 2)
            if cells:
                self._instance += 1
                subs = ricside.kpm_subscriptions(rec.plmn, rec.gnb_id, cells, requestor_id=self.cfg.requestor_id,
                                                 first_instance=self._instance, period_ms=self.cfg.report_period_ms,
                                                 meas_names=self.cfg.meas_names, ran_function_id=kpm_id)
                self._instance += len(subs)
                for s in subs:
                    rec.subscriptions[s.request.request_id.instance_id] = s.cells_by_action
                    out.append(e2ap.encode(s.request))
        await tr.send_many(out)
        return rec

    def _on_response(self, rec: NodeRecord, msg: E2apMessage) -> None:
        rec.responses.append(msg)
        if type(msg).__name__ == "RICsubscriptionResponse":
            rec.admitted[msg.request_id.instance_id] = msg.admitted  # type: ignore[attr-defined]
        rid = getattr(msg, "request_id", None)
        key = (rec.ran_name, rid.requestor_id, rid.instance_id) if rid is not None else \
            (rec.ran_name, "reset", getattr(msg, "transaction_id", None))
        fut = self._waiters.pop(key, None)  # type: ignore[arg-type]
        if fut is not None and not fut.done():
            fut.set_result(msg)

    def _on_indication(self, rec: NodeRecord | None, ind: RICindication) -> None:
        self.counters["rx/indications"] += 1
        if rec is None:
            return
        rec.indications += 1
        rid = ind.request_id
        key = (rec.ran_name, rid.instance_id, ind.action_id, ind.ran_function_id)
        if ind.sn is not None:
            last = self._sn.get(key)
            if last is not None and ind.sn != (last + 1) & 0xFFFF:
                self.counters["rx/sn_gaps"] += (ind.sn - last - 1) & 0xFFFF
            self._sn[key] = ind.sn
        if self.cfg.decode == "count":
            return
        try:
            if self.cfg.decode == "full":
                msg = decode_message_generic(ind.message)
                time_ms = kpm.decode_indication_header(ind.header).unix_ms
            else:
                msg = kpm.decode_indication_message(ind.message)
                time_ms = header_time_ms(ind.header)
        except DecodeError as err:
            self.counters["rx/kpm_decode_errors"] += 1
            log.info("%s: undecodable KPM report: %s", rec.ran_name, err)
            return
        self.counters["rx/reports_decoded"] += 1
        if self.cfg.keep_reports:
            square = rec.subscriptions.get(rid.instance_id, {}).get(ind.action_id)
            if square is not None:
                rec.reports.setdefault(square, []).append(Report(ind.sn, time_ms, msg.named()))

    # -- views --------------------------------------------------------------------------------------------
    def reports(self, ran_name: str, square: int) -> list[Report]:
        rec = self.nodes.get(ran_name)
        return list(rec.reports.get(square, ())) if rec else []

    def snapshot(self) -> dict[str, Any]:
        """Counters plus per-node summaries (JSON-able)."""
        return {"counters": dict(self.counters),
                "nodes": {n: {"setups": r.setups, "connected": r.connected, "indications": r.indications}
                          for n, r in self.nodes.items()}}


# -- process entry point (the bench's sink) -----------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sim.testing", description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--transport", default="tcp", choices=("tcp", "sctp"))
    p.add_argument("--decode", default="fast", choices=DECODE_MODES)
    p.add_argument("--report-period-ms", type=int, default=1000)
    p.add_argument("--block", type=int, default=5)
    p.add_argument("--stats-every", type=float, default=1.0)
    args = p.parse_args(argv)
    cfg = ReceiverConfig(host=args.host, port=args.port, transport=args.transport, decode=args.decode,
                         report_period_ms=args.report_period_ms, keep_reports=False, block=args.block)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    with TestReceiver(cfg) as rx:
        print(f"LISTENING {rx.port}", flush=True)
        while not stop.wait(args.stats_every):
            print(json.dumps({"t": time.monotonic(), "cpu_s": time.process_time(), **dict(rx.counters)}),
                  flush=True)
        print(json.dumps({"t": time.monotonic(), "cpu_s": time.process_time(), "final": True,
                          **dict(rx.counters)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
