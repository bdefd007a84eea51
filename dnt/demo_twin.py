"""Demo stage: the twin lifecycle live — E2 simulator → fabric → vtwin rApp → 2 htwin replicas + aggregator.

Starts, as real processes: ``redis-server`` (SDL), the local fabric, the E2 node simulator (a few gNBs
replaying Milan traffic — synthetic traffic of exactly the simulated cells by default, or ``data`` — at 600x,
from 08:00 after ``history_days`` of history), the aggregator, htwin replicas 0 and 1 (their updates
HMAC-signed with per-replica keys the aggregator checks) and the vtwin rApp (creates the initial twin from
the history of the same cells, serves it and the KPI history snapshot the replicas seed from, onboards
``dnt-twin`` over A1).
Once the policy is IN EFFECT it runs for ``loop_s`` seconds, refreshing a live table every ``refresh_s``
(twin version, accepted/rejected updates, forecasts in SDL, running forecast MAE vs persistence), then stops
everything and writes into ``out``: ``twin_loop.json``, ``twin_forecasts.png`` (forecast vs truth, a few cells),
``twin_error.png`` (running MAE, twin vs persistence) and ``twin_bytes.png`` (bytes per method).
"""

from __future__ import annotations

import ast
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dnt.demo_ric import _spawn, _stop, start_fabric
from dnt.errors import DntError
from dnt.fl.auth import KeyRing
from dnt.procs import REPO, STEP_MS, Proc, forecast_error, rest, temporary_env
from dnt.ran.capacity import CellRadioConfig
from dnt.rrm.served import ServedLedger

__all__ = ["TwinDemoConfig", "run_twin_demo", "simulated_traffic"]


@dataclass(frozen=True)
class TwinDemoConfig:
    """Settings of the twin-loop stage (defaults: ~2.5 min of loop on 2 cores)."""

    data: str = "synthetic"
    """Traffic the simulator replays and vtwin learns from: 'synthetic' or a data path."""
    loop_s: float = 150.0
    """How long the live loop runs once the twin policy is IN EFFECT."""
    refresh_s: float = 2.0
    """Live table refresh period (and the error timeline's resolution)."""
    n_gnbs: int = 2
    """Simulated gNBs (25 cells each)."""
    speed: float = 600.0
    """Replay speed: 600 = one 10-minute step per second."""
    history_days: int = 7
    """Days of history before the replay: vtwin creates the twin from them (the same cells)."""
    start_hour: int = 8
    """The replay starts at this hour of the day after the history."""
    update_cadence_s: float = 2.0
    """The dnt-twin policy's update cadence."""
    sample_cells: int = 4
    """Cells plotted forecast vs truth."""
    rrm: bool = True
    """Run kpimon and the rrm xApp too: PPO slice decisions (trained by vtwin) acting on the simulator."""
    load_factor: float = 3.0
    """Offered load x this (the radio's Mbit/s per unit of Milan activity): at 1 the cells never overload and
    no slice decision matters; at 3 busy hours exceed the carrier, as in ``SliceEnv``'s calibration."""
    rrm_train_timesteps: int = 30_000
    """PPO env steps vtwin trains the RRM policy for before publishing it (``dnt-rrm``)."""
    rrm_period_s: float = 2.0
    """The rrm's decision period (wall seconds; 2 s = 20 simulated minutes at 600x)."""
    startup_timeout_s: float = 120.0
    """Give up when the policy is not IN EFFECT within this long."""


def simulated_traffic(n_gnbs: int, days: int, path: Path, seed: int = 0) -> Path:
    """Synthetic traffic of exactly the cells of the simulator's ``n_gnbs`` gNBs, saved at ``path`` (.npz).

    The simulator replays it (``replay.data``) and vtwin creates the twin from its days before the replay
    start (``until_step``): the V-twin learns the history of the very cells it then twins live.
    """
    from dnt.data.synth import SynthConfig, generate
    from sim.topology import Topology, TopologyConfig

    cells = tuple(int(c) for c in Topology(TopologyConfig(n_gnbs=n_gnbs)).cell_ids)
    return generate(SynthConfig(cell_ids=cells, days=days, seed=seed)).save(path)


