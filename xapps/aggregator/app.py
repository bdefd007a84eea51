"""aggregator: the H-twin's asynchronous server (FedBuff with the rule the ``dnt-twin`` A1 policy names).

Wiring only: config → runtime → three handlers → ``run()``:

* A1_POLICY_REQ (type 20100, ``schemas/a1/dnt-twin.json``) → fetch the named model from the vtwin registry,
  verify its SHA-256 (:func:`dnt.twin.registry.fetch_model`), load it → broadcast DNT_GLOBAL_TWIN;
* DNT_TWIN_UPDATE → :meth:`dnt.twin.hservice.TwinAggregator.submit` (state saved in SDL ``aggregator``
  before anything else) → on a new version, broadcast DNT_GLOBAL_TWIN;
* security (``keys_path``, ``require_auth``, ``quarantine``): updates are checked for their client's HMAC
  tag and a fresh nonce before FedBuff sees them (:mod:`dnt.fl.auth`), clients the rule keeps trimming are
  quarantined (:mod:`dnt.fl.quarantine`); rejections count as ``fl/rejected/auth``, ``fl/rejected/replay``,
  ``fl/rejected/quarantined``; the auth mode and quarantine are written to SDL ``aggregator``/``security``;
* metrics: ``fl/accepted``, ``fl/rejected``, ``fl/rejected/<reason>``, ``fl/staleness/<tau>`` (histogram),
  ``fl/versions``, ``fl/bytes_in`` / ``fl/bytes_out`` (update and twin payload bytes); the counters are also
  written to SDL ``aggregator``/``metrics`` after each update (the demo's live view reads them).

Restarted, it resumes the saved twin and buffer from SDL and asks the A1 mediator for its policies.

    python xapps/aggregator/app.py [--config xapps/aggregator/config.yaml] [--set registry_url=http://...]
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dnt.e2.mtypes import DNT_GLOBAL_TWIN, DNT_TWIN_UPDATE
from dnt.errors import ConfigError
from dnt.fl.auth import KeyRing, ReplayGuard
from dnt.fl.messages import encode
from dnt.fl.quarantine import Quarantine, QuarantineConfig
from dnt.ric.a1 import A1Policy, A1PolicyHandler
from dnt.ric.app import main_guard, parse_config, run_xapp
from dnt.ric.factory import make_runtime, mdc_logging
from dnt.ric.runtime import Message, Runtime
from dnt.twin.hservice import TwinAggregator
from dnt.twin.registry import TWIN_POLICY_TYPE_ID, fetch_model, twin_policy_type

log = logging.getLogger("aggregator")


@dataclass(frozen=True)
class QuarantineSettings:
    """The ``quarantine`` section (:class:`dnt.fl.quarantine.QuarantineConfig` plus ``enabled``)."""

    enabled: bool | None = None
    window: int = 10
    threshold: float = 0.6
    min_weight: float = 0.05
    min_observations: int = 5
    cooldown_s: float = 0.0

    def __post_init__(self) -> None:
        if self.enabled is not None and not isinstance(self.enabled, bool):
            raise ConfigError(f"quarantine.enabled must be true, false or null, got {self.enabled!r}")
        self.config()  # validates the rest

    def config(self) -> QuarantineConfig:
        return QuarantineConfig(**{k: v for k, v in asdict(self).items() if k != "enabled"})


@dataclass(frozen=True)
class AggregatorConfig:
    """aggregator's settings (``config.yaml`` documents each)."""

    runtime: str = "local"
    namespace: str = "aggregator"
    registry_url: str = "http://127.0.0.1:8090"
    log_level: str = "INFO"
    keys_path: str = ""
    require_auth: bool | None = None
    replay_window_s: float = 600.0
    quarantine: QuarantineSettings = field(default_factory=QuarantineSettings)

    def __post_init__(self) -> None:
        if self.require_auth is not None and not isinstance(self.require_auth, bool):
            raise ConfigError(f"require_auth must be true, false or null, got {self.require_auth!r}")
        if self.require_auth and not self.keys_path:
            raise ConfigError("require_auth is true but keys_path is empty: give the key file or directory "
                              "(python -m dnt.fl.auth generate FILE ID... makes one)")
        if not (isinstance(self.replay_window_s, int | float) and self.replay_window_s > 0):
            raise ConfigError(f"replay_window_s must be > 0, got {self.replay_window_s!r}")


