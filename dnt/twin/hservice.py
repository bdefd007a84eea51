"""The H-twin services behind the aggregator and htwin xApps, runtime-free (a Store in, messages out).

:class:`TwinAggregator` holds the FedBuff server of the ``dnt-twin`` A1 policy: a policy naming a new model
digest loads that model (fetched and verified by the caller), builds the server with the policy's rule,
and every accepted update is written to SDL before it is acknowledged, so a restart (:meth:`load`) resumes
the same version with the same buffer. Each new version is kept in SDL (``model:<version>``, ``latest``).

:class:`TwinWorker` is one htwin replica: per-cell histories of the eMBB offered load, local updates on the
current twin, forecasts. It takes a base model only when it hashes to the policy's digest, and after that
only newer versions of the same layout (each checked against its own SHA-256 on decode). With a key it signs
every update (HMAC, :func:`dnt.fl.auth.sign_update`); with a :class:`~dnt.fl.dp.DPConfig` it clips and noises
the delta first (local differential privacy).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from dnt.errors import AuthError, ConfigError, DntError, ModelIntegrityError, PolicyError
from dnt.fl.asyn import AsyncConfig, FedBuff, SubmitResult
from dnt.fl.auth import KeyRing, ReplayGuard, sign_update, verify_update
from dnt.fl.dp import DPConfig
from dnt.fl.local import LocalConfig, LocalTrainer
from dnt.fl.messages import Forecast, GlobalTwin, TwinUpdate, decode, encode
from dnt.fl.quarantine import Quarantine, QuarantineConfig
from dnt.fl.rules import RULES
from dnt.fl.types import GlobalModel, layout
from dnt.ric.sdl import Store
from dnt.twin.archive import KpiHistory
from dnt.twin.lifecycle import TwinSpec
from dnt.twin.live import CellHistory, forecast, server_from_bytes, server_to_bytes
from dnt.twin.registry import sha256_hex, validate_twin_policy

__all__ = ["TwinAggregator", "TwinWorker", "EMBB_LOAD"]

log = logging.getLogger(__name__)

EMBB_LOAD = ("embb", "DNT.OfferedLoadDl")
"""Where the worker reads a cell's eMBB offered load in a kpimon-style KPI record (slice, measurement)."""

Fetch = Callable[[str, str | None], bytes]
"""``fetch(digest, model_url) -> bytes`` already verified against ``digest`` (:func:`dnt.twin.registry.fetch_model`)."""


