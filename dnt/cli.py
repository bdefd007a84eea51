"""The ``dnt`` command line: data inspection and synthesis, twin training, the demo.

``print`` and rich output live here only; the library raises and the CLI turns a :class:`DntError`
into one clear line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from dnt.errors import DntError

__all__ = ["main", "build_parser"]

log = logging.getLogger("dnt")


def _load(spec: str, cells: int, days: int, seed: int, quiet: bool):  # noqa: ANN202 - Traffic
    from dnt.progress import progress_callback

    if spec == "synthetic":
        from dnt.data.synth import SynthConfig, generate

        with progress_callback(f"synthetic Milan: {cells} cells x {days} days", not quiet) as cb:
            return generate(SynthConfig(n_cells=cells, days=days, seed=seed), progress=cb)
    from dnt.data.io import load_traffic

    with progress_callback(f"loading {spec}", not quiet) as cb:
        return load_traffic(spec, progress=cb)


# -- dnt data ----------------------------------------------------------------------------------
def cmd_data_inspect(args: argparse.Namespace) -> int:
    from dnt.data.summary import summarize
    from dnt.report import print_table

    traffic = _load(args.path, 0, 0, 0, args.quiet)
    info = summarize(traffic)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print_table(f"{args.path}", ["field", "value"],
                [(k, v) for k, v in info.items() if k != "channels"])
    print_table("channels", ["channel", "total", "share", "mean/cell/step", "top-10% share", "peak local h"],
                [(c, s["total"], s["share"], s["mean_per_cell_step"], s["top10pct_share"], s["peak_local_hour"])
                 for c, s in info["channels"].items()])
    return 0


def cmd_data_synth(args: argparse.Namespace) -> int:
    from dnt.data.converted import write_converted
    from dnt.data.raw import write_raw

    traffic = _load("synthetic", args.cells, args.days, args.seed, args.quiet)
    out = Path(args.out)
    name = out.name
    if name.endswith(".npz"):
        traffic.save(out)
    elif name.endswith((".csv", ".csv.gz")):
        write_converted(traffic, out)
    elif name.endswith((".txt", ".txt.gz")):
        if traffic.n_steps * traffic.step_ms > 86_400_000:
            raise DntError("a raw .txt file holds one day; pass a folder as --out to write one file per day")
        write_raw(traffic, out, seed=args.seed)
    else:
        from dnt.data.converted import format_utc_ms

        out.mkdir(parents=True, exist_ok=True)
        per_day = traffic.steps_per_day
        for d in range(traffic.n_steps // per_day):
            day = traffic.slice_steps(d * per_day, (d + 1) * per_day)
            # raw files are named by the local (UTC+1) date of their first interval
            date = format_utc_ms(day.start_ms + 3_600_000)[:10]
            write_raw(day, out / f"sms-call-internet-mi-{date}.txt", seed=args.seed + d)
    print(f"wrote {traffic.n_cells} cells x {traffic.n_steps} steps x {len(traffic.channels)} channels to {out}")
    return 0


# -- dnt twin ----------------------------------------------------------------------------------
def cmd_twin_train(args: argparse.Namespace) -> int:
    from dnt.twin.workflow import TwinRunConfig, run_twin_training

    traffic = _load(args.data, args.cells, args.days, args.seed, args.quiet)
    cfg = TwinRunConfig.from_args(args)
    result = run_twin_training(traffic, cfg, out_dir=Path(args.out), show_progress=not args.quiet)
    print(f"metrics: {result.metrics_path}\nplot:    {result.plot_path}\nmodel:   {result.model_path}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from dnt.demo import DemoConfig, run_demo
    from dnt.demo_ric import RicDemoConfig, run_ric_demo
    from dnt.demo_twin import TwinDemoConfig

    ric = RicDemoConfig(duration_s=args.ric_seconds)
    if args.ric_only:
        run_ric_demo(ric, show=not args.quiet)
        return 0
    loop = None if args.no_loop else TwinDemoConfig(data=args.data, loop_s=args.loop_s, rrm=not args.no_rrm,
                                                    rrm_train_timesteps=args.rrm_steps)
    cfg = DemoConfig(n_cells=args.cells, days=args.days, seed=args.seed, out_dir=args.out,
                     ric=ric if args.ric else None, twin_loop=loop, offline=not args.no_offline)
    run_demo(cfg, show_progress=not args.quiet)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dnt", description="DNT-RIC: digital network twins for the O-RAN RIC")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="inspect and synthesize Milan traffic").add_subparsers(
        dest="data_command", required=True)
    ins = data.add_parser("inspect", help="summarize a raw file, folder of raw files, converted CSV or cache")
    ins.add_argument("path")
    ins.add_argument("--json", action="store_true", help="print JSON instead of tables")
    ins.set_defaults(func=cmd_data_inspect)
    syn = data.add_parser("synth", help="write synthetic Milan-like data (.npz, .csv[.gz], .txt[.gz] or a folder)")
    syn.add_argument("--cells", type=int, default=10_000)
    syn.add_argument("--days", type=int, default=1)
    syn.add_argument("--seed", type=int, default=0)
    syn.add_argument("--out", required=True)
    syn.set_defaults(func=cmd_data_synth)

    twin = sub.add_parser("twin", help="train and evaluate twin forecasters").add_subparsers(
        dest="twin_command", required=True)
    tr = twin.add_parser("train", help="train the LSTM twin; print metrics vs baselines; write JSON + PNG")
    tr.add_argument("--data", default="synthetic", help="a data path (any supported format) or 'synthetic'")
    tr.add_argument("--cells", type=int, default=100, help="synthetic only: number of cells")
    tr.add_argument("--days", type=int, default=28, help="synthetic only: number of days")
    tr.add_argument("--seed", type=int, default=0)
    from dnt.twin.workflow import TwinRunConfig

    TwinRunConfig.add_arguments(tr)
    tr.add_argument("--out", default="runs/twin")
    tr.set_defaults(func=cmd_twin_train)

    demo = sub.add_parser("demo", help="the main job: the live twin loop (simulator → fabric → vtwin → htwin x2 + "
                          "aggregator), then clustering + per-cluster twins → report")
    demo.add_argument("--data", default="synthetic",
                      help="traffic the twin loop replays and learns from: 'synthetic' or a data path")
    demo.add_argument("--loop-s", type=float, default=150.0, help="seconds the live twin loop runs")
    demo.add_argument("--no-loop", action="store_true", help="skip the live twin loop")
    demo.add_argument("--no-rrm", action="store_true", help="twin loop without kpimon + the rrm xApp (PPO quotas)")
    demo.add_argument("--rrm-steps", type=int, default=30_000, help="PPO env steps vtwin trains the RRM policy for")
    demo.add_argument("--no-offline", action="store_true", help="skip the offline clustering + per-cluster twins")
    demo.add_argument("--cells", type=int, default=400, help="offline stage: synthetic cells")
    demo.add_argument("--days", type=int, default=28, help="offline stage: synthetic days")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--out", default="runs/demo")
    demo.add_argument("--ric", action="store_true",
                      help="also run the kpimon RIC stage first (live per-cell KPIs; the twin loop subsumes it)")
    demo.add_argument("--ric-only", action="store_true",
                      help="only the RIC stage: Redis + fabric + simulator + kpimon, live per-cell KPIs")
    demo.add_argument("--ric-seconds", type=float, default=10.0, help="how long the live KPI table runs")
    demo.set_defaults(func=cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except DntError as err:
        print(f"dnt: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dnt: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
