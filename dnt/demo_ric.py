"""Demo stage: the near-RT RIC loop on one machine, live per-cell KPIs (until the twin issue replaces it).

Starts, as real processes: a ``redis-server`` (SDL), the local fabric (``python -m sim.fabric``), the E2 node
simulator (``python -m sim``: a few gNBs replaying synthetic Milan traffic, accelerated) and the kpimon xApp
(``xapps/kpimon/app.py``). For ``duration_s`` it shows a live table of the busiest cells' KPIs read from SDL
(kpimon's namespace), then stops everything with SIGTERM (xApp, nodes, fabric, Redis) and returns a summary.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dnt.errors import DntError
from dnt.procs import temporary_env

__all__ = ["RicDemoConfig", "run_ric_demo", "start_fabric"]

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class RicDemoConfig:
    """Settings of the RIC demo stage."""

    n_gnbs: int = 4
    """Simulated gNBs (25 cells each)."""
    speed: float = 600.0
    """Replay speed: 600 = one 10-minute Milan step per second."""
    period_ms: int = 1000
    """kpimon's KPM reporting period per cell."""
    duration_s: float = 10.0
    """How long the live table runs once KPIs arrive."""
    rows: int = 12
    """Cells shown (the busiest by eMBB throughput)."""
    startup_timeout_s: float = 60.0
    """Give up when no KPI record arrives within this long."""


def _spawn(args: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, *args], cwd=REPO, env=env, text=True, **kwargs)


def _table(records: dict[str, Any], cfg: RicDemoConfig, elapsed_s: float) -> Any:
    from rich.table import Table

    def embb(r: dict[str, Any]) -> float:
        return float((r.get("slices", {}).get("embb") or {}).get("DRB.UEThpDl") or 0)

    now_ms = time.time() * 1000
    table = Table(title=f"kpimon: latest KPIs of {len(records)} cells from SDL (ns kpimon), {elapsed_s:4.1f} s")
    for col in ("cell", "gNB", "data time", "eMBB kb/s", "voice kb/s", "SMS kb/s", "PRB %", "eMBB offered",
                "age ms"):
        table.add_column(col, justify="right")
    for r in sorted(records.values(), key=embb, reverse=True)[:cfg.rows]:
        s = r.get("slices", {})
        when = dt.datetime.fromtimestamp((r.get("time_ms") or 0) / 1000, tz=dt.UTC).strftime("%a %H:%M")
        table.add_row(str(r["cell"]), r["ran_name"][-6:], when, f"{embb(r):,.0f}",
                      f"{(s.get('voice') or {}).get('DRB.UEThpDl', 0):,}",
                      f"{(s.get('messaging') or {}).get('DRB.UEThpDl', 0):,}",
                      str(r.get("cell_kpis", {}).get("RRU.PrbTotDl", "-")),
                      f"{(s.get('embb') or {}).get('DNT.OfferedLoadDl', 0):,}", f"{now_ms - r['updated_ms']:.0f}")
    return table


def _tail(log: Any) -> str:
    log.flush()
    log.seek(0)
    return "; fabric log: " + " | ".join(log.read().splitlines()[-5:])


def _stop(proc: subprocess.Popen[str] | None, timeout_s: float = 15.0) -> int | None:
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()


def start_fabric(env: dict[str, str], log: Any) -> tuple[subprocess.Popen[str], dict[str, int]]:
    """``python -m sim.fabric`` on ephemeral ports (stderr to ``log``); (the process, its ports).

    Raises
    ------
    DntError
        it did not print ``FABRIC_READY`` (the message carries its last log lines).
    """
    fabric = _spawn(["-m", "sim.fabric", "--e2-port", "0", "--xapp-port", "0", "--http-port", "0",
                     "--log-level", "WARNING"], env, stdout=subprocess.PIPE, stderr=log)
    line = fabric.stdout.readline() if fabric.stdout else ""
    if not line.startswith("FABRIC_READY "):
        _stop(fabric)
        raise DntError(f"the fabric did not start: {line.strip()} {_tail(log)}")
    return fabric, json.loads(line.split(" ", 1)[1])


