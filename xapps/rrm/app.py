"""rrm: resource decisions: live KPM + twin forecasts → per-cell slice PRB quotas → E2SM-RC RIC controls.

Wiring only: config → runtime → four handlers → ``run()``; the work is :class:`dnt.rrm.service.RrmService`.

* RIC_INDICATION → per-cell, per-slice KPI records (:class:`dnt.ran.kpi.CellKpmSubscriptions`: offered and
  served load, PRBs used, PRBs of the carrier) → the service's latest record of the cell;
* A1_POLICY_REQ (``dnt-rrm``, 20101) → safety thresholds, decision period and the policy model, fetched from
  the vtwin registry and loaded only when its bytes hash to the policy's digest and it was trained on the
  node features the rrm computes (else the policy is refused, answered ERROR with the reason, and the
  previous one stays); DELETE → back to the default policy and the heuristic;
* RIC_CONTROL_ACK / RIC_CONTROL_FAILURE → the control's outcome (a failure is counted and retried).

A background thread subscribes the E2 nodes of this replica (as htwin: block index ``gNB ID - gnb_id_base``
mod ``replicas`` == ``replica``) and, every decision period, has the service decide (the policy model, else
shares proportional to the H-twin's forecasts in SDL ``htwin`` / ``forecast:<cell>``, else to the current
load) and sends one RIC_CONTROL_REQ per cell whose quotas changed. Decisions and state live in SDL ns
``rrm`` (``decision:<cell>``, ``status:<name>``, ``state:<name>``, ``model:<digest>``); a restarted rrm
resumes them. Metrics ``rrm/controller/{policy,heuristic}``, ``rrm/decisions/{policy,forecast,load}``,
``rrm/controls/{sent,acked,failed,timeout,send_failed}`` are logged at stop.

    python xapps/rrm/app.py [--set registry_url=http://...] [--set service.control_timeout_s=2]
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from dnt.e2.mtypes import RIC_CONTROL_ACK, RIC_CONTROL_FAILURE, RIC_CONTROL_REQ, RIC_INDICATION
from dnt.e2.rc import RC_OID
from dnt.e2.rnib import read_nodes
from dnt.errors import ConfigError, DntError, PolicyError, TransportError
from dnt.ran.kpi import CellKpmSubscriptions
from dnt.ric.a1 import A1Policy, A1PolicyHandler
from dnt.ric.app import main_guard, parse_config, run_xapp
from dnt.ric.factory import make_runtime, mdc_logging
from dnt.ric.runtime import Message, Runtime
from dnt.rrm.a1 import RRM_POLICY_TYPE_ID, rrm_policy_type, validate_rrm_policy
from dnt.rrm.features import KPM_MEASUREMENTS
from dnt.rrm.service import DEFAULT_POLICY, RrmService, RrmServiceConfig
from dnt.twin.registry import fetch_model

log = logging.getLogger("rrm")


@dataclass(frozen=True)
class RrmConfig:
    """rrm's settings (``config.yaml`` documents each)."""

    runtime: str = "local"
    replica: int = 0
    replicas: int = 1
    period_ms: int = 1000
    scan_period_s: float = 2.0
    gnb_id_base: int = 1
    block: int = 5
    registry_url: str = "http://127.0.0.1:8090"
    service: RrmServiceConfig = field(default_factory=RrmServiceConfig)
    default_policy: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_POLICY))
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        if not 0 <= self.replica < self.replicas:
            raise ConfigError(f"rrm: replica must be in [0, replicas), got {self.replica} of {self.replicas}")
        try:
            validate_rrm_policy(self.default_policy)
        except PolicyError as err:
            raise ConfigError(f"rrm: default_policy: {err}") from err

    @property
    def name(self) -> str:
        """The xApp name: ``service.name``, with ``-<replica>`` when there are several replicas."""
        return self.service.name if self.replicas == 1 else f"{self.service.name}-{self.replica}"