def _demo_data(cfg: TwinDemoConfig, start_step: int, workdir: Path) -> str:
    """The user's path, or synthetic traffic of the simulated cells long enough not to wrap around."""
    if cfg.data != "synthetic":
        return cfg.data
    steps = start_step + (cfg.loop_s + cfg.startup_timeout_s) * cfg.speed / 600.0
    return str(simulated_traffic(cfg.n_gnbs, math.ceil(steps / 144) + 1, workdir / "demo_traffic.npz"))


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DBAAS_", "DNT_", "CONFIG_FILE", "RMR_"))}
    return {**base, **extra, "PYTHONUNBUFFERED": "1"}


def _stopped_metrics(proc: Proc) -> dict[str, int]:
    """The counters an app logs at stop (``... stopped: {...}``, maybe inside an MDC JSON record), {} if absent."""
    for line in reversed(proc.lines):
        if " stopped: {" not in line:
            continue
        try:
            msg = str(json.loads(line).get("msg", line))
        except (ValueError, AttributeError):
            msg = line
        try:
            return dict(ast.literal_eval(msg[msg.index(" stopped: {") + 10:].strip()))
        except (ValueError, SyntaxError):
            return {}
    return {}


def _app_name(proc: Proc) -> str:
    """``htwin-1`` for ``xapps/htwin/app.py replica=1 ...``, ``vtwin`` for ``rapps/vtwin/app.py ...``."""
    script, *settings = proc.name.split()
    replica = [s.split("=", 1)[1] for s in settings if s.startswith("replica=")]
    return script.split("/")[-2] + (f"-{replica[0]}" if replica else "")


class _Observer:
    """Reads the loop's state from SDL: forecasts, observed history, the twin's version and counters."""

    def __init__(self, store: Any, radio: Any = None) -> None:
        self.store, self.radio = store, radio
        self.snapshots: dict[tuple[int, int], list[float]] = {}
        self.actual: dict[int, dict[int, float]] = {}
        self.timeline: list[dict[str, Any]] = []
        self.served: dict[str, ServedLedger] = {}  # rrm controller in force -> KPM reports seen meanwhile

    def _poll_rrm(self) -> dict[str, Any]:
        """Count kpimon's latest reports under the rrm controller now in force (policy / forecast heuristic)."""
        status = self.store.get_json("rrm", "status:rrm") or {}
        controller = str(status.get("controller") or "none")
        ledger = self.served.setdefault(controller, ServedLedger(self.radio))
        for raw in self.store.find("kpimon", "cell:").values():
            ledger.add(json.loads(raw))
        summary = ledger.summary()
        return {"rrm_controller": controller, "rrm_reports": ledger.reports,
                "rrm_utility": {k: round(v["utility"], 4) for k, v in summary.items()}}

    def poll(self, elapsed_s: float) -> dict[str, Any]:
        live = 0
        for raw in self.store.find("htwin", "forecast:").values():
            f = json.loads(raw)
            self.snapshots[(int(f["cell_id"]), int(f["start_ms"]))] = [float(v) for v in f["values"]]
            live += 1
        for i in range(2):
            for cell, steps in (self.store.get_json("htwin", f"history:htwin-{i}") or {}).items():
                self.actual.setdefault(int(cell), {}).update({int(k): float(v) for k, v in steps.items()})
        latest = self.store.get_json("aggregator", "latest") or {}
        metrics = self.store.get_json("aggregator", "metrics") or {}
        twin_mae, pers_mae, pairs = forecast_error(self.snapshots, self.actual)
        row = {"t_s": round(elapsed_s, 2), "version": int(latest.get("version", 0)),
               "accepted": int(metrics.get("fl/accepted", 0)), "rejected": int(metrics.get("fl/rejected", 0)),
               "bytes_in": int(metrics.get("fl/bytes_in", 0)), "bytes_out": int(metrics.get("fl/bytes_out", 0)),
               "forecasts_in_sdl": live, "forecasts_seen": len(self.snapshots),
               "cells_observed": len(self.actual), "twin_mae": twin_mae, "persistence_mae": pers_mae, "pairs": pairs}
        if self.radio is not None:
            row.update(self._poll_rrm())
        self.timeline.append(row)
        return row