def make_aggregator(rt: Runtime, cfg: AggregatorConfig) -> TwinAggregator:
    """The :class:`TwinAggregator` of ``cfg``: keys loaded, auth mode, replay window and quarantine set."""
    keys = KeyRing.load(cfg.keys_path) if cfg.keys_path else None
    require = keys is not None if cfg.require_auth is None else cfg.require_auth
    if keys is None:
        log.warning("keys_path is empty: twin updates are NOT authenticated (any sender may use any client id, "
                    "replays are not detected); set keys_path to a key file or a mounted Secret directory")
    elif not require:
        log.warning("require_auth is false: unsigned twin updates are accepted (signed ones are verified)")
    else:
        log.info("twin updates must be signed: %d client keys from %s", len(keys), cfg.keys_path)
    q_on = require if cfg.quarantine.enabled is None else cfg.quarantine.enabled
    quarantine = Quarantine.from_config(cfg.quarantine.config()) if q_on else None
    replay = ReplayGuard(window_ms=int(cfg.replay_window_s * 1000))
    return TwinAggregator(rt.store, cfg.namespace, keys=keys, require_auth=require, replay=replay,
                          quarantine=quarantine)


def wire(rt: Runtime, cfg: AggregatorConfig) -> tuple[TwinAggregator, A1PolicyHandler]:
    """Register the aggregator's handlers on ``rt`` and resume its state from SDL."""
    agg = make_aggregator(rt, cfg)

    def broadcast(twin: object) -> None:
        blob = encode(twin)  # type: ignore[arg-type]
        rt.send(DNT_GLOBAL_TWIN, blob)
        rt.count("fl/versions")
        rt.count("fl/bytes_out", len(blob))

    def fetch(digest: str, url: str | None) -> bytes:
        return fetch_model(url or cfg.registry_url, digest)

    def on_policy(policy: A1Policy, rt: Runtime) -> None:
        if policy.body is not None:
            twin = agg.apply_policy(policy.body, fetch)
            if twin is not None:
                broadcast(twin)

    def on_update(msg: Message, rt: Runtime) -> None:
        res, twin = agg.submit(msg.payload)
        rt.count("fl/accepted" if res.accepted else "fl/rejected")
        rt.count(f"fl/staleness/{res.staleness}" if res.accepted else f"fl/rejected/{res.reason}")
        rt.count("fl/bytes_in", len(msg.payload))
        if twin is not None:
            broadcast(twin)
        if not res.accepted or res.aggregated is not None:
            rt.store.set_json(cfg.namespace, "security", agg.metrics())  # auth mode, nonces, quarantine
        rt.store.set_json(cfg.namespace, "metrics", rt.metrics())  # the counters, for dashboards (the demo)

    handler = A1PolicyHandler({TWIN_POLICY_TYPE_ID: twin_policy_type()}, on_policy)
    handler.register(rt)
    rt.on(DNT_TWIN_UPDATE, on_update)
    if agg.load() is not None:
        log.info("resumed twin v%d from SDL", agg.server.version)  # type: ignore[union-attr]
    return agg, handler


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_config(argv, "aggregator", __doc__, Path(__file__).with_name("config.yaml"), AggregatorConfig)
    mdc_logging("aggregator", cfg.log_level)
    rt = make_runtime("aggregator", cfg.runtime, policies=[TWIN_POLICY_TYPE_ID])
    agg, handler = wire(rt, cfg)

    def started() -> None:
        handler.query(rt)  # a restarted aggregator gets the current policy again
        twin = agg.current()
        if twin is not None:
            rt.send(DNT_GLOBAL_TWIN, encode(twin))
        log.info("aggregator running: registry %s, state in SDL ns %s", cfg.registry_url, cfg.namespace)

    return run_xapp(rt, "aggregator", on_start=started, log=log)


if __name__ == "__main__":
    main_guard("aggregator", main)
