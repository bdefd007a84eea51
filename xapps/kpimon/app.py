"""kpimon: the latest per-cell, per-slice KPIs of every E2 node, kept in SDL (``kpimon`` / ``cell:<square id>``).

Wiring only: config → runtime (:func:`dnt.ric.factory.make_runtime`: the local fabric or RMR, same code) →
one handler (RIC_INDICATION → :meth:`dnt.ran.kpi.CellKpmSubscriptions.records` → SDL) → ``run()``. A
background thread reads the E2 node list (SDL ``e2Manager``, :func:`dnt.e2.rnib.read_nodes`) every
``scan_period_s`` and subscribes KPM periodic reports for every cell of each new node. Restarted, it finds
its subscriptions in SDL (no new ones are made) and goes on writing the same records.

    python xapps/kpimon/app.py [--config xapps/kpimon/config.yaml] [--set period_ms=500]

SIGTERM / Ctrl-C stop it cleanly. Logs are mdclogpy JSON lines on stdout.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from dnt.e2.mtypes import RIC_INDICATION
from dnt.e2.rnib import read_nodes
from dnt.errors import ConfigError, DntError
from dnt.ran.kpi import CellKpmSubscriptions
from dnt.ric.app import main_guard, parse_config, run_xapp
from dnt.ric.factory import make_runtime, mdc_logging
from dnt.ric.runtime import Message, Runtime

log = logging.getLogger("kpimon")


@dataclass(frozen=True)
class KpimonConfig:
    """kpimon's settings (``config.yaml`` documents each)."""

    runtime: str = "local"
    period_ms: int = 1000
    meas_names: tuple[str, ...] = ("DRB.UEThpDl", "RRU.PrbAvailDl", "RRU.PrbTotDl")
    namespace: str = "kpimon"
    scan_period_s: float = 2.0
    gnb_id_base: int = 1
    block: int = 5
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        if self.period_ms < 1 or self.scan_period_s <= 0 or not self.meas_names:
            raise ConfigError("kpimon: period_ms >= 1, scan_period_s > 0 and meas_names non-empty")


def watch_nodes(rt: Runtime, cells: CellKpmSubscriptions, cfg: KpimonConfig, stopped: threading.Event) -> None:
    """Subscribe the cells of every connected E2 node not subscribed yet, until ``stopped``."""
    while not stopped.is_set():
        try:
            for node in read_nodes(rt.store):
                if node.ran_name not in cells.nodes and not stopped.is_set():
                    n = cells.subscribe(rt, node)
                    log.info("subscribed the cells of %s (%d subscriptions)", node.ran_name, n)
        except DntError as err:  # node not ready, submgr busy, fabric restarting: try again next scan
            log.warning("node scan: %s", err)
        stopped.wait(cfg.scan_period_s)


def wire(rt: Runtime, cfg: KpimonConfig) -> CellKpmSubscriptions:
    """Register kpimon's one handler on ``rt``: RIC_INDICATION → per-cell KPI record → SDL."""
    cells = CellKpmSubscriptions(cfg.meas_names, cfg.period_ms, gnb_id_base=cfg.gnb_id_base, block=cfg.block)

    def on_indication(msg: Message, rt: Runtime) -> None:
        for record in cells.records(msg.payload, msg.sub_id):
            rt.store.set_json(cfg.namespace, f"cell:{record['cell']}", record)
            rt.count("kpimon/records")

    rt.on(RIC_INDICATION, on_indication)
    return cells


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_config(argv, "kpimon", __doc__, Path(__file__).with_name("config.yaml"), KpimonConfig)
    mdc_logging("kpimon", cfg.log_level)
    rt = make_runtime("kpimon", cfg.runtime)
    cells = wire(rt, cfg)

    def started() -> None:
        log.info("kpimon running: period %d ms, %d measurements, records in SDL ns %s", cfg.period_ms,
                 len(cfg.meas_names), cfg.namespace)

    return run_xapp(rt, "kpimon", partial(watch_nodes, rt, cells, cfg), started, log=log, thread_name="kpimon-nodes")


if __name__ == "__main__":
    main_guard("kpimon", main)