def _table(row: dict[str, Any], loop_s: float) -> Any:
    from rich.table import Table

    table = Table(title=f"twin loop: {row['t_s']:5.1f} / {loop_s:g} s (2 htwin replicas + aggregator, SDL)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    ratio = row["twin_mae"] / row["persistence_mae"] if row["pairs"] else float("nan")
    for name, value in (("global twin version", row["version"]), ("updates accepted", row["accepted"]),
                        ("updates rejected", row["rejected"]), ("forecasts in SDL", row["forecasts_in_sdl"]),
                        ("forecasts recorded", row["forecasts_seen"]), ("cells observed", row["cells_observed"]),
                        ("scored pairs", row["pairs"]), ("twin MAE", f"{row['twin_mae']:,.1f}"),
                        ("persistence MAE", f"{row['persistence_mae']:,.1f}"), ("twin / persistence", f"{ratio:.3f}"),
                        ("update bytes in", f"{row['bytes_in']:,}"), ("twin bytes out", f"{row['bytes_out']:,}")):
        table.add_row(name, str(value))
    if "rrm_controller" in row:
        table.add_row("rrm controller", row["rrm_controller"])
        for name, u in row["rrm_utility"].items():
            table.add_row(f"rrm utility: {name}", f"{u:.4f}")
    return table


def _bench_bytes() -> dict[str, Any]:
    path = REPO / "bench" / "results" / "twin.json"
    if not path.is_file():
        return {}
    methods = json.loads(path.read_text()).get("metrics", {}).get("synthetic", {}).get("methods", {})
    return {m: int(v["cost"]["total"]["bytes"]) for m, v in methods.items() if "cost" in v}


def _rrm_plot(obs: _Observer, out: Path) -> list[str]:
    """``rrm_served.png``: utility and unserved traffic per slice, live rrm vs the static policies."""
    ledger = obs.served.get("policy") or max(obs.served.values(), key=lambda v: v.reports, default=None)
    if ledger is None or not ledger.reports:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sm = ledger.summary()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    colors = [f"C{i}" for i in range(len(sm))]  # one colour per method in both panels
    a.bar(list(sm), [v["utility"] for v in sm.values()], color=colors)
    a.set_ylim(min(v["utility"] for v in sm.values()) - 0.05, 1.0)
    a.set_title(f"weighted utility ({ledger.reports} cell reports)")
    width = 0.8 / len(sm)
    for i, (name, v) in enumerate(sm.items()):
        vals = list(v["unserved_by_slice"].values())
        b.bar([k + i * width for k in range(len(vals))], vals, width, label=name, color=colors[i])
    b.set_xticks([k + 0.4 - width / 2 for k in range(3)], list(next(iter(sm.values()))["unserved_by_slice"]))
    b.set_title("unserved fraction per slice")
    b.legend()
    fig.tight_layout()
    fig.savefig(out / "rrm_served.png", dpi=100)
    plt.close(fig)
    return ["rrm_served.png"]


def _plots(obs: _Observer, bytes_doc: dict[str, Any], out: Path, n_cells: int) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    by_cell: dict[int, list[tuple[int, list[float]]]] = {}
    for (cell, start), values in obs.snapshots.items():
        by_cell.setdefault(cell, []).append((start, values))
    cells = sorted(by_cell, key=lambda c: (-len(by_cell[c]), c))[:n_cells]
    fig, axes = plt.subplots(max(len(cells), 1), 1, figsize=(10, 2.4 * max(len(cells), 1)), squeeze=False)
    for ax, cell in zip(axes[:, 0], cells, strict=False):
        series = sorted(obs.actual.get(cell, {}).items())
        base = min([s for s, _ in series] + [start // STEP_MS for start, _ in by_cell[cell]])
        ax.plot([s - base for s, _ in series], [v for _, v in series], "k-", lw=1.5, label="observed")
        for i, (start, values) in enumerate(sorted(by_cell[cell])):
            s0 = start // STEP_MS - base
            ax.plot(range(s0, s0 + len(values)), values, "-", color="tab:orange", alpha=0.35, lw=1,
                    label="twin forecasts" if i == 0 else None)
        ax.set_title(f"cell {cell}")
        ax.set_ylabel("traffic")
        ax.legend(loc="upper left", fontsize=8)
    axes[-1, 0].set_xlabel("10-minute steps from the first observed")
    fig.tight_layout()
    fig.savefig(out / "twin_forecasts.png", dpi=100)
    plt.close(fig)
    written.append("twin_forecasts.png")

    rows = [r for r in obs.timeline if r["pairs"]]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot([r["t_s"] for r in rows], [r["twin_mae"] for r in rows], label="twin (htwin forecasts)")
    ax.plot([r["t_s"] for r in rows], [r["persistence_mae"] for r in rows], label="persistence")
    ax.set_xlabel("loop time (s)")
    ax.set_ylabel("running MAE (all scored forecasts so far)")
    ax.set_title("forecast error over time")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "twin_error.png", dpi=100)
    plt.close(fig)
    written.append("twin_error.png")

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    bench = bytes_doc.get("bench_per_method") or {}
    if bench:
        a.bar(list(bench), list(bench.values()), color="tab:blue")
        a.set_yscale("log")
        a.tick_params(axis="x", rotation=30)
    a.set_title("bench (bench/results/twin.json): total bytes" if bench else "no bench/results/twin.json")
    live = bytes_doc.get("live") or {}
    b.bar(["updates in", "twins out"], [live.get("update_bytes_in", 0), live.get("twin_bytes_out", 0)],
          color=["tab:orange", "tab:green"])
    b.set_title("this run: aggregator payload bytes")
    fig.tight_layout()
    fig.savefig(out / "twin_bytes.png", dpi=100)
    plt.close(fig)
    written.append("twin_bytes.png")
    return written


def run_twin_demo(cfg: TwinDemoConfig, out: Path, show: bool = True) -> dict[str, Any]:
    """Run the stage, write its files into ``out``; return the summary (also ``out/twin_loop.json``).

    Raises
    ------
    DntError
        A process did not start, or the twin policy never came IN EFFECT (the message carries process logs).
    """
    from rich.console import Console
    from rich.live import Live

    from dnt.ric.redis_server import RedisServer, free_port
    from dnt.ric.sdl import SdlStore
    from dnt.twin.registry import TWIN_POLICY_TYPE_ID

    out.mkdir(parents=True, exist_ok=True)
    radio = CellRadioConfig()
    console = Console() if sys.stdout.isatty() else Console(width=110)
    t0 = time.perf_counter()
    apps: list[Proc] = []
    fabric = sim = None
    log = tempfile.TemporaryFile(mode="w+")
    with RedisServer() as redis, temporary_env(redis.env()), tempfile.TemporaryDirectory() as workdir:
        env = _clean_env(redis.env())
        try:
            fabric, ports = start_fabric(env, log)
            url = f"http://127.0.0.1:{ports['http_port']}"
            env["DNT_FABRIC"] = f"127.0.0.1:{ports['xapp_port']}"
            console.print(f"[bold]twin loop[/]: Redis :{redis.port}, fabric :{ports['e2_port']}/"
                          f"{ports['xapp_port']}/{ports['http_port']}; {cfg.n_gnbs} gNBs at {cfg.speed:g}x, "
                          f"data {cfg.data}")
            start_step = cfg.history_days * 144 + cfg.start_hour * 6
            data = _demo_data(cfg, start_step, Path(workdir))
            units = [round(u * cfg.load_factor, 6) for u in radio.mbps_per_unit]
            sim = _spawn(["-m", "sim", "--transport", "tcp", "--ric", f"127.0.0.1:{ports['e2_port']}", "--gnbs",
                          str(cfg.n_gnbs), "--speed", str(cfg.speed), "--data", data, "--set",
                          f"replay.start_step={start_step}", "--set", f"replay.radio.mbps_per_unit={units}",
                          "--quiet", "--log-level", "WARNING"], env, stdout=subprocess.DEVNULL)
            registry = f"registry_url=http://127.0.0.1:{(registry_port := free_port())}"
            keys = Path(workdir) / "update-keys.json"  # per-replica HMAC keys (a k8s Secret in deployment)
            KeyRing.generate(["htwin-0", "htwin-1"]).save(keys)
            apps.append(Proc("xapps/aggregator/app.py", env, registry, f"keys_path={keys}"))
            apps += [Proc("xapps/htwin/app.py", env, f"replica={i}", "replicas=2", registry, "scan_period_s=0.5",
                          f"keys_path={keys}")
                     for i in range(2)]
            rrm_args: tuple[str, ...] = ()
            if cfg.rrm:
                apps.append(Proc("xapps/kpimon/app.py", env, "scan_period_s=0.5"))
                apps.append(Proc("xapps/rrm/app.py", env, registry, "scan_period_s=0.5",
                                 f"default_policy.decision_period_s={cfg.rrm_period_s:g}"))
                rrm_args = ("rrm_policy=train", f"rrm.train_timesteps={cfg.rrm_train_timesteps}",
                            f"rrm.decision_period_s={cfg.rrm_period_s:g}")
            apps.append(Proc("rapps/vtwin/app.py", env, f"a1_url={url}", f"registry_port={registry_port}",
                             f"update_cadence_s={cfg.update_cadence_s:g}", "buffer_size=2",
                             f"data={data}", f"until_step={start_step}", f"history_scale={1000 * units[0]:g}",
                             *rrm_args))
            status = f"{url}/A1-P/v2/policytypes/{TWIN_POLICY_TYPE_ID}/policies/dnt-twin-1/status"
            deadline = time.monotonic() + cfg.startup_timeout_s
            with console.status("vtwin creating the initial twin, waiting for the dnt-twin policy IN EFFECT"):
                while (rest("GET", status)[1] or {}).get("instance_status") != "IN EFFECT":
                    down = [p for p in apps if p.proc.poll() is not None]
                    if sim.poll() is not None:
                        raise DntError(f"the E2 simulator exited (rc {sim.returncode}; its error is above)")
                    if time.monotonic() > deadline or down:
                        raise DntError("the twin policy did not come IN EFFECT "
                                       f"(down: {[p.name for p in down]})\n" + "\n".join(p.tail() for p in apps))
                    time.sleep(0.5)  # polling the A1 status, bounded by the deadline
            console.print(f"dnt-twin policy IN EFFECT after {time.perf_counter() - t0:.0f} s")
            store = SdlStore()
            obs = _Observer(store, CellRadioConfig(mbps_per_unit=tuple(units)) if cfg.rrm else None)
            start = time.monotonic()
            row = obs.poll(0.0)
            with Live(_table(row, cfg.loop_s), console=console, refresh_per_second=2, transient=not show) as live:
                while (elapsed := time.monotonic() - start) < cfg.loop_s:
                    time.sleep(min(cfg.refresh_s, max(cfg.loop_s - elapsed, 0.0)))  # the live view's period
                    row = obs.poll(time.monotonic() - start)
                    live.update(_table(row, cfg.loop_s))
            latest = store.get_json("aggregator", "latest") or {}
            store.close()
        finally:
            codes = {_app_name(p): p.stop() for p in apps}
            codes["sim"] = _stop(sim)
            codes["fabric"] = _stop(fabric)
            log.close()
    agg_metrics = _stopped_metrics(apps[0])
    live_bytes = {"update_bytes_in": agg_metrics.get("fl/bytes_in", row["bytes_in"]),
                  "twin_bytes_out": agg_metrics.get("fl/bytes_out", row["bytes_out"])}
    bench = _bench_bytes()
    bytes_doc = {"live": live_bytes, "bench_per_method": bench,
                 "note": ("live: payload bytes of DNT_TWIN_UPDATE into and DNT_GLOBAL_TWIN out of the aggregator "
                          "(fabric framing and the E2 KPM traffic not counted); bench_per_method: total bytes per "
                          "method from bench/results/twin.json" + ("" if bench else " (absent: run `make bench`)"))}
    final = obs.timeline[-1]
    summary = {"config": cfg, "initial_version": obs.timeline[0]["version"], "final_version": latest.get("version"),
               "rule": latest.get("rule"), "accepted": agg_metrics.get("fl/accepted", final["accepted"]),
               "rejected": agg_metrics.get("fl/rejected", final["rejected"]),
               "forecasts_recorded": len(obs.snapshots), "cells_observed": len(obs.actual),
               "twin_mae": final["twin_mae"], "persistence_mae": final["persistence_mae"], "pairs": final["pairs"],
               "aggregator_metrics": agg_metrics,
               "htwin_metrics": {f"htwin-{i}": _stopped_metrics(apps[1 + i]) for i in range(2)},
               "bytes": bytes_doc, "timeline": obs.timeline, "exit_codes": codes}
    if cfg.rrm:
        rrm_app = next(p for p in apps if p.name.startswith("xapps/rrm/"))
        summary["rrm"] = {"load_factor": cfg.load_factor, "metrics": _stopped_metrics(rrm_app),
                          "by_controller": {k: {"reports": v.reports, **v.summary()} for k, v in obs.served.items()},
                          "note": "live = the rrm's quotas acting on the simulator (KPM offered/served); static_equal "
                                  "and no_quotas = the same offered load through the simulator's PRB allocation "
                                  "under those fixed policies; utility = mean of sum_s w_s min(1, served/offered)"}
    summary["plots"] = _plots(obs, bytes_doc, out, cfg.sample_cells) + _rrm_plot(obs, out)
    summary["wall_s"] = time.perf_counter() - t0
    from dnt.report import to_jsonable

    (out / "twin_loop.json").write_text(json.dumps(to_jsonable(summary), indent=2) + "\n")
    ratio = final["twin_mae"] / final["persistence_mae"] if final["pairs"] else float("nan")
    console.print(f"\ntwin loop: v{summary['initial_version']} → v{summary['final_version']}, "
                  f"{summary['accepted']} updates accepted / {summary['rejected']} rejected, "
                  f"{len(obs.snapshots)} forecasts over {len(obs.actual)} cells; MAE twin {final['twin_mae']:,.1f} "
                  f"vs persistence {final['persistence_mae']:,.1f} (x{ratio:.3f}, {final['pairs']} pairs); "
                  f"exits {codes} ({summary['wall_s']:.0f} s)")
    policy = obs.served.get("policy")
    if policy is not None and policy.reports:
        sm = policy.summary()
        console.print(f"rrm (PPO policy in control, {policy.reports} cell reports, load x{cfg.load_factor:g}): "
                      + "; ".join(f"{k} utility {v['utility']:.4f}, voice unserved "
                                  f"{v['unserved_by_slice']['voice']:.1%}, total unserved {v['unserved']:.1%}"
                                  for k, v in sm.items()))
    return summary
