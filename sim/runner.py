"""Runs the simulated E2 nodes: associations, report timers, reconnection backoff, fault injection, counters.

One asyncio loop drives every node (hundreds of associations from one thread). Per node: connect (SCTP or
framed TCP, :class:`dnt.e2.transport.AsyncStreamTransport`), E2 setup, then a reader task feeding received
PDUs to :class:`sim.node.E2Node` and a report loop sleeping until the node's next report is due; each
period's indications go out in one batched write. When the association fails (refused, reset, no E2 setup
response within ``ric.setup_timeout_s``, E2 setup failure) the node waits ``backoff.delay_s(attempt)``
(exponential, jittered, capped; at least the RIC's time-to-wait) and connects again; the attempt count
resets after a successful E2 setup.

``run()`` returns when :meth:`SimRunner.stop` is called (thread-safe; SIGTERM in the CLI) or the replay ends
(``replay.duration_sim_s`` of data time, or the data's end without ``replay.loop``); associations are then
half-closed so that everything sent arrives. :meth:`start` / :meth:`join` run it in a background thread.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable

from dnt.data.frame import Traffic
from dnt.e2.transport import AsyncStreamTransport, TransportClosed, sctp_available
from dnt.errors import TransportError
from sim.config import SimConfig
from sim.measurements import MeasurementSource
from sim.node import E2Node, NodeState
from sim.replay import ReplayClock, TrafficModel, load_replay_traffic
from sim.topology import Topology

__all__ = ["SimRunner", "MALFORMED_PDU"]

log = logging.getLogger(__name__)

MALFORMED_PDU = b"\x00\x05\x40\x7f\xde\xad\xbe\xef"
"""Bytes that start like a RIC INDICATION and are not one (the malformed-PDU fault)."""


class SimRunner:
    """The simulator: topology + traffic model + one :class:`E2Node` per gNB, driven on asyncio.

    Parameters
    ----------
    cfg : the whole configuration.
    traffic : traffic to replay (default: loaded / generated from ``cfg.replay``).
    seed : seed of the backoff jitter.
    progress : optional ``progress(done, total)`` while loading the traffic.
    """

    def __init__(self, cfg: SimConfig, traffic: Traffic | None = None, *, seed: int = 0,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.cfg = cfg
        if cfg.ric.transport == "sctp" and not sctp_available():
            raise TransportError("ric.transport is 'sctp' but this kernel cannot open SCTP sockets "
                                 "(EPROTONOSUPPORT: load the sctp module), or use ric.transport=tcp")
        self.topology = Topology(cfg.topology)
        cells = self.topology.cell_ids
        if traffic is None:
            traffic = load_replay_traffic(cfg.replay, cells, progress=progress)
        self.model = TrafficModel(traffic, cells, cfg.replay.radio, cfg.replay.policy)
        self.source = MeasurementSource(self.model)
        self.clock = ReplayClock(traffic.step_ms, traffic.n_steps, cfg.replay.speed,
                                 start_step=cfg.replay.start_step, loop=cfg.replay.loop)
        self.nodes = [E2Node(g, self.source, self.clock, cfg.e2) for g in self.topology.gnbs]
        self._by_name = {n.gnb.ran_name: n for n in self.nodes}
        self._rng = random.Random(seed)
        self._counters: Counter[str] = Counter()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._wakes: dict[str, asyncio.Event] = {}
        self._drop: set[str] = set()
        self._malformed: Counter[str] = Counter()
        self._connected: set[str] = set()
        self.report_delay_ms = cfg.faults.report_delay_ms
        self._stop_requested = False
        self.started = threading.Event()
        self.finished = threading.Event()
        self._thread: threading.Thread | None = None
        self.wall_start: float | None = None

    # -- public, thread-safe ------------------------------------------------------------------------------
    def counters(self) -> Counter[str]:
        """Runner and node counters summed (``e2/indications_sent``, ``e2/reconnects``, ...; absent = 0)."""
        total: Counter[str] = Counter(self._counters)
        for n in self.nodes:
            total.update(n.counters)
        total["e2/associations_up"] = len(self._connected)
        return total

    def current_step(self) -> int | None:
        """Data step being replayed now (None before the run or after a finite replay)."""
        return self.clock.step_at(self._loop.time()) if self._loop is not None else None

    def node(self, ran_name: str) -> E2Node:
        return self._by_name[ran_name]

    @property
    def ran_names(self) -> list[str]:
        return list(self._by_name)

    def stop(self) -> None:
        """End the run (from any thread or a signal handler; before the run starts, it will not start)."""
        self._stop_requested = True
        loop, ev = self._loop, self._stop
        if loop is not None and ev is not None and not loop.is_closed():
            loop.call_soon_threadsafe(ev.set)

    def drop_association(self, ran_name: str | None = None) -> None:
        """Fault: close the association of one node (None: all); it reconnects with backoff."""
        self._call(lambda: self._request(self._drop.add, ran_name))

    def send_malformed(self, ran_name: str | None = None) -> None:
        """Fault: send one malformed PDU on the association of one node (None: all)."""
        self._call(lambda: self._request(lambda n: self._malformed.update([n]), ran_name))

    def set_report_delay(self, delay_ms: float) -> None:
        """Fault: hold every batch of indications back ``delay_ms``."""
        self.report_delay_ms = max(float(delay_ms), 0.0)

    def start(self) -> SimRunner:
        """Run in a background thread; returns once the loop is up."""
        self._thread = threading.Thread(target=lambda: asyncio.run(self.run()), name="dnt-e2sim", daemon=True)
        self._thread.start()
        self.started.wait(30)
        return self

    def join(self, timeout: float | None = None) -> bool:
        """Wait for a background run to end; True if it did."""
        return self.finished.wait(timeout)

    # -- internals ----------------------------------------------------------------------------------------
    def _call(self, fn: Callable[[], None]) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn)

    def _request(self, add: Callable[[str], None], ran_name: str | None) -> None:
        for name in ([ran_name] if ran_name is not None else list(self._by_name)):
            add(name)
            if name in self._wakes:
                self._wakes[name].set()

    def _now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    async def run(self) -> None:
        """Run every node until :meth:`stop` or the end of the replay."""
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self._stop_requested:
            self._stop.set()
        self.clock.t0 = self._now()
        self.wall_start = time.time()
        self._wakes = {n.gnb.ran_name: asyncio.Event() for n in self.nodes}
        tasks = [asyncio.create_task(self._node_main(n), name=n.gnb.ran_name) for n in self.nodes]
        self.started.set()
        try:
            await self._until_end()
        finally:
            self._stop.set()
            for ev in self._wakes.values():
                ev.set()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            for n, r in zip(self.nodes, results, strict=True):
                if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError):
                    log.error("%s: node task failed: %r", n.gnb.ran_name, r)
            self.finished.set()

    async def _until_end(self) -> None:
        assert self._stop is not None
        end = None
        if self.cfg.replay.duration_sim_s is not None:
            end = self.clock.t0 + self.cfg.replay.duration_sim_s / self.clock.speed
        elif not self.clock.loop:
            end = self.clock.t0 + (self.clock.n_steps - self.clock.start_step) * self.clock.step_wall_s
        timeout = None if end is None else max(end - self._now(), 0.0)
        try:
            await asyncio.wait_for(self._stop.wait(), timeout)
        except TimeoutError:
            log.info("replay finished after %.0f s of data time", self.clock.sim_elapsed_s(self._now()))

    async def _sleep(self, seconds: float) -> bool:
        """Sleep unless stopped first; True when stopped."""
        assert self._stop is not None
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def _node_main(self, node: E2Node) -> None:
        cfg, name = self.cfg, node.gnb.ran_name
        attempt = 0
        ever_connected = False
        assert self._stop is not None
        while not self._stop.is_set():
            try:
                tr = await AsyncStreamTransport.connect(cfg.ric.transport, cfg.ric.host, cfg.ric.port,
                                                        cfg.ric.connect_timeout_s, cfg.ric.max_frame_bytes)
            except TransportError as err:
                self._counters["e2/connect_failures"] += 1
                (log.warning if attempt == 0 else log.debug)("%s: %s (retrying with backoff)", name, err)
            else:
                if ever_connected:
                    self._counters["e2/reconnects"] += 1
                ever_connected = True
                self._connected.add(name)
                try:
                    if await self._session(node, tr):
                        attempt = 0
                except TransportError as err:
                    self._counters["e2/associations_lost"] += 1
                    log.info("%s: association lost: %s", name, err)
                finally:
                    self._connected.discard(name)
                    node.connection_lost()
                    if self._stop.is_set():
                        await tr.aclose()
                    else:
                        tr.close()
            if self._stop.is_set():
                break
            delay = max(cfg.backoff.delay_s(attempt, self._rng.random()), node.retry_after_s or 0.0)
            attempt += 1
            self._counters["e2/backoff_waits"] += 1
            if await self._sleep(delay):
                break

    async def _session(self, node: E2Node, tr: AsyncStreamTransport) -> bool:
        """One association; returns whether E2 setup succeeded. Raises TransportError when it breaks."""
        assert self._stop is not None
        name, faults = node.gnb.ran_name, self.cfg.faults
        wake = self._wakes[name]
        self._drop.discard(name)
        await tr.send_many(node.connection_made(self._now()))
        reader = asyncio.create_task(self._reader(node, tr, wake))
        start = self._now()
        setup_deadline = start + self.cfg.ric.setup_timeout_s
        next_drop = start + faults.drop_association_every_s if faults.drop_association_every_s else None
        next_bad = start + faults.malformed_pdu_every_s if faults.malformed_pdu_every_s else None
        try:
            while not self._stop.is_set():
                now = self._now()
                if reader.done():
                    reader.result()  # raises the transport error
                    raise TransportClosed("reader ended")
                if node.state is NodeState.DISCONNECTED:  # E2 setup failure
                    return False
                if node.state is NodeState.SETUP_PENDING and now >= setup_deadline:
                    raise TransportError(f"no E2 setup response within {self.cfg.ric.setup_timeout_s} s")
                if name in self._drop or (next_drop is not None and now >= next_drop):
                    self._drop.discard(name)
                    self._counters["e2/associations_dropped"] += 1
                    log.info("%s: fault injection: dropping the association", name)
                    return node.state is NodeState.CONNECTED
                if self._malformed[name] or (next_bad is not None and now >= next_bad):
                    self._malformed[name] = 0
                    if next_bad is not None and now >= next_bad:
                        next_bad = now + (faults.malformed_pdu_every_s or 0.0)
                    await tr.send(MALFORMED_PDU)
                    self._counters["e2/malformed_pdus_sent"] += 1
                pdus = node.due(now)
                if pdus:
                    if self.report_delay_ms > 0:
                        await asyncio.sleep(self.report_delay_ms / 1000.0)
                    await tr.send_many(pdus)
                    continue
                deadlines = [t for t in (node.next_due(), next_drop, next_bad) if t is not None]
                if node.state is NodeState.SETUP_PENDING:
                    deadlines.append(setup_deadline)
                timeout = max(min(deadlines) - self._now(), 0.0) if deadlines else None
                wake.clear()
                try:
                    await asyncio.wait_for(wake.wait(), timeout)
                except TimeoutError:
                    pass
            return node.state is NodeState.CONNECTED
        finally:
            reader.cancel()
            try:
                await reader
            except (asyncio.CancelledError, TransportError):
                pass

    async def _reader(self, node: E2Node, tr: AsyncStreamTransport, wake: asyncio.Event) -> None:
        try:
            while True:
                data = await tr.recv()
                if data is None:
                    continue
                replies = node.handle(data, self._now())
                if replies:
                    await tr.send_many(replies)
                wake.set()
        finally:
            wake.set()