class TwinAggregator:
    """The aggregator's state (see the module docstring). Not thread-safe: call from the dispatch thread.

    Security (:mod:`dnt.fl.auth`, :mod:`dnt.fl.quarantine`): every update is screened before the FedBuff
    server sees it. With authentication required, an update must carry a valid HMAC tag from its client's
    key (else reason ``"auth"``) and a fresh nonce (else ``"replay"``); an update of a quarantined client is
    dropped (``"quarantined"``). After each aggregation the rule's per-update weights feed the quarantine.
    The replay guard (SDL ``replay``) and the quarantine (SDL ``quarantine``) are saved with the server
    state, so a restarted aggregator still rejects replays and keeps its quarantined clients.

    Parameters
    ----------
    store, ns : SDL store and namespace of the state.
    keys : per-client keys; ``None`` = no keys (authentication off unless ``require_auth``).
    require_auth : reject updates that are not validly signed (default: True when ``keys`` is given).
        When False but keys are given, signed updates are still verified and unsigned ones accepted.
        A ``dnt-twin`` policy's ``require_auth`` overrides it while in force.
    replay : the replay guard (default :class:`~dnt.fl.auth.ReplayGuard` with a 10-minute window).
    quarantine : the quarantine, ``None`` = none (a policy's ``quarantine`` object turns one on).
    """

    def __init__(self, store: Store, ns: str = "aggregator", *, keys: KeyRing | None = None,
                 require_auth: bool | None = None, replay: ReplayGuard | None = None,
                 quarantine: Quarantine | None = None) -> None:
        self.store, self.ns = store, ns
        self.server: FedBuff | None = None
        self.lay: Any = None
        self.rule = ""
        self.base_digest = ""
        self.keys = keys
        self.require_auth_default = keys is not None if require_auth is None else bool(require_auth)
        self.require_auth = self.require_auth_default
        self.replay = replay or ReplayGuard()
        self.quarantine = quarantine
        self.quarantine_default: QuarantineConfig | None = None if quarantine is None else quarantine.cfg

    def load(self) -> GlobalTwin | None:
        """Resume from SDL; the current twin, or None when there is no state yet."""
        self._load_security()
        blob = self.store.get(self.ns, "state")
        meta = self.store.get_json(self.ns, "latest")
        if blob is None or meta is None:
            return None
        self.server, self.lay, self.rule = server_from_bytes(blob)
        self.base_digest = str(meta.get("base_digest", ""))
        log.info("resumed twin v%d (%d buffered updates)", self.server.version, len(self.server.buffer))
        return self.current()

    def current(self) -> GlobalTwin | None:
        return None if self.server is None else GlobalTwin(self.server.model, self.lay, int(time.time() * 1000))

    def _save(self, new_version: bool) -> None:
        items = self._security_items()
        if self.server is not None:
            items["state"] = server_to_bytes(self.server, self.lay, self.rule)
        self.store.set_many(self.ns, items)
        if self.server is None:
            return
        if new_version:
            twin = self.current()
            self.store.set(self.ns, f"model:{self.server.version}", encode(twin))  # type: ignore[arg-type]
            self.store.set_json(self.ns, "latest", {"version": self.server.version, "sha256": twin.sha256,  # type: ignore[union-attr]
                                                    "base_digest": self.base_digest, "rule": self.rule})

    def apply_policy(self, body: Mapping[str, Any], fetch: Fetch) -> GlobalTwin | None:
        """Apply a ``dnt-twin`` policy; the twin to broadcast when it changed the model, else None.

        Raises
        ------
        PolicyError, TransportError, ModelIntegrityError
            invalid body, registry unreachable, bytes not matching the digest (the current twin is kept).
        """
        body = validate_twin_policy(body)
        rule_cls = RULES[body["aggregation_rule"]]
        if getattr(rule_cls, "needs_reference", False):
            raise PolicyError(f"rule {body['aggregation_rule']} needs a server root dataset, which the aggregator "
                              "does not hold: name 'tid' (or 'median', 'trimmed_mean', 'multikrum') in the policy")
        try:
            rule = rule_cls(**body.get("rule_params", {}))
        except (TypeError, ValueError) as err:
            raise PolicyError(f"rule_params do not fit rule {body['aggregation_rule']}: {err}") from err
        cfg = AsyncConfig(buffer_size=int(body.get("buffer_size", 4)), max_staleness=int(body.get("max_staleness", 20)))
        security = self._security_from_policy(body)
        if self.server is not None and body["model_digest"] == self.base_digest:
            self.server.rule, self.server.cfg, self.rule = rule, cfg, body["aggregation_rule"]
            self._set_security(*security)
            self._save(False)
            return None
        twin = decode(fetch(body["model_digest"], body.get("model_url")), GlobalTwin)
        version = max(int(body["model_version"]), 0 if self.server is None else self.server.version + 1)
        self.server = FedBuff(GlobalModel(version, twin.model.vector, twin.model.cluster), rule, cfg)
        self.lay, self.rule, self.base_digest = twin.layout, body["aggregation_rule"], body["model_digest"]
        self._set_security(*security)
        self._save(True)
        log.info("loaded base model %s as twin v%d, rule %s", self.base_digest[:12], version, self.rule)
        return self.current()

    def submit(self, payload: bytes) -> tuple[SubmitResult, GlobalTwin | None]:
        """Take one encoded TwinUpdate; (what happened, the new twin when it completed an aggregation).

        Raises
        ------
        DecodeError
            undecodable bytes or another model's layout.
        PolicyError
            no twin loaded yet (no ``dnt-twin`` policy).

        An update failing the security screen is not raised but returned as not accepted, with reason
        ``"auth"`` (unknown client, unsigned, bad tag), ``"replay"`` (replayed or stale nonce) or
        ``"quarantined"``, and ``detail`` saying why; the model and the buffer are untouched.
        """
        if self.server is None:
            raise PolicyError("no twin loaded yet (waiting for a dnt-twin A1 policy)")
        msg = decode(payload, TwinUpdate, self.lay)
        screened, nonce_used = self._screen(msg)
        if screened is not None:
            reason, detail = screened
            log.warning("update from %s rejected: %s (%s)", msg.update.client_id, reason, detail)
            if nonce_used:
                self._save(False)
            return SubmitResult(False, reason, 0, self.server.version, detail=detail), None
        res = self.server.submit(dataclasses.replace(msg.update, staleness=None))
        if res.aggregated is not None:
            agg = res.aggregated
            log.info("twin v%d from %s: weights %s, rejected %s, |delta| %.4g", res.version, list(res.clients),
                     [round(float(w), 3) for w in agg.weights], list(agg.rejected), float(np.linalg.norm(agg.delta)))
        if res.aggregated is not None and self.quarantine is not None:
            self._observe(res)
        if res.accepted or nonce_used:
            self._save(res.reason == "applied")
        return res, (self.current() if res.reason == "applied" else None)

    # --- security ----------------------------------------------------------------------------------------
    def _screen(self, msg: TwinUpdate) -> tuple[tuple[str, str] | None, bool]:
        """((reason, detail) when the update must be dropped, else None; whether a nonce was recorded)."""
        cid = msg.update.client_id
        signed = bool(msg.auth_tag or msg.nonce)
        if self.require_auth or (self.keys is not None and signed):
            try:
                if self.keys is None:
                    raise AuthError("unknown client", cid, "authentication is required but no keys are configured")
                verify_update(msg, self.keys)
                self.replay.admit(cid, msg.nonce)
            except AuthError as err:
                kind = "replay" if err.reason in ("replayed nonce", "stale nonce") else "auth"
                return (kind, f"{err.reason}: {err.detail}" if err.detail else err.reason), False
            nonce_used = True
        else:
            nonce_used = False
        if self.quarantine is not None:
            why = self.quarantine.check(cid)
            if why is not None:
                return ("quarantined", why), nonce_used
        return None, nonce_used

    def _observe(self, res: SubmitResult) -> None:
        """Feed one aggregation's per-update weights to the quarantine."""
        agg = res.aggregated
        if agg is None or self.quarantine is None:
            return
        try:
            newly = self.quarantine.observe(res.clients, agg.weights, agg.rejected)
        except ValueError as err:
            log.warning("quarantine not updated after twin v%d: %s", res.version, err)
            return
        for cid in newly:
            log.warning("client %s quarantined: %s; its updates are dropped from now on", cid,
                        self.quarantine.reason(cid))

    def _security_from_policy(self, body: Mapping[str, Any]) -> tuple[bool, QuarantineConfig | None]:
        """(require_auth, quarantine settings or None) a policy asks for (the configured ones where it is silent)."""
        require = bool(body.get("require_auth", self.require_auth_default))
        qcfg = self.quarantine_default
        if body.get("quarantine") is not None:
            base = self.quarantine_default or QuarantineConfig()
            q = body["quarantine"]
            try:
                qcfg = dataclasses.replace(base, **{k: q[k] for k in ("window", "threshold", "min_weight") if k in q})
            except ConfigError as err:
                raise PolicyError(f"dnt-twin policy quarantine: {err}") from err
        return require, qcfg

    def _set_security(self, require_auth: bool, qcfg: QuarantineConfig | None) -> None:
        if require_auth != self.require_auth:
            log.warning("authenticated updates %s by policy", "required" if require_auth else "no longer required")
        self.require_auth = require_auth
        if require_auth and self.keys is None:
            log.error("authenticated updates are required but no keys are configured (keys_path): every update "
                      "will be rejected")
        if qcfg is None:
            self.quarantine = None
        elif self.quarantine is None:
            self.quarantine = Quarantine.from_config(qcfg)
        elif qcfg != self.quarantine.cfg:
            self.quarantine.configure(**dataclasses.asdict(qcfg))

    def _security_items(self) -> dict[str, bytes]:
        items = {"replay": self.replay.to_bytes()}
        if self.quarantine is not None:
            items["quarantine"] = json.dumps(self.quarantine.to_dict()).encode()
        return items

    def _load_security(self) -> None:
        """Restore the replay guard and the quarantine saved in SDL (this aggregator's settings win)."""
        blob = self.store.get(self.ns, "replay")
        if blob is not None:
            r = self.replay
            self.replay = ReplayGuard.from_bytes(blob, window_ms=r.window_ms, max_nonces=r.max_nonces,
                                                 max_skew_ms=r.max_skew_ms, clock=r.clock)
        saved = self.store.get_json(self.ns, "quarantine")
        if saved is not None:
            q = self.quarantine
            self.quarantine = Quarantine.from_dict(saved, None if q is None else q.cfg, None if q is None else q.clock)

    def metrics(self) -> dict[str, Any]:
        """Security state for dashboards: auth mode, remembered nonces, quarantine (:meth:`Quarantine.metrics`)."""
        return {"require_auth": self.require_auth, "clients_with_keys": 0 if self.keys is None else len(self.keys),
                "replay_nonces": len(self.replay),
                "quarantine": None if self.quarantine is None else self.quarantine.metrics()}


