"""The local near-RT RIC fabric in one process: E2 termination, submgr, A1 mediator, routing, SDL on Redis.

``python -m sim.fabric`` starts it (and a ``redis-server`` unless ``--redis`` or ``DBAAS_SERVICE_HOST`` names
one), prints one line ``FABRIC_READY {"e2_port", "xapp_port", "http_port", "dbaas": {"host", "port"}, ...}``
and runs until SIGTERM / Ctrl-C. :class:`Fabric` is the same thing as a library object (``start`` / ``stop``).

Threads: one asyncio loop owns the sockets (E2 nodes, xApps) and the routing table; the REST server answers
in its own threads and hands sends to the loop (:meth:`Fabric.call`); SDL writes caused by the loop run on
one SDL thread (:meth:`Fabric.sdl`, in order), so the message path never waits for Redis. Every drop of bad
or unroutable input is counted under ``fabric/dropped/<reason>`` (``GET /ric/v1/metrics``) and logged.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import signal
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dnt.e2.rnib import DISCONNECTED, E2MGR_NS, ran_key, read_nodes
from dnt.errors import ConfigError, DntError, TransportError
from dnt.ric.local_runtime import FLAG_RTS, Frame
from dnt.ric.runtime import Message
from dnt.ric.sdl import SdlStore, Store, dbaas_env
from sim.fabric.a1med import ENDPOINT as A1_ENDPOINT
from sim.fabric.a1med import A1Mediator
from sim.fabric.config import FabricConfig
from sim.fabric.e2term import E2Term
from sim.fabric.rest import FabricHttp
from sim.fabric.router import E2_BOUND, TO_A1, RoutingTable
from sim.fabric.submgr import SubMgr
from sim.fabric.xapps import XappHub

__all__ = ["Fabric", "main"]

log = logging.getLogger(__name__)
_LOG_FIRST = 20


class Fabric:
    """The fabric (see the module docstring).

    Parameters
    ----------
    cfg : FabricConfig
    store : Store, optional
        Default :class:`~dnt.ric.sdl.SdlStore` on the Redis named by ``DBAAS_SERVICE_HOST`` / ``_PORT``.
    """

    def __init__(self, cfg: FabricConfig | None = None, store: Store | None = None) -> None:
        self.cfg = cfg or FabricConfig()
        self.store = store if store is not None else SdlStore()
        try:
            self.dbaas: tuple[str, int] | None = dbaas_env()
        except ConfigError:
            self.dbaas = None
        self.router = RoutingTable()
        self.hub = XappHub(self)
        self.e2term = E2Term(self)
        self.submgr = SubMgr(self)
        self.a1 = A1Mediator(self)
        self.http: FabricHttp | None = None
        self.ports: dict[str, int] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._counters: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self._sdl_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fabric-sdl")
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._error: BaseException | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------
    def start(self, timeout_s: float = 10.0) -> Fabric:
        """Start in background threads; returns once every port listens.

        Raises
        ------
        TransportError
            A port could not be bound (the message names it) or the start timed out.
        """
        for node in read_nodes(self.store):  # a new E2 termination: nodes must set up again (as e2term init)
            down = dataclasses.replace(node, connection_status=DISCONNECTED)
            self.store.set(E2MGR_NS, ran_key(node.ran_name), down.to_bytes())
        self.submgr.load()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="fabric-loop", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s) or self._error is not None:
            raise TransportError(f"the fabric did not start: {self._error or 'timeout'}")
        try:
            self.http = FabricHttp(self, self.cfg.host, self.cfg.http_port).start()
        except OSError as err:
            self.stop()
            raise TransportError(f"cannot serve REST on {self.cfg.host}:{self.cfg.http_port}: {err}") from err
        self.ports["http_port"] = self.http.port
        log.info("fabric up: %s", self.endpoints())
        return self

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        try:
            self.ports["e2_port"] = await self.e2term.start(self.cfg.host, self.cfg.e2_port)
            self.ports["xapp_port"] = await self.hub.start(self.cfg.host, self.cfg.xapp_port)
        except OSError as err:
            self._error = err
            self._ready.set()
            return
        self._ready.set()
        await self._stopped.wait()
        await self.hub.close()
        await self.e2term.close()

    def stop(self) -> None:
        """Close every port and connection (nodes become DISCONNECTED); idempotent."""
        if self.http is not None:
            self.http.stop()
            self.http = None
        loop, stopped = self.loop, self._stopped
        if loop is not None and stopped is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopped.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.submgr.close()
        self._sdl_pool.shutdown(wait=True)

    def endpoints(self) -> dict[str, Any]:
        """Ports, URLs and Redis: what clients need (the ``FABRIC_READY`` line)."""
        return {**self.ports, "host": self.cfg.host, **self.welcome()}

    def welcome(self) -> dict[str, Any]:
        """What an attaching xApp is told (WELCOME)."""
        base = f"http://{self.cfg.host}:{self.ports.get('http_port', self.cfg.http_port)}"
        return {"fabric": "dnt-fabric", "submgr_url": f"{base}/ric/v1", "a1_url": f"{base}/A1-P/v2",
                "dbaas": None if self.dbaas is None else {"host": self.dbaas[0], "port": self.dbaas[1]}}

    # -- plumbing -------------------------------------------------------------------------------------------
    def call(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on the event loop (from any thread)."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(fn)

    def sdl(self, fn: Callable[[], Any]) -> None:
        """Run SDL work off the event loop, in submission order; errors are logged and counted."""
        def guarded() -> None:
            try:
                fn()
            except Exception:
                self.count("fabric/sdl_errors")
                log.exception("fabric SDL task failed")

        try:
            self._sdl_pool.submit(guarded)
        except RuntimeError:  # shutting down
            pass

    def count(self, key: str, n: int = 1) -> None:
        with self._count_lock:
            self._counters[key] += n

    def drop(self, reason: str, detail: str) -> None:
        """Count a dropped input under ``fabric/dropped/<reason>`` and log it (first ones, then every 1000th)."""
        with self._count_lock:
            self._counters["fabric/dropped"] += 1
            self._counters[f"fabric/dropped/{reason}"] += 1
            n = self._counters[f"fabric/dropped/{reason}"]
        if n <= _LOG_FIRST or n % 1000 == 0:
            log.warning("dropped (%s, #%d): %s", reason, n, detail, extra={"reason": reason})

    def metrics(self) -> dict[str, int]:
        with self._count_lock:
            return dict(sorted(self._counters.items()))

    def routes(self) -> dict[str, Any]:
        return {"table": self.router.table(), "xapps": self.hub.attached(), "e2_nodes": sorted(self.e2term.nodes)}

    # -- routing (event loop) -------------------------------------------------------------------------------
    def from_xapp(self, sender: str, frame: Frame) -> None:
        """A DATA frame from xApp ``sender``: route it (module :mod:`sim.fabric.router`)."""
        self.count("fabric/from_xapp")
        msg = Message(frame.mtype, frame.payload, frame.meid, frame.sub_id, frame.xid, sender)
        if frame.flags & FLAG_RTS:
            if frame.endpoint == A1_ENDPOINT:
                self.a1.on_message(msg, sender)
            elif frame.endpoint in self.hub.conns:
                self.hub.deliver(frame.endpoint, msg, sender)
            else:
                self.drop("unknown_endpoint", f"{msg.describe()} from {sender}: reply to {frame.endpoint!r}")
        elif frame.mtype in E2_BOUND:
            self.e2term.control(msg, sender)
        elif frame.mtype in TO_A1:
            self.a1.on_message(msg, sender)
        else:
            self.to_xapps(msg, sender)

    def to_xapps(self, msg: Message, sender: str) -> None:
        """Deliver ``msg`` to the xApps the routing table names (dropped and counted when none)."""
        targets = self.router.targets(msg.mtype, msg.sub_id, sender)
        if not targets:
            self.drop("no_route", f"{msg.describe()} from {sender}: no xApp registered for it")
        for name in targets:
            self.hub.deliver(name, msg, sender)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sim.fabric", description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--e2-port", type=int, default=36422, help="E2 termination port (0 = free port)")
    p.add_argument("--xapp-port", type=int, default=4560, help="xApp port (0 = free port)")
    p.add_argument("--http-port", type=int, default=8088, help="REST port: submgr, A1, health (0 = free port)")
    p.add_argument("--transport", choices=("tcp", "sctp"), default="tcp", help="E2 transport")
    p.add_argument("--redis", metavar="HOST:PORT", help="use this Redis (default: DBAAS_SERVICE_* or start one)")
    p.add_argument("--redis-data-dir", help="persist the started Redis here (survives fabric restarts)")
    p.add_argument("--log-level", default="INFO")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redis = None
    try:
        if args.redis:
            host, _, port = args.redis.rpartition(":")
            os.environ.update(DBAAS_SERVICE_HOST=host or "127.0.0.1", DBAAS_SERVICE_PORT=port)
        elif not os.environ.get("DBAAS_SERVICE_HOST"):
            from dnt.ric.redis_server import RedisServer

            redis = RedisServer(data_dir=args.redis_data_dir).start()
            os.environ.update(redis.env())
        cfg = FabricConfig(host=args.host, e2_port=args.e2_port, xapp_port=args.xapp_port, http_port=args.http_port,
                           e2_transport=args.transport)
        fabric = Fabric(cfg).start()
        done = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: done.set())
        print("FABRIC_READY " + json.dumps(fabric.endpoints()), flush=True)
        while not done.wait(0.5):
            pass
        fabric.stop()
        print("FABRIC_STOPPED " + json.dumps(fabric.metrics()), flush=True)
        return 0
    except DntError as err:
        print(f"sim.fabric: error: {err}", flush=True)
        return 2
    finally:
        if redis is not None:
            redis.close()