def wire(rt: Runtime, cfg: RrmConfig) -> tuple[RrmService, CellKpmSubscriptions, A1PolicyHandler, threading.Event]:
    """Register rrm's handlers on ``rt``; resume the service from SDL. The event is set on a policy change."""
    service = RrmService(rt.store, replace(cfg.service, name=cfg.name), cfg.default_policy, count=rt.count)
    if service.load():
        log.info("resumed from SDL: %s, %d acknowledged cell quotas", service.model_digest or "heuristic",
                 len(service.acked))
    cells = CellKpmSubscriptions(KPM_MEASUREMENTS, cfg.period_ms, gnb_id_base=cfg.gnb_id_base, block=cfg.block)
    changed = threading.Event()

    def on_indication(msg: Message, rt: Runtime) -> None:
        for record in cells.records(msg.payload, msg.sub_id):
            service.on_record(record)

    def on_outcome(msg: Message, rt: Runtime) -> None:
        service.on_outcome(msg.payload, msg.meid)

    def on_policy(policy: A1Policy, rt: Runtime) -> None:
        if policy.body is None:
            service.delete_policy()
        else:
            service.apply_policy(policy.body, lambda d, u: fetch_model(u or cfg.registry_url, d),
                                 policy.policy_instance_id)
        changed.set()

    handler = A1PolicyHandler({RRM_POLICY_TYPE_ID: rrm_policy_type()}, on_policy)
    handler.register(rt)
    rt.on(RIC_INDICATION, on_indication)
    rt.on(RIC_CONTROL_ACK, on_outcome)
    rt.on(RIC_CONTROL_FAILURE, on_outcome)
    return service, cells, handler, changed


def work(rt: Runtime, cfg: RrmConfig, service: RrmService, cells: CellKpmSubscriptions, changed: threading.Event,
         stopped: threading.Event) -> None:
    """Subscribe this replica's nodes and decide every decision period, until ``stopped``."""
    next_decision = time.monotonic() + min(service.decision_period_s, 2 * cfg.scan_period_s)
    while not stopped.is_set():
        try:
            nodes = [n for n in read_nodes(rt.store)
                     if ((n.nb_id or 0) - cfg.gnb_id_base) % cfg.replicas == cfg.replica]
            for node in nodes:
                rc_func = node.ran_function(RC_OID)
                if rc_func is not None and node.plmn is not None:
                    service.add_node(node.ran_name, node.plmn, rc_func.ran_function_id)
                if node.ran_name not in cells.nodes:
                    log.info("subscribed %s (%d subscriptions)", node.ran_name, cells.subscribe(rt, node))
            if changed.is_set():
                changed.clear()
                next_decision = min(next_decision, time.monotonic() + service.decision_period_s)
            if time.monotonic() >= next_decision:
                next_decision = time.monotonic() + service.decision_period_s
                for control in service.decide({n.ran_name for n in nodes}):
                    try:
                        rt.send(RIC_CONTROL_REQ, control.payload, meid=control.meid)
                    except TransportError as err:
                        service.sent_failed(control, str(err))
        except DntError as err:  # node not ready, submgr busy, SDL hiccup: try again next time
            log.warning("rrm loop: %s", err)
        stopped.wait(max(0.05, min(cfg.scan_period_s, next_decision - time.monotonic())))


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_config(argv, "rrm", __doc__, Path(__file__).with_name("config.yaml"), RrmConfig)
    mdc_logging(cfg.name, cfg.log_level)
    rt = make_runtime(cfg.name, cfg.runtime, policies=[RRM_POLICY_TYPE_ID])
    service, cells, handler, changed = wire(rt, cfg)

    def started() -> None:
        handler.query(rt)
        log.info("%s running (replica %d of %d): period %.1f s, decisions in SDL ns %s", cfg.name, cfg.replica,
                 cfg.replicas, service.decision_period_s, cfg.service.namespace)

    return run_xapp(rt, cfg.name, partial(work, rt, cfg, service, cells, changed), started, log=log,
                    thread_name="rrm-work")


if __name__ == "__main__":
    main_guard("rrm", main)
