"""``python -m sim`` / ``dnt-e2sim``: run simulated E2 nodes replaying Milan traffic against a RIC.

Examples::

    dnt-e2sim --ric 10.0.2.10:36422                       # kernel SCTP to a real E2 termination
    dnt-e2sim --transport tcp --ric 127.0.0.1:36422       # framed TCP to the local fabric
    dnt-e2sim --with-receiver --gnbs 4 --duration-sim-s 7200   # self-contained demo with the test receiver
    dnt-e2sim --config sim/config.example.yaml --set replay.speed=60

Flags are shorthands for ``--set`` overrides of :class:`sim.config.SimConfig`. A live view shows the
replayed data time and the counters; SIGTERM or Ctrl-C stops cleanly and prints the final counters.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

from dnt.errors import DntError

__all__ = ["main", "build_parser"]

log = logging.getLogger("sim")

SUMMARY_KEYS = (
    ("indications sent", "e2/indications_sent"),
    ("controls applied", "e2/controls_applied"),
    ("controls failed", "e2/controls_failed"),
    ("E2 setups", "e2/setups"),
    ("reconnects", "e2/reconnects"),
    ("connect failures", "e2/connect_failures"),
    ("decode errors", "e2/decode_errors"),
    ("error indications sent", "e2/error_indications_sent"),
    ("error indications received", "e2/error_indications_received"),
    ("subscriptions", "e2/subscriptions"),
    ("report periods skipped", "e2/report_periods_skipped"),
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dnt-e2sim", description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="YAML file (see sim/config.example.yaml)")
    p.add_argument("--set", action="append", default=[], metavar="A.B=VALUE", help="config override (repeatable)")
    p.add_argument("--ric", metavar="HOST:PORT", help="E2 termination address (ric.host, ric.port)")
    p.add_argument("--transport", choices=("sctp", "tcp"), help="ric.transport")
    p.add_argument("--gnbs", type=int, help="topology.n_gnbs: gNBs nearest the centre (400 = the whole grid)")
    p.add_argument("--speed", type=float, help="replay.speed, × real time (600: a 10-min step per second)")
    p.add_argument("--data", help="replay.data: 'synthetic' or a raw file/folder, converted CSV, .npz")
    p.add_argument("--days", type=int, help="replay.days of synthetic traffic")
    p.add_argument("--duration-sim-s", type=float, help="replay.duration_sim_s: stop after this much data time")
    p.add_argument("--codec", choices=("fast", "generic"), help="e2.codec")
    p.add_argument("--with-receiver", action="store_true",
                   help="start the test receiver in-process (framed TCP, ephemeral port) and run against it")
    p.add_argument("--receiver-period-ms", type=int, default=1000, help="KPM period the test receiver asks for")
    p.add_argument("--quiet", action="store_true", help="no live view")
    p.add_argument("--log-level", default="WARNING")
    return p


def _overrides(args: argparse.Namespace) -> list[str]:
    out: list[str] = []
    if args.ric:
        host, sep, port = args.ric.rpartition(":")
        if not sep or not port.isdigit():
            raise DntError(f"--ric must be HOST:PORT, got {args.ric!r}")
        out += [f"ric.host={host}", f"ric.port={port}"]
    for flag, key in (("transport", "ric.transport"), ("gnbs", "topology.n_gnbs"), ("speed", "replay.speed"),
                      ("data", "replay.data"), ("days", "replay.days"), ("duration_sim_s", "replay.duration_sim_s"),
                      ("codec", "e2.codec")):
        value = getattr(args, flag)
        if value is not None:
            out.append(f"{key}={value}")
    return out + list(args.set)


def _view(runner: Any, rate: float) -> Any:
    from rich.table import Table

    c = runner.counters()
    step = runner.current_step()
    data_time = "-" if step is None else dt.datetime.fromtimestamp(
        runner.model.step_start_ms(step) / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    table = Table(title=f"dnt-e2sim: {len(runner.nodes)} gNBs, {runner.topology.n_cells} cells, "
                        f"{runner.cfg.replay.speed:g}x real time", show_header=False)
    table.add_row("data time (step)", f"{data_time} ({step})")
    table.add_row("associations up", f"{c.get('e2/associations_up', 0)} / {len(runner.nodes)}")
    table.add_row("indications/s", f"{rate:,.0f}")
    for label, key in SUMMARY_KEYS:
        table.add_row(label, f"{c.get(key, 0):,}")
    return table


def _run(args: argparse.Namespace) -> int:
    from dnt.progress import progress_callback
    from dnt.report import print_table
    from sim.config import load_config
    from sim.runner import SimRunner

    overrides = _overrides(args)
    receiver = None
    if args.with_receiver:
        from sim.testing import ReceiverConfig, TestReceiver

        receiver = TestReceiver(ReceiverConfig(report_period_ms=args.receiver_period_ms, keep_reports=False)).start()
        overrides += ["ric.transport=tcp", "ric.host=127.0.0.1", f"ric.port={receiver.port}"]
    try:
        cfg = load_config(args.config, overrides)
        with progress_callback("loading traffic", not args.quiet) as cb:
            runner = SimRunner(cfg, progress=cb)
        signal.signal(signal.SIGTERM, lambda *_: runner.stop())
        runner.start()
        try:
            if args.quiet:
                runner.join()
            else:
                from rich.live import Live

                last_n, last_t = 0, time.monotonic()
                with Live(_view(runner, 0.0), refresh_per_second=2) as live:
                    while not runner.join(1.0):
                        n, t = runner.counters().get("e2/indications_sent", 0), time.monotonic()
                        live.update(_view(runner, (n - last_n) / max(t - last_t, 1e-9)))
                        last_n, last_t = n, t
        except KeyboardInterrupt:
            runner.stop()
            runner.join(10)
        counters = runner.counters()
        print_table("dnt-e2sim: final counters", ["counter", "value"],
                    [(label, counters.get(key, 0)) for label, key in SUMMARY_KEYS])
        if receiver is not None:
            rx = receiver.counters
            print_table("test receiver", ["counter", "value"],
                        [("indications received", rx["rx/indications"]), ("sequence gaps", rx["rx/sn_gaps"]),
                         ("decode errors", rx["rx/decode_errors"])])
    finally:
        if receiver is not None:
            receiver.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return _run(args)
    except DntError as err:
        print(f"dnt-e2sim: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
