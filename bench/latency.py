"""Latency benchmark: RIC indication → xApp handler → RIC control → E2 node, through the local fabric.

The question: with 1,000 cells (40 gNBs × 25) reporting, how long does a closed loop take, measured where it
starts and ends, at the E2 node? Four processes on one machine, all on 127.0.0.1:

* **E2 nodes** (this process, one asyncio thread): 40 associations (framed TCP) to the fabric; E2 setup with
  KPM and RC; every admitted per-cell KPM action reports every ``period_ms``, the cells' reports spread
  evenly over the period (1,000 cells at 1 s = one indication per ms). Each RIC INDICATION carries a
  correlation id (an 8-byte sequence number) in its RICcallProcessID; the node stamps the send time.
* **Fabric** (``python -m sim.fabric``): E2 termination → routing by sub id → xApp; the control back by MEID.
* **xApp** (``python bench/latency.py --role xapp``, a :class:`~dnt.ric.local_runtime.LocalRuntime`):
  subscribes every cell of every node through the fabric's submgr REST API, and per indication decodes the
  E2AP PDU (fast path) and its KPM report, picks an eMBB PRB quota from the cell's PRB usage, and sends a
  RIC CONTROL REQUEST (E2SM-RC style 2 action 6; ``noAck``) to the node with the indication's
  RICcallProcessID echoed (the E2AP way to tie a control to what triggered it).
* **Redis** (SDL), idle on this path.

Latency = time the node receives the control − time it sent the indication (``time.perf_counter``, one
clock). Only indications sent after every subscription is up and a warm-up period count; every one must
come back (``lost`` = 0). Not measured: SCTP (TCP framing is used), network hops between machines.

``python bench/latency.py`` (full: 1,000 cells, ≥ 10,000 round trips), ``--quick`` (100 cells, 500), ``--out DIR``
writes ``DIR/latency.json`` instead of ``bench/results/latency.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from dnt.e2 import e2ap, fastpath, kpm, rc
from dnt.e2.e2ap_ies import ComponentIdNG, E2nodeComponentConfig, PlmnId, RanFunction, RicRequestId
from dnt.e2.e2ap_types import (
    E2setupRequest,
    RICcontrolRequest,
    RICindication,
    RICsubscriptionRequest,
    RICsubscriptionResponse,
)
from dnt.e2.transport import AsyncStreamTransport, FrameDecoder, TransportClosed
from dnt.report import Target, print_table, write_result

REPO = Path(__file__).resolve().parents[1]
MEAS = ("DRB.UEThpDl.1-000001", "DRB.UEThpDl.2-000002", "DRB.UEThpDl.3-000003", "RRU.PrbUsedDl.1-000001",
        "RRU.PrbUsedDl.2-000002", "RRU.PrbUsedDl.3-000003", "DNT.OfferedLoadDl.1-000001",
        "DNT.OfferedLoadDl.2-000002", "DNT.OfferedLoadDl.3-000003", "RRU.PrbAvailDl", "RRU.PrbTotDl")


@dataclasses.dataclass(frozen=True)
class LatencyConfig:
    """Settings of the latency benchmark."""

    quick: bool = False
    """Small run for the test suite."""
    n_gnbs: int = 40
    """E2 nodes (25 cells each: 40 = 1,000 cells)."""
    period_ms: int = 1000
    """KPM reporting period of every cell; the node spreads its cells' reports over it."""
    round_trips: int = 10_000
    """Indications measured (after the warm-up); each must come back as a control."""
    warmup_periods: int = 1
    """Reporting periods sent before measuring (connections, caches, JIT-free Python warm-up)."""
    target_p99_ms: float = 10.0
    """Goal for the 99th percentile."""
    drain_timeout_s: float = 10.0
    """How long to wait for the last controls."""
    setup_timeout_s: float = 120.0
    """Give up when nodes, xApp and subscriptions are not all up by then."""