class TwinWorker:
    """One htwin replica's state (thread-safe: reports, training and models may come from different threads)."""

    def __init__(self, store: Store, name: str, spec: TwinSpec, *, ns: str = "htwin", step_ms: int = 600_000,
                 local: LocalConfig | None = None, max_windows: int = 64, key: bytes | None = None,
                 dp: DPConfig | None = None) -> None:
        self.store, self.name, self.spec, self.ns = store, name, spec, ns
        self.key, self.dp = key, dp
        self.history = CellHistory(spec, step_ms)
        self.step_ms, self.max_windows = step_ms, max_windows
        self.model = spec.model()
        self.trainer = LocalTrainer(spec.model(), local or LocalConfig(max_steps=10, lr=3e-3))
        self.twin: GlobalTwin | None = None
        self.policy_digest = ""
        self.archive: KpiHistory | None = None
        self.archive_digest = ""
        self.lock = threading.Lock()
        self.rounds = 0
        self.seeded_cells = 0

    def load(self) -> None:
        """Resume history, policy digest and twin from SDL."""
        state = self.store.get_json(self.ns, f"history:{self.name}")
        if state:
            self.history.restore(state)
        meta = self.store.get_json(self.ns, f"policy:{self.name}")
        blob = self.store.get(self.ns, f"twin:{self.name}")
        if meta and blob is not None:
            self.policy_digest = str(meta["model_digest"])
            self.twin = decode(blob, GlobalTwin, layout(self.model))

    def _set_twin(self, twin: GlobalTwin) -> None:
        self.twin = twin
        self.store.set(self.ns, f"twin:{self.name}", encode(twin))

    def apply_policy(self, body: Mapping[str, Any], fetch: Fetch) -> None:
        """Load the policy's base model when its digest is new (bytes verified by ``fetch``, layout checked)."""
        body = validate_twin_policy(body)
        self._load_archive(body, fetch)
        with self.lock:
            if body["model_digest"] == self.policy_digest and self.twin is not None:
                return
        data = fetch(body["model_digest"], body.get("model_url"))
        if sha256_hex(data) != body["model_digest"]:
            raise ModelIntegrityError("model bytes do not match the policy digest")
        twin = decode(data, GlobalTwin, layout(self.model))
        with self.lock:
            self.policy_digest = body["model_digest"]
            self.store.set_json(self.ns, f"policy:{self.name}", body)
            if self.twin is None or twin.model.version >= self.twin.model.version:
                self._set_twin(twin)

    def _load_archive(self, body: Mapping[str, Any], fetch: Fetch) -> None:
        """Fetch the policy's KPI history snapshot when it names a new one (a failure is logged, not fatal:
        the worker then starts its cells cold)."""
        digest = str(body.get("history_digest", ""))
        if not digest or digest == self.archive_digest:
            return
        try:
            archive = KpiHistory.from_bytes(fetch(digest, body.get("model_url")))
        except DntError as err:
            log.warning("KPI history %s not loaded (%s): new cells start without history", digest[:12], err)
            return
        if archive.step_ms != self.step_ms:
            log.warning("KPI history %s has %d ms steps, this worker %d ms: not used", digest[:12],
                        archive.step_ms, self.step_ms)
            return
        with self.lock:
            self.archive, self.archive_digest = archive, digest
            for cell in self.history.cells():
                self._seed(cell)
        log.info("KPI history %s: %d cells up to step %d", digest[:12], len(archive.cells), archive.end_step)

    def _seed(self, cell: int, before: int | None = None) -> None:
        """Seed ``cell``'s past from the archive (caller holds the lock)."""
        seed = None if self.archive is None else self.archive.series(cell)
        if seed is not None and self.history.seed(cell, seed[0], seed[1], before=before):
            self.seeded_cells += 1

    def on_global(self, payload: bytes) -> bool:
        """Take a broadcast GlobalTwin when it is newer (and intact, same layout); True when taken."""
        twin = decode(payload, GlobalTwin, layout(self.model))
        with self.lock:
            if not self.policy_digest or (self.twin is not None and twin.model.version <= self.twin.model.version):
                return False
            self._set_twin(twin)
            return True

    def on_record(self, record: Mapping[str, Any]) -> bool:
        """Add a KPI record's eMBB offered load; True when it closed a step."""
        value = record.get("slices", {}).get(EMBB_LOAD[0], {}).get(EMBB_LOAD[1])
        if value is None or record.get("time_ms") is None:
            return False
        cell, time_ms = int(record["cell"]), int(record["time_ms"])
        with self.lock:
            if not self.history.has(cell):
                self._seed(cell, time_ms // self.step_ms)
            return self.history.add(cell, time_ms, float(value))

    def local_update(self, seed: int = 0) -> TwinUpdate | None:
        """A local update of the current twin on every cell's recent windows (None when nothing to train)."""
        with self.lock:
            if self.twin is None:
                return None
            cells = sorted(self.history.steps)
            split = self.history.split(cells, self.max_windows)
            twin = self.twin
            self.store.set_json(self.ns, f"history:{self.name}", self.history.state())
        if len(split) == 0:
            return None
        self.rounds += 1
        res = self.trainer.train(twin.model.vector, split, client_id=self.name, base_version=twin.model.version,
                                 seed=seed + self.rounds)
        update = res.update
        if self.dp is not None:  # local DP: clip + Gaussian noise before the update leaves the worker
            rng = np.random.default_rng([seed, self.rounds])
            update = dataclasses.replace(update, delta=self.dp.apply(update.delta, rng))
        msg = TwinUpdate(update, twin.layout, int(time.time() * 1000))
        return msg if self.key is None else sign_update(msg, self.key)

    def forecasts(self) -> list[Forecast]:
        """Forecast every cell with the current twin and write them to SDL (``forecast:<cell>``, JSON)."""
        out: list[Forecast] = []
        with self.lock:
            if self.twin is None:
                return out
            vec, version = np.asarray(self.twin.model.vector), self.twin.model.version
            for cell in sorted(self.history.steps):
                f = forecast(self.model, vec, self.history, cell)
                if f is None:
                    continue
                values, step = f
                fc = Forecast(cell, step * self.step_ms, self.step_ms, tuple(values), version)
                self.store.set(self.ns, f"forecast:{cell}", json.dumps(dataclasses.asdict(fc)).encode())
                out.append(fc)
        return out