def run_ric_demo(cfg: RicDemoConfig = RicDemoConfig(), show: bool = True) -> dict[str, Any]:
    """Run the stage; return a summary (cells with KPIs, records seen, fabric counters, exit codes).

    Raises
    ------
    DntError
        A process did not start or no KPIs arrived (the message carries the fabric's last output lines).
    """
    from rich.console import Console
    from rich.live import Live

    from dnt.ric.redis_server import RedisServer
    from dnt.ric.sdl import SdlStore

    app = REPO / "xapps" / "kpimon" / "app.py"
    if not app.is_file():
        raise DntError(f"the RIC demo needs the source tree (xapps/kpimon/app.py not found under {REPO})")
    console = Console() if sys.stdout.isatty() else Console(width=110)
    t0 = time.perf_counter()
    # stopped in this order: the nodes first (no indication is left without its xApp), the fabric last
    procs: dict[str, subprocess.Popen[str] | None] = {"sim": None, "kpimon": None, "fabric": None}
    log = tempfile.TemporaryFile(mode="w+")  # the fabric's log: shown when something fails
    with RedisServer() as redis, temporary_env(redis.env()):
        env = {**os.environ, **redis.env(), "PYTHONUNBUFFERED": "1"}
        try:
            procs["fabric"], ports = start_fabric(env, log)
            console.print(f"[bold]RIC stage[/]: Redis :{redis.port}, fabric E2 :{ports['e2_port']} xApps "
                          f":{ports['xapp_port']} REST :{ports['http_port']}; {cfg.n_gnbs} gNBs at {cfg.speed:g}x")
            procs["sim"] = _spawn(["-m", "sim", "--transport", "tcp", "--ric", f"127.0.0.1:{ports['e2_port']}",
                                   "--gnbs", str(cfg.n_gnbs), "--speed", str(cfg.speed), "--quiet"], env,
                                  stdout=subprocess.DEVNULL)
            xapp_env = {**env, "DNT_FABRIC": f"127.0.0.1:{ports['xapp_port']}"}
            procs["kpimon"] = _spawn([str(app), "--set", f"period_ms={cfg.period_ms}", "--set", "scan_period_s=0.5",
                                      "--set", "log_level=WARNING"], xapp_env, stdout=subprocess.DEVNULL)
            store = SdlStore()
            deadline = time.monotonic() + cfg.startup_timeout_s
            while not (records := store.find_json("kpimon", "cell:")):
                if time.monotonic() > deadline or any(p is not None and p.poll() is not None for p in procs.values()):
                    raise DntError(f"no KPI records arrived from kpimon (is a process down?) {_tail(log)}")
                time.sleep(0.1)  # polling SDL, bounded by the deadline
            start, updates = time.monotonic(), 0
            with Live(_table(records, cfg, 0.0), console=console, refresh_per_second=4,
                      transient=not show) as live:
                while (elapsed := time.monotonic() - start) < cfg.duration_s:
                    time.sleep(0.5)  # the refresh period of the live view
                    records = store.find_json("kpimon", "cell:")
                    updates += 1
                    live.update(_table(records, cfg, elapsed))
            store.close()
        finally:
            codes = {name: _stop(p) for name, p in procs.items()}
            log.close()
    fabric_out = procs["fabric"].stdout.read() if procs["fabric"] and procs["fabric"].stdout else ""
    counters = next((json.loads(x.split(" ", 1)[1]) for x in fabric_out.splitlines()
                     if x.startswith("FABRIC_STOPPED ")), {})
    summary = {"cells_with_kpis": len(records), "live_refreshes": updates, "exit_codes": codes,
               "fabric_counters": counters, "wall_s": time.perf_counter() - t0}
    console.print(f"\nRIC stage: {len(records)} cells with live KPIs, {counters.get('fabric/e2/indications', 0):,} "
                  f"indications routed, exits {codes} ({summary['wall_s']:.0f} s)")
    return summary
