"""vtwin: V-twin creation rApp (non-RT RIC): cluster, federate, evaluate, publish, and name the model over A1.

Wiring only: config → historical traffic (the synthetic generator or a data path) →
:func:`dnt.twin.lifecycle.create_vtwin` (clustering + synchronous FL + test-period evaluation) → publish the
global and cluster twins (encoded ``GlobalTwin``) in a content-addressed :class:`dnt.twin.registry.ModelRegistry`
served over HTTP (``GET /models``, ``GET /models/<sha256>``) → onboard the ``dnt-twin`` A1 policy type on the
near-RT RIC's A1 mediator (``PUT /A1-P/v2/policytypes/20100``) and create an instance naming the global
twin's version and digest, the aggregation rule and the update cadence → serve until SIGTERM.

    python rapps/vtwin/app.py [--config rapps/vtwin/config.yaml] [--set a1_url=http://127.0.0.1:10000]
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dnt.data.io import load_traffic
from dnt.data.synth import SynthConfig, generate
from dnt.errors import ConfigError, DntError
from dnt.fl.messages import GlobalTwin, encode
from dnt.ric.app import main_guard, parse_config, wait_for_signal
from dnt.rrm.publish import RrmPublishConfig, publish_rrm_policy
from dnt.twin.archive import KpiHistory
from dnt.twin.lifecycle import VTwinConfig, create_vtwin
from dnt.twin.registry import (
    TWIN_POLICY_TYPE_ID,
    ModelRegistry,
    RegistryServer,
    a1_put_policy,
    a1_put_policy_type,
    twin_policy_type,
)

log = logging.getLogger("vtwin")


@dataclass(frozen=True)
class VtwinAppConfig:
    """vtwin's settings (``config.yaml`` documents each)."""

    data: str = "synthetic"
    n_cells: int = 16
    days: int = 5
    seed: int = 1
    centre_cell: int = 5161
    channel: str = "internet"
    until_step: int = 0
    history_steps: int = 288
    history_scale: float = 40.0
    history_kpi: str = "DNT.OfferedLoadDl.1-000001"
    creation: VTwinConfig = field(default_factory=VTwinConfig)
    update_cadence_s: float = 10.0
    buffer_size: int = 4
    a1_url: str = ""
    policy_instance: str = "dnt-twin-1"
    registry_host: str = "127.0.0.1"
    registry_port: int = 8090
    registry_url: str = ""
    registry_dir: str = ""
    serve: bool = True
    rrm_policy: str | bool = "off"
    rrm: RrmPublishConfig = field(default_factory=RrmPublishConfig)
    log_level: str = "INFO"


def publish(reg: ModelRegistry, twin: GlobalTwin) -> str:
    """Publish ``twin`` (stamped now) and return the digest of its bytes."""
    stamped = GlobalTwin(twin.model, twin.layout, int(time.time() * 1000))
    return reg.publish(encode(stamped), twin.model.version, twin.model.cluster).digest


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_config(argv, "vtwin", __doc__, Path(__file__).with_name("config.yaml"), VtwinAppConfig)
    logging.basicConfig(level=cfg.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    traffic = (generate(SynthConfig(n_cells=cfg.n_cells, days=cfg.days, seed=cfg.seed, centre_cell=cfg.centre_cell))
               if cfg.data == "synthetic" else load_traffic(cfg.data))
    if cfg.until_step:
        if not 0 < cfg.until_step <= traffic.n_steps:
            raise ConfigError(f"vtwin: until_step {cfg.until_step} outside the data's 1..{traffic.n_steps} steps")
        traffic = traffic.slice_steps(0, cfg.until_step)
    log.info("creating the V-twin from %d cells x %d steps (%s)", traffic.n_cells, traffic.values.shape[1], cfg.data)
    res = create_vtwin(traffic, cfg.creation, cfg.channel)
    log.info("V-twin v%d: test MSE %.4f (persistence %.4f), clusters %s", res.global_twin.model.version,
             res.test_mse, res.persistence_mse, res.clustering.sizes.tolist())
    reg = ModelRegistry(cfg.registry_dir or None)
    digest = publish(reg, res.global_twin)
    for twin in res.cluster_twins.values():
        publish(reg, twin)
    history = KpiHistory.from_traffic(traffic, cfg.channel, n_steps=cfg.history_steps, scale=cfg.history_scale,
                                      kpi=cfg.history_kpi)
    history_digest = reg.publish(history.to_bytes(), res.global_twin.model.version).digest
    server = RegistryServer(reg, cfg.registry_host, cfg.registry_port).start()
    url = cfg.registry_url or server.url
    log.info("model registry at %s: global twin %s", server.url, digest)
    if cfg.a1_url:
        policy = {"model_version": res.global_twin.model.version, "model_digest": digest, "model_url": url,
                  "aggregation_rule": cfg.creation.rule, "update_cadence_s": cfg.update_cadence_s,
                  "buffer_size": cfg.buffer_size,
                  "history_digest": history_digest}
        a1_put_policy_type(cfg.a1_url, twin_policy_type())
        a1_put_policy(cfg.a1_url, TWIN_POLICY_TYPE_ID, cfg.policy_instance, policy)
        log.info("A1 policy %d/%s created: %s", TWIN_POLICY_TYPE_ID, cfg.policy_instance, policy)
    try:  # dnt.rrm.publish: off | heuristic | train | a bundle path
        publish_rrm_policy(reg, cfg.rrm_policy, cfg.rrm, a1_url=cfg.a1_url, registry_url=url, traffic=traffic)
    except DntError as err:  # the twin is published: keep serving it without an RRM policy
        log.error("RRM policy not published: %s", err)
    if cfg.serve:
        wait_for_signal()
    server.stop()
    return 0


if __name__ == "__main__":
    main_guard("vtwin", main)
