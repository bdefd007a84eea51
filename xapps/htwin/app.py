"""htwin: an H-twin worker replica: live KPM → per-cell windows → async local updates → forecasts in SDL.

Wiring only: config → runtime → three handlers → ``run()``; the work is :class:`dnt.twin.hservice.TwinWorker`.

* RIC_INDICATION → per-cell KPI records (:class:`dnt.ran.kpi.CellKpmSubscriptions`) → the eMBB offered load
  (``DNT.OfferedLoadDl.1-000001``) into per-cell 10-minute windows;
* A1_POLICY_REQ (``dnt-twin``, 20100) → fetch the named model from the vtwin registry, load it only when
  its bytes hash to the policy's digest; the policy's ``update_cadence_s`` paces the updates; its
  ``history_digest`` names the KPI history snapshot a new cell's window is seeded from;
* DNT_GLOBAL_TWIN → take newer versions (SHA-256 checked) → forecasts.

A background thread subscribes the E2 nodes of this replica (replica ``i`` of ``n`` takes the nodes whose
block index ``gNB ID - gnb_id_base`` is ``i`` mod ``n``), sends a DNT_TWIN_UPDATE every cadence and writes
forecasts (horizon of the twin) to SDL ``htwin`` / ``forecast:<cell>`` (JSON of :class:`dnt.fl.Forecast`).
History, policy and twin are saved in SDL; a restarted replica resumes them.

    python xapps/htwin/app.py --set replica=0 --set replicas=2 [--set registry_url=http://...]
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from dnt.e2.mtypes import DNT_GLOBAL_TWIN, DNT_TWIN_UPDATE, RIC_INDICATION
from dnt.e2.rnib import read_nodes
from dnt.errors import ConfigError, DntError
from dnt.fl.auth import KeyRing
from dnt.fl.dp import DPConfig
from dnt.fl.local import LocalConfig
from dnt.fl.messages import encode
from dnt.ran.kpi import CellKpmSubscriptions
from dnt.ric.a1 import A1Policy, A1PolicyHandler
from dnt.ric.app import main_guard, parse_config, run_xapp
from dnt.ric.factory import make_runtime, mdc_logging
from dnt.ric.runtime import Message, Runtime
from dnt.twin.hservice import TwinWorker
from dnt.twin.lifecycle import TwinSpec
from dnt.twin.registry import TWIN_POLICY_TYPE_ID, fetch_model, twin_policy_type

log = logging.getLogger("htwin")


@dataclass(frozen=True)
class HtwinConfig:
    """htwin's settings (``config.yaml`` documents each)."""

    runtime: str = "local"
    replica: int = 0
    replicas: int = 1
    period_ms: int = 1000
    meas_names: tuple[str, ...] = ("DNT.OfferedLoadDl.1-000001",)
    scan_period_s: float = 2.0
    gnb_id_base: int = 1
    block: int = 5
    registry_url: str = "http://127.0.0.1:8090"
    namespace: str = "htwin"
    step_ms: int = 600_000
    local_max_steps: int = 10
    lr: float = 3e-3
    spec: TwinSpec = field(default_factory=TwinSpec)
    keys_path: str = ""
    dp_clip_norm: float = 0.0
    dp_sigma: float = 0.0
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        if not 0 <= self.replica < self.replicas:
            raise ConfigError(f"htwin: replica must be in [0, replicas), got {self.replica} of {self.replicas}")

    @property
    def name(self) -> str:
        return f"htwin-{self.replica}"