QUICK = LatencyConfig(quick=True, n_gnbs=4, period_ms=200, round_trips=500)
ARRIVALS = ("spread", "node_batches")
"""``spread``: cells' reports evenly over the period (the target's case); ``node_batches``: each node sends its
cells' reports in one write, nodes staggered (the simulator's pattern: bursts of 25 queue behind each other)."""


# --- the xApp (a separate process) -----------------------------------------------------------------------------
def run_xapp(n_gnbs: int, period_ms: int) -> int:
    """``--role xapp``: subscribe every cell of ``n_gnbs`` nodes, answer each indication with a control."""
    from dnt.e2.mtypes import RIC_CONTROL_REQ, RIC_INDICATION
    from dnt.e2.rnib import read_nodes
    from dnt.ran.kpi import CellKpmSubscriptions
    from dnt.ric.local_runtime import LocalConfig, LocalRuntime
    from dnt.ric.runtime import Message, Runtime
    from sim.topology import control_target

    rt = LocalRuntime(LocalConfig.from_env(base=LocalConfig(xapp_name="latency")))
    cells = CellKpmSubscriptions(MEAS, period_ms)
    plmn: dict[str, PlmnId] = {}
    seq = iter(range(1 << 62))

    @functools.lru_cache(maxsize=8192)
    def rc_payload(ran_name: str, square: int, max_ratio: int) -> tuple[bytes, bytes]:
        quota = rc.SlicePrbQuota(plmn=plmn[ran_name], sst=1, sd=1, min_prb_ratio=0, max_prb_ratio=max_ratio,
                                 dedicated_prb_ratio=0)
        return rc.control_slice_prb_quota([quota], ue_id=control_target(square))

    def on_indication(msg: Message, rt: Runtime) -> None:
        ind = fastpath.decode_indication(msg.payload)
        where = cells.cell_of(msg.sub_id, ind.action_id)
        if where is None:
            return
        values = kpm.decode_indication_message(ind.message).named()
        max_ratio = 60 if (values.get("RRU.PrbTotDl") or 0) > 80 else 100  # the decision: cap eMBB when busy
        header, message = rc_payload(where[0], where[1], max_ratio)
        control = RICcontrolRequest(request_id=RicRequestId(1, next(seq) & 0xFFFF), ran_function_id=3, header=header,
                                    message=message, call_process_id=ind.call_process_id, ack_request="noAck")
        rt.send(RIC_CONTROL_REQ, fastpath.encode(control), meid=msg.meid)

    rt.on(RIC_INDICATION, on_indication)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()  # EOF: the bench is done
    rt.start()
    deadline = time.monotonic() + 60
    while len(nodes := read_nodes(rt.store)) < n_gnbs and time.monotonic() < deadline:
        time.sleep(0.05)  # polling SDL for the node list, bounded
    for node in nodes:
        plmn[node.ran_name] = node.plmn  # type: ignore[assignment]
        cells.subscribe(rt, node)
    print(f"XAPP_READY {len(cells.sub_ids)}", flush=True)
    stop.wait()
    rt.stop()
    print("XAPP_METRICS " + json.dumps(rt.metrics()), flush=True)
    return 0


