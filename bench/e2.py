"""E2 benchmark: how fast are full KPM RIC INDICATIONs built and parsed, and how many per-cell reports per
second does the simulator push through a TCP sink that decodes them?

1. **Codec rates** (one core, CPU time): a RIC INDICATION carrying one cell's KPM report (11 measurements,
   format 1 message with its ``measInfoList``, header format 1), built and parsed

   * *generic*: KPM header and message through asn1tools, E2AP through pycrate (:mod:`dnt.e2.e2ap`);
   * *fast*: the KPM message's constant tail (``measInfoList`` + ``granulPeriod``) encoded once per action
     (:class:`dnt.e2.kpm.KpmIndicationEncoder`), the header once per replayed step, the E2AP template of
     :mod:`dnt.e2.fastpath`; decoding with the template and the KPM fast path (header decode cached per step).

   Both paths give the same bytes (checked).
2. **End to end**: the simulator (this process: :class:`sim.runner.SimRunner`, 400 gNBs = the whole
   10,000-cell grid, 600× real time) into the test receiver in a second process (``python -m sim.testing``:
   framed TCP, decodes every indication and its KPM message, checks sequence numbers). The rate counted is
   what the sink decoded, over a window after every subscription is up; then the simulator stops and the
   sink must have received exactly what was sent, without sequence gaps. Three runs:

   * *grid*: fast path, one report per cell per second (= one per replayed 10-minute step): the offered
     10,000 reports/s must all arrive, with no report period skipped;
   * *capacity*, fast path on both sides: a 100 ms period offers 100,000 reports/s, more than the pipeline
     carries, so the decoded rate is the sustained end-to-end capacity (``cell_reports_per_s_end_to_end``);
   * *capacity*, generic path on both sides (simulator ``e2.codec=generic``, sink ``--decode full``): the
     figure beside it.

``python bench/e2.py`` (full) or ``--quick`` (16 gNBs = 400 cells, short windows); ``--out DIR`` writes
``DIR/e2.json`` instead of ``bench/results/e2.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from dnt.e2 import e2ap, fastpath, kpm
from dnt.e2.e2ap_ies import RicRequestId
from dnt.e2.e2ap_types import RICindication
from dnt.report import Target, print_table, write_result
from sim.config import load_config
from sim.measurements import MessageEncoder, ValueTable, decode_message_generic, default_names
from sim.replay import ReplayConfig, TrafficModel, load_replay_traffic
from sim.runner import SimRunner
from sim.testing import header_time_ms
from sim.topology import Topology, TopologyConfig

REPO = Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class BenchE2Config:
    """Settings of the E2 benchmark."""

    quick: bool = False
    """Small run for the test suite (400 cells, short windows)."""
    codec_cpu_s: float = 2.0
    """CPU seconds spent per codec measurement (encode or decode, per path)."""
    n_gnbs: int = 400
    """gNBs simulated end to end (25 cells each; 400 = the whole grid)."""
    speed: float = 600.0
    """Replay speed (× real time)."""
    report_period_ms: int = 1000
    """KPM reporting period of the *grid* run (1000 ms at 600× = one report per cell per data step)."""
    capacity_period_ms: int = 100
    """KPM reporting period of the *capacity* runs: offers more reports than the pipeline carries."""
    measure_s: float = 20.0
    """Measurement window of each end-to-end run, after warm-up."""
    warmup_timeout_s: float = 180.0
    """Give up when the associations and subscriptions are not all up by then."""
    stop_timeout_s: float = 300.0
    """Give up when the simulator has not stopped by then (its totals are read after it stopped)."""
    seed: int = 0
    """Synthetic traffic seed."""


QUICK = BenchE2Config(quick=True, codec_cpu_s=0.2, n_gnbs=16, report_period_ms=200, capacity_period_ms=20,
                      measure_s=2.0, warmup_timeout_s=60.0)
TARGET_REPORTS_PER_S = 10_000


# -- codec rates --------------------------------------------------------------------------------------------
def _rate(fn: Any, cpu_s: float) -> tuple[float, int]:
    """Calls per CPU second of ``fn(i)``, measured for about ``cpu_s`` CPU seconds."""
    n, batch = 0, 16
    start = time.process_time()
    while True:
        for i in range(batch):
            fn(n + i)
        n += batch
        used = time.process_time() - start
        if used >= cpu_s:
            return n / used, n
        batch = min(batch * 2, 4096)


def codec_rates(cfg: BenchE2Config) -> dict[str, Any]:
    topo = Topology(TopologyConfig(n_gnbs=1))
    traffic = load_replay_traffic(ReplayConfig(days=1, seed=cfg.seed), topo.cell_ids)
    model = TrafficModel(traffic, topo.cell_ids)
    table = ValueTable()
    names = default_names()
    values = table.compute(model.report(80))[0, table.columns(names)].tolist()  # a 13:20 report of one cell
    header_obj = kpm.KpmIndicationHeader.from_unix_ms(model.step_start_ms(80))
    header = kpm.encode_indication_header(header_obj)
    fast_enc, generic_enc = MessageEncoder(names, 1000, fast=True), MessageEncoder(names, 1000, fast=False)
    rid = RicRequestId(1000, 1)

    def ind(i: int, hdr: bytes, msg: bytes) -> RICindication:
        return RICindication(request_id=rid, ran_function_id=2, action_id=1 + i % 16, sn=i & 0xFFFF, header=hdr,
                             message=msg)

    def enc_generic(i: int) -> bytes:
        return e2ap.encode(ind(i, kpm.encode_indication_header(header_obj), generic_enc.encode(values)))

    def enc_fast(i: int) -> bytes:
        return fastpath.encode_indication(ind(i, header, fast_enc.encode(values)))

    pdu = enc_fast(0)
    identical = pdu == enc_generic(0)

    def dec_generic(i: int) -> None:
        m = e2ap.decode(pdu)
        kpm.decode_indication_header(m.header)  # type: ignore[attr-defined]
        decode_message_generic(m.message)  # type: ignore[attr-defined]

    def dec_fast(i: int) -> None:
        m = fastpath.decode_indication(pdu)
        header_time_ms(m.header)
        kpm.decode_indication_message(m.message)

    out: dict[str, Any] = {"pdu_bytes": len(pdu), "kpm_message_bytes": len(fast_enc.encode(values)),
                           "fast_equals_generic_bytes": identical, "measurements": len(names)}
    for name, fn in (("encode_generic", enc_generic), ("encode_fast", enc_fast), ("decode_generic", dec_generic),
                     ("decode_fast", dec_fast)):
        cost = cfg.codec_cpu_s if "fast" in name else cfg.codec_cpu_s / 2
        rate, n = _rate(fn, cost)
        out[f"{name}_per_core_per_s"] = rate
        out[f"{name}_calls"] = n
    return out


# -- end to end ---------------------------------------------------------------------------------------------
class Sink:
    """``python -m sim.testing`` in a subprocess; its JSON counter lines are collected by a thread."""

    def __init__(self, decode: str, period_ms: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sim.testing", "--port", "0", "--decode", decode, "--report-period-ms",
             str(period_ms), "--stats-every", "0.25"],
            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline().split()
        if len(first) != 2 or first[0] != "LISTENING":
            raise RuntimeError(f"sink did not start: {first}")
        self.port = int(first[1])
        self.lines: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(json.loads(line))
                self._cond.notify_all()

    def wait(self, predicate: Any, timeout: float) -> dict[str, Any] | None:
        """The first stats line (from now on) for which ``predicate(line)`` holds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            seen = len(self.lines)
            while True:
                for line in self.lines[seen:]:
                    if predicate(line):
                        return line
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return None
                self._cond.wait(left)

    def close(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(30)
        return self.lines[-1] if self.lines else {}


def end_to_end(cfg: BenchE2Config, traffic: Any, codec: str, decode: str, period_ms: int) -> dict[str, Any]:
    sink = Sink(decode, period_ms)
    runner = None
    try:
        sim_cfg = load_config(None, ["ric.transport=tcp", f"ric.port={sink.port}", f"topology.n_gnbs={cfg.n_gnbs}",
                                     f"replay.speed={cfg.speed}", f"e2.codec={codec}"])
        runner = SimRunner(sim_cfg, traffic)
        n_cells = runner.topology.n_cells
        n_subs = sum((len(g.cells) + 15) // 16 for g in runner.topology.gnbs)
        t0 = time.monotonic()
        runner.start()
        ready = sink.wait(lambda s: s.get("rx/RICsubscriptionResponse", 0) >= n_subs, cfg.warmup_timeout_s)
        if ready is None:
            raise RuntimeError(f"{codec}: subscriptions not all up within {cfg.warmup_timeout_s} s")
        warmup_s = time.monotonic() - t0
        # one more period so that every subscription has reported at least once
        start = sink.wait(lambda s: s["t"] >= ready["t"] + period_ms / 1000.0 + 0.5, 30)
        assert start is not None
        sim_cpu0, sent0, skipped0 = time.process_time(), runner.counters()["e2/indications_sent"], \
            runner.counters()["e2/report_periods_skipped"]
        end = sink.wait(lambda s: s["t"] >= start["t"] + cfg.measure_s, cfg.measure_s + 30)
        assert end is not None
        sim_cpu1, c1 = time.process_time(), runner.counters()
        window = end["t"] - start["t"]
        received = end.get("rx/indications", 0) - start.get("rx/indications", 0)
        runner.stop()
        # the totals are final only once the run has ended: under load the generic encoder's batch in flight
        # can take long, and counters read before the end undercount (received > "sent" looked like a loss)
        joined = runner.join(cfg.stop_timeout_s)
        if not joined:
            raise RuntimeError(f"{codec}: the simulator did not stop within {cfg.stop_timeout_s} s; totals not final")
        sent = runner.counters()["e2/indications_sent"]
        final = sink.wait(lambda s: s.get("rx/indications", 0) >= sent, 60) or sink.lines[-1]
        return {
            "codec": codec, "sink_decode": decode, "cells": n_cells, "report_period_ms": period_ms,
            "offered_reports_per_s": n_cells * 1000.0 / period_ms,
            "cell_reports_per_s": received / window, "window_s": window, "warmup_s": warmup_s,
            "sim_sent_per_s": (c1["e2/indications_sent"] - sent0) / window,
            "sim_cpu_fraction": (sim_cpu1 - sim_cpu0) / window,
            "sink_cpu_fraction": (end["cpu_s"] - start["cpu_s"]) / window,
            "report_periods_skipped_in_window": c1["e2/report_periods_skipped"] - skipped0,
            "sent_total": sent, "received_total": final.get("rx/indications", 0), "sim_stopped": joined,
            "decoded_total": final.get("rx/reports_decoded", 0), "sn_gaps": final.get("rx/sn_gaps", 0),
            "decode_errors": final.get("rx/decode_errors", 0) + final.get("rx/kpm_decode_errors", 0),
            "lossless": final.get("rx/indications", 0) == sent and final.get("rx/sn_gaps", 0) == 0,
        }
    finally:
        if runner is not None:
            runner.stop()
            runner.join(60)
        sink.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small, fast run (what the test suite runs)")
    p.add_argument("--out", default=str(REPO / "bench" / "results"), help="output directory")
    args = p.parse_args(argv)
    cfg = QUICK if args.quick else BenchE2Config()
    wall = time.perf_counter()

    codec = codec_rates(cfg)
    topo = Topology(TopologyConfig(n_gnbs=cfg.n_gnbs))
    traffic = load_replay_traffic(ReplayConfig(days=1, seed=cfg.seed), topo.cell_ids)
    grid = end_to_end(cfg, traffic, "fast", "fast", cfg.report_period_ms)
    fast = end_to_end(cfg, traffic, "fast", "fast", cfg.capacity_period_ms)
    generic = end_to_end(cfg, traffic, "generic", "full", cfg.capacity_period_ms)

    grid_ok = (grid["cell_reports_per_s"] >= 0.99 * grid["offered_reports_per_s"]
               and grid["report_periods_skipped_in_window"] == 0 and grid["lossless"])
    targets = [
        Target("cell_reports_per_s_end_to_end", round(fast["cell_reports_per_s"], 1), f">= {TARGET_REPORTS_PER_S}",
               fast["cell_reports_per_s"] >= TARGET_REPORTS_PER_S),
        Target("grid_reports_sustained", round(grid["cell_reports_per_s"], 1),
               f">= 99% of the offered {grid['offered_reports_per_s']:g}/s, no period skipped, lossless", grid_ok),
        Target("end_to_end_lossless", all(r["lossless"] for r in (grid, fast, generic)),
               "== true (every run: sent = received, no sequence gaps)",
               all(r["lossless"] for r in (grid, fast, generic))),
        Target("fast_path_bytes_equal_generic", codec["fast_equals_generic_bytes"], "== true",
               bool(codec["fast_equals_generic_bytes"])),
    ]
    metrics = {"codec": codec, "end_to_end_grid": grid, "end_to_end_fast": fast, "end_to_end_generic": generic,
               "cell_reports_per_s_end_to_end": fast["cell_reports_per_s"],
               "cell_reports_per_s_end_to_end_generic": generic["cell_reports_per_s"]}
    path = write_result("e2", config=cfg, metrics=metrics, targets=targets, out_dir=args.out,
                        wall_s=time.perf_counter() - wall)

    print_table("RIC INDICATION with one cell's KPM report, per core (CPU time)", ["operation", "generic", "fast",
                                                                                    "speed-up"],
                [(op, codec[f"{op}_generic_per_core_per_s"], codec[f"{op}_fast_per_core_per_s"],
                  codec[f"{op}_fast_per_core_per_s"] / codec[f"{op}_generic_per_core_per_s"])
                 for op in ("encode", "decode")])
    runs = [("grid, fast", grid), ("capacity, fast", fast), ("capacity, generic", generic)]
    print_table(f"simulator -> TCP sink ({fast['cells']} cells, {cfg.speed:g}x)",
                ["path", "period ms", "offered/s", "decoded/s", "sim CPU", "sink CPU", "skipped", "lossless"],
                [(name, r["report_period_ms"], r["offered_reports_per_s"], r["cell_reports_per_s"],
                  r["sim_cpu_fraction"], r["sink_cpu_fraction"], r["report_periods_skipped_in_window"],
                  r["lossless"]) for name, r in runs])
    print_table("targets", ["name", "value", "goal", "met"], [(t.name, t.value, t.goal, t.met) for t in targets])
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