def wire(rt: Runtime, cfg: HtwinConfig) -> tuple[TwinWorker, CellKpmSubscriptions, A1PolicyHandler, dict]:
    """Register htwin's handlers on ``rt``; resume the worker from SDL."""
    key = KeyRing.load(cfg.keys_path).key(cfg.name) if cfg.keys_path else None
    if key is None:
        log.warning("%s: keys_path not set, updates are sent unsigned (an aggregator requiring auth drops them)",
                    cfg.name)
    dp = DPConfig(cfg.dp_clip_norm, cfg.dp_sigma) if cfg.dp_clip_norm > 0 else None
    worker = TwinWorker(rt.store, cfg.name, cfg.spec, ns=cfg.namespace, step_ms=cfg.step_ms,
                        local=LocalConfig(max_steps=cfg.local_max_steps, lr=cfg.lr), key=key, dp=dp)
    worker.load()
    if worker.twin is not None:
        log.info("resumed twin v%d and the history of %d cells from SDL", worker.twin.model.version,
                 len(worker.history.steps))
    cells = CellKpmSubscriptions(cfg.meas_names, cfg.period_ms, gnb_id_base=cfg.gnb_id_base, block=cfg.block)
    pace = {"cadence_s": 10.0, "dirty": False}
    if (p := rt.store.get_json(cfg.namespace, f"policy:{cfg.name}")) is not None:
        pace["cadence_s"] = float(p["update_cadence_s"])

    seeded = {"n": 0}

    def count_seeded(rt: Runtime) -> None:  # cells whose window the V-twin's KPI history seeded
        if worker.seeded_cells > seeded["n"]:
            rt.count("htwin/seeded_cells", worker.seeded_cells - seeded["n"])
            seeded["n"] = worker.seeded_cells

    def on_indication(msg: Message, rt: Runtime) -> None:
        for record in cells.records(msg.payload, msg.sub_id):
            if worker.on_record(record):
                pace["dirty"] = True
        count_seeded(rt)

    def on_policy(policy: A1Policy, rt: Runtime) -> None:
        if policy.body is not None:
            worker.apply_policy(policy.body, lambda d, u: fetch_model(u or cfg.registry_url, d))
            pace["cadence_s"], pace["dirty"] = float(policy.body["update_cadence_s"]), True
            count_seeded(rt)

    def on_global(msg: Message, rt: Runtime) -> None:
        if worker.on_global(msg.payload):
            rt.count("htwin/versions")
            pace["dirty"] = True

    handler = A1PolicyHandler({TWIN_POLICY_TYPE_ID: twin_policy_type()}, on_policy)
    handler.register(rt)
    rt.on(RIC_INDICATION, on_indication)
    rt.on(DNT_GLOBAL_TWIN, on_global)
    return worker, cells, handler, pace


def work(rt: Runtime, cfg: HtwinConfig, worker: TwinWorker, cells: CellKpmSubscriptions, pace: dict,
         stopped: threading.Event) -> None:
    """Subscribe this replica's nodes, send an update every cadence, refresh forecasts, until ``stopped``."""
    next_update = time.monotonic() + float(pace["cadence_s"])
    while not stopped.is_set():
        try:
            for node in read_nodes(rt.store):
                index = (node.nb_id or 0) - cfg.gnb_id_base
                if index % cfg.replicas == cfg.replica and node.ran_name not in cells.nodes:
                    log.info("subscribed %s (%d subscriptions)", node.ran_name, cells.subscribe(rt, node))
            if time.monotonic() >= next_update:
                next_update = time.monotonic() + float(pace["cadence_s"])
                update = worker.local_update()
                if update is not None:
                    rt.send(DNT_TWIN_UPDATE, encode(update))
                    rt.count("htwin/updates")
            if pace["dirty"]:
                pace["dirty"] = False
                rt.count("htwin/forecasts", len(worker.forecasts()))
        except DntError as err:  # node not ready, registry down, no route yet: try again next time
            log.warning("htwin loop: %s", err)
        stopped.wait(min(cfg.scan_period_s, float(pace["cadence_s"])))


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_config(argv, "htwin", __doc__, Path(__file__).with_name("config.yaml"), HtwinConfig)
    mdc_logging(cfg.name, cfg.log_level)
    rt = make_runtime(cfg.name, cfg.runtime, policies=[TWIN_POLICY_TYPE_ID])
    worker, cells, handler, pace = wire(rt, cfg)

    def started() -> None:
        handler.query(rt)
        log.info("%s running (replica %d of %d), forecasts in SDL ns %s", cfg.name, cfg.replica, cfg.replicas,
                 cfg.namespace)

    return run_xapp(rt, cfg.name, partial(work, rt, cfg, worker, cells, pace), started, log=log,
                    thread_name="htwin-work")


if __name__ == "__main__":
    main_guard("htwin", main)