# --- the E2 nodes (this process) ------------------------------------------------------------------------------
class Nodes:
    """``n_gnbs`` minimal E2 nodes: E2 setup, admit every KPM action, report, time the controls."""

    def __init__(self, cfg: LatencyConfig, e2_port: int, arrival: str = "spread") -> None:
        from sim.topology import Topology, TopologyConfig

        self.cfg, self.port, self.arrival = cfg, e2_port, arrival
        self.gnbs = Topology(TopologyConfig(n_gnbs=cfg.n_gnbs)).gnbs
        self.actions: list[tuple[AsyncStreamTransport, RicRequestId, int]] = []
        self.sent: dict[int, float] = {}
        self.latency_s: dict[int, float] = {}
        self.unexpected = 0
        self.ready = threading.Event()
        self.done = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        header = kpm.encode_indication_header(kpm.KpmIndicationHeader.from_unix_ms(time.time() * 1000))
        values = (80_000, 1_000, 50, 90, 4, 1, 120_000, 1_000, 50, 106, 90)
        message = kpm.KpmIndicationEncoder(MEAS, cfg.period_ms).encode(values)
        self.template = RICindication(request_id=RicRequestId(0, 0), ran_function_id=2, action_id=0, sn=0,
                                      header=header, message=message, call_process_id=b"")
        kpm_def = kpm.encode_ran_function_definition(kpm.default_kpm_ran_function_definition(MEAS))
        rc_def = rc.encode_ran_function_definition(rc.default_rc_ran_function_definition())
        self.functions = (RanFunction(2, kpm_def, 1, kpm.KPM_OID), RanFunction(3, rc_def, 1, rc.RC_OID))

    @property
    def n_cells(self) -> int:
        return sum(len(g.cells) for g in self.gnbs)

    async def _node(self, gnb: Any) -> None:
        tr = await AsyncStreamTransport.connect("tcp", "127.0.0.1", self.port)
        comp = E2nodeComponentConfig("ng", ComponentIdNG("amf"), b"\x00", b"\x00")
        await tr.send(e2ap.encode(E2setupRequest(transaction_id=1, global_e2node_id=gnb.global_id,
                                                 ran_functions=self.functions, component_configs=(comp,))))
        loop, decoder = asyncio.get_running_loop(), FrameDecoder()
        try:
            while data := await loop.sock_recv(tr.sock, 1 << 18):
                now = time.perf_counter()  # arrival of the bytes: decoding below must not count as latency
                for pdu in decoder.feed(data):
                    await self._on_pdu(tr, pdu, now)
        except (OSError, TransportClosed):
            pass

    async def _on_pdu(self, tr: AsyncStreamTransport, data: bytes, now: float) -> None:
        msg = e2ap.decode(data)
        if isinstance(msg, RICcontrolRequest):
            key = int.from_bytes(msg.call_process_id or b"", "big")
            if key in self.sent and key not in self.latency_s:
                self.latency_s[key] = now - self.sent[key]
            else:
                self.unexpected += 1
        elif isinstance(msg, RICsubscriptionRequest):
            ids = tuple(a.action_id for a in msg.actions)
            self.actions += [(tr, msg.request_id, a) for a in ids]
            await tr.send(e2ap.encode(RICsubscriptionResponse(request_id=msg.request_id, ran_function_id=2,
                                                              admitted=ids)))
            if len(self.actions) >= self.n_cells:
                self.ready.set()

    def _pdu(self, i: int) -> tuple[AsyncStreamTransport, bytes]:
        tr, rid, action = self.actions[i % len(self.actions)]
        return tr, fastpath.encode_indication(dataclasses.replace(
            self.template, request_id=rid, action_id=action, sn=(i // len(self.actions)) & 0xFFFF,
            call_process_id=i.to_bytes(8, "big")))

    async def _report(self, start: float, total: int) -> None:
        """``spread``: one indication at a time, evenly over the period."""
        interval = self.cfg.period_ms / 1000 / len(self.actions)
        for i in range(total):
            delay = start + i * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tr, pdu = self._pdu(i)
            self.sent[i] = time.perf_counter()
            await tr.send(pdu)

    async def _report_batched(self, start: float, total: int) -> None:
        """``node_batches``: each node sends all its cells' reports in one write, nodes staggered over the period
        (what the simulator does)."""
        order = sorted(range(len(self.actions)), key=lambda k: id(self.actions[k][0]))
        by_node: dict[int, list[int]] = {}
        for k in order:
            by_node.setdefault(id(self.actions[k][0]), []).append(k)
        groups = list(by_node.values())
        interval = self.cfg.period_ms / 1000 / len(groups)
        cycles = -(-total // len(self.actions))
        for slot in range(cycles * len(groups)):
            delay = start + slot * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            base = slot // len(groups) * len(self.actions)
            batch = [self._pdu(base + k) for k in groups[slot % len(groups)]]
            now = time.perf_counter()
            for k in groups[slot % len(groups)]:
                self.sent[base + k] = now
            await batch[0][0].send_many([pdu for _, pdu in batch])

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.go, self.finish = asyncio.Event(), asyncio.Event()
        tasks = [asyncio.create_task(self._node(g)) for g in self.gnbs]
        await self.go.wait()
        warm = self.cfg.warmup_periods * len(self.actions)
        self.first_measured = warm
        report = self._report_batched if self.arrival == "node_batches" else self._report
        await report(time.perf_counter() + 0.05, warm + self.cfg.round_trips)
        self.done.set()
        await self.finish.wait()  # the controls of the last indications may still be on their way
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def start(self) -> Nodes:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="e2-nodes", daemon=True)
        self._thread.start()
        return self

    def report(self) -> None:
        """Start reporting (every cell subscribed)."""
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self.go.set)

    def close(self) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.finish.set)
            self._thread.join(10)


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _line(proc: subprocess.Popen[str], prefix: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith(prefix):
            return line[len(prefix):].strip()
        if not line and proc.poll() is not None:
            break
    raise RuntimeError(f"no {prefix!r} line from {proc.args}")


def run(cfg: LatencyConfig, arrival: str = "spread") -> dict[str, Any]:
    """One closed-loop run; ``arrival`` is ``spread`` or ``node_batches`` (see :class:`Nodes`)."""
    from dnt.ric.redis_server import RedisServer

    with RedisServer() as redis:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("DBAAS_", "DNT_"))}, **redis.env(),
               "PYTHONUNBUFFERED": "1"}
        fabric = subprocess.Popen([sys.executable, "-m", "sim.fabric", "--e2-port", "0", "--xapp-port", "0",
                                   "--http-port", "0", "--log-level", "WARNING"], cwd=REPO, env=env,
                                  stdout=subprocess.PIPE, text=True)
        xapp = None
        try:
            ports = json.loads(_line(fabric, "FABRIC_READY ", 30))
            nodes = Nodes(cfg, ports["e2_port"], arrival).start()
            xapp = subprocess.Popen([sys.executable, __file__, "--role", "xapp", "--n-gnbs", str(cfg.n_gnbs),
                                     "--period-ms", str(cfg.period_ms)], cwd=REPO, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True,
                                    env={**env, "DNT_FABRIC": f"127.0.0.1:{ports['xapp_port']}"})
            subs = int(_line(xapp, "XAPP_READY ", cfg.setup_timeout_s))
            if not nodes.ready.wait(cfg.setup_timeout_s):
                raise RuntimeError(f"only {len(nodes.actions)} of {nodes.n_cells} cells subscribed")
            cpu0 = {"fabric": _cpu_s(fabric.pid), "xapp": _cpu_s(xapp.pid), "nodes": time.process_time()}
            t0 = time.perf_counter()
            nodes.report()
            nodes.done.wait(cfg.round_trips * cfg.period_ms / 1000 / nodes.n_cells * 3 + 60)
            wall = time.perf_counter() - t0
            deadline = time.monotonic() + cfg.drain_timeout_s
            while len(nodes.latency_s) < len(nodes.sent) and time.monotonic() < deadline:
                time.sleep(0.01)  # waiting for the last controls, bounded
            cpu = {"fabric": _cpu_s(fabric.pid) - cpu0["fabric"], "xapp": _cpu_s(xapp.pid) - cpu0["xapp"],
                   "nodes": time.process_time() - cpu0["nodes"]}
            nodes.close()
            xapp.stdin.close()  # type: ignore[union-attr]
            xapp_metrics = json.loads(_line(xapp, "XAPP_METRICS ", 15))
        finally:
            for proc in (xapp, fabric):
                if proc is not None and proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(15)
    measured = [k for k in nodes.sent if k >= nodes.first_measured]
    lat_ms = np.array([nodes.latency_s[k] * 1000 for k in measured if k in nodes.latency_s])
    pct = {f"p{q:g}_ms": float(np.percentile(lat_ms, q)) for q in (50, 90, 99, 99.9)} if lat_ms.size else {}
    return {"arrival": arrival, "cells": nodes.n_cells, "subscriptions": subs, "round_trips": int(lat_ms.size),
            "lost": len(measured) - int(lat_ms.size), "unexpected_controls": nodes.unexpected,
            "rate_per_s": len(nodes.sent) / wall, **pct,
            "mean_ms": float(lat_ms.mean()) if lat_ms.size else None,
            "max_ms": float(lat_ms.max()) if lat_ms.size else None,
            "cpu_s": cpu, "cpu_per_round_trip_ms": {k: v / len(nodes.sent) * 1000 for k, v in cpu.items()},
            "xapp_counters": xapp_metrics,
            "path": "E2 node -(TCP, E2AP)-> fabric e2term -> route by sub id -(TCP frame)-> xApp LocalRuntime "
                    "-> handler (E2AP fast-path decode, KPM decode, RC encode, E2AP fast-path encode) -(TCP frame)-> "
                    "fabric -> route by MEID -(TCP, E2AP)-> E2 node"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small run (the test suite's)")
    p.add_argument("--out", default=str(REPO / "bench" / "results"), help="result folder")
    p.add_argument("--role", choices=("bench", "xapp"), default="bench", help=argparse.SUPPRESS)
    p.add_argument("--n-gnbs", type=int, default=40, help=argparse.SUPPRESS)
    p.add_argument("--period-ms", type=int, default=1000, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.role == "xapp":
        return run_xapp(args.n_gnbs, args.period_ms)
    cfg = QUICK if args.quick else LatencyConfig()
    t0 = time.perf_counter()
    runs = {arrival: run(cfg, arrival) for arrival in ARRIVALS}
    m = runs["spread"]
    p99 = m.get("p99_ms")
    burst = runs.get("node_batches", {}).get("p99_ms")
    targets = [Target("p99_ms", p99, f"<= {cfg.target_p99_ms:g}", p99 is not None and p99 <= cfg.target_p99_ms),
               Target("p99_ms_burst", burst, f"<= {cfg.target_p99_ms:g} (each gNB sends its 25 cells at once)",
                      burst is not None and burst <= cfg.target_p99_ms),
               Target("round_trips", m["round_trips"], ">= 10000 with 1000 cells",
                      m["round_trips"] >= 10_000 and m["cells"] >= 1000),
               Target("no_lost_round_trips", sum(r["lost"] for r in runs.values()), "== 0",
                      all(r["lost"] == 0 for r in runs.values()))]
    path = write_result("latency", config=cfg, metrics={**m, "by_arrival": runs}, targets=targets, out_dir=args.out,
                        wall_s=time.perf_counter() - t0)
    keys = ("round_trips", "lost", "rate_per_s", "p50_ms", "p90_ms", "p99_ms", "p99.9_ms", "mean_ms", "max_ms")
    rows = [(k, *(r.get(k) for r in runs.values())) for k in keys]
    rows += [(f"CPU ms/round trip: {k}", *(r["cpu_per_round_trip_ms"][k] for r in runs.values()))
             for k in m["cpu_per_round_trip_ms"]]
    print_table(f"indication -> xApp -> control, measured at the E2 node ({m['cells']} cells)",
                ["metric", *runs], rows)
    print_table("targets", ["target", "value", "goal", "met"],
                [(t.name, t.value, t.goal, t.met) for t in targets])
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
