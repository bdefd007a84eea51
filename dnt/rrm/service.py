"""The rrm xApp's logic, runtime-free: KPI records + twin forecasts → per-cell slice PRB quotas → RC controls.

:class:`RrmService` is fed by the xApp's handlers and work loop (``xapps/rrm/app.py``):

* :meth:`RrmService.on_record` — the latest KPI record of each cell (:mod:`dnt.ran.kpi`);
* :meth:`RrmService.apply_policy` — a ``dnt-rrm`` A1 policy (:mod:`dnt.rrm.a1`): safety thresholds, decision
  period, and optionally a policy model, loaded only when its bytes hash to the policy's digest and its
  feature names are the ones :mod:`dnt.rrm.features` computes (otherwise the policy is refused and the
  previous one stays);
* :meth:`RrmService.decide` — every decision period: node features + cell graph of the cells reported by
  connected nodes → the policy model's shares, or, without a model (or when it fails), shares proportional
  to the twin's eMBB forecast and the current load of the other slices (to the current load of every slice
  for a cell without forecast) → quotas within the safety thresholds (:func:`dnt.rrm.quota.quota_ratios`) →
  one E2SM-RC slice PRB quota RIC CONTROL REQUEST per cell whose quotas changed, failed, timed out, or is due
  for a refresh;
* :meth:`RrmService.on_outcome` — RIC CONTROL ACKNOWLEDGE / FAILURE; a failure, a send error or no answer
  within ``control_timeout_s`` is counted, logged and retried at the next decision; nothing raises out.

SDL (namespace ``rrm``): ``state:<name>`` (policy, acknowledged quotas, request sequence), ``model:<digest>``
(the verified model bytes, so a restart needs no registry), ``decision:<cell>`` (the cell's last decision:
controller, shares, quotas, status), ``status:<name>`` (controller in use, model). :meth:`RrmService.load`
resumes all of it. Counters (``rrm/...``) go to ``count`` (the runtime's) and :attr:`RrmService.counters`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from dnt.e2 import e2ap
from dnt.e2.e2ap_ies import PlmnId
from dnt.e2.e2ap_types import RICcontrolAcknowledge, RICcontrolFailure
from dnt.errors import ConfigError, DecodeError, DntError, EncodeError, PolicyError
from dnt.ran.slices import SLICE_NAMES
from dnt.ric.sdl import Store
from dnt.rrm import features as F
from dnt.rrm.a1 import validate_rrm_policy
from dnt.rrm.quota import Ratios, changed, control_request, proportional_shares, quota_ratios, user_fraction

__all__ = ["RrmServiceConfig", "Control", "PolicyModel", "RrmService", "load_policy_model", "check_features",
           "DEFAULT_POLICY"]

log = logging.getLogger(__name__)

DEFAULT_POLICY: dict[str, Any] = {
    "decision_period_s": 10.0, "enforce": True,
    "safety": {"sla_floor_prb_ratio": {"embb": 30, "voice": 15, "messaging": 5}, "max_cell_load": 0.9},
}
"""What the rrm applies until a ``dnt-rrm`` A1 policy arrives (the xApp's config may replace it)."""


class PolicyModel(Protocol):
    """What the rrm needs of a loaded policy (``dnt.rl.policy.RrmPolicy``)."""

    def decide(self, nodes: np.ndarray, adj: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(C, F), (C, C) → shares (C, 3), sync_mode (C,), sync_share (C,)."""
        ...


Fetch = Callable[[str, str | None], bytes]
"""``fetch(digest, model_url) -> bytes`` (:func:`dnt.twin.registry.fetch_model` checks the digest)."""
Loader = Callable[[bytes], PolicyModel]


@dataclass(frozen=True)
class RrmServiceConfig:
    """Settings of :class:`RrmService` (``xapps/rrm/config.yaml`` documents each)."""

    name: str = "rrm"
    namespace: str = "rrm"
    forecast_namespace: str = "htwin"
    forecast_steps: int = 1
    kbps_per_prb: float = F.DEFAULT_KBPS_PER_PRB
    max_headroom_prb_ratio: int = 100
    min_change_prb_ratio: int = 2
    refresh_periods: int = 30
    control_timeout_s: float = 5.0
    stale_after_s: float = 30.0
    requestor_id: int = 1101
    prb_mode: str = "min"

    def __post_init__(self) -> None:
        if self.forecast_steps < 1 or self.kbps_per_prb <= 0 or self.control_timeout_s <= 0:
            raise ConfigError("rrm: forecast_steps >= 1, kbps_per_prb > 0 and control_timeout_s > 0")
        if not 0 <= self.max_headroom_prb_ratio <= 100 or self.min_change_prb_ratio < 0 or self.refresh_periods < 0:
            raise ConfigError("rrm: max_headroom_prb_ratio in 0..100, min_change_prb_ratio and refresh_periods >= 0")
        if self.prb_mode not in ("min", "dedicated"):
            raise ConfigError(f"rrm: prb_mode must be 'min' or 'dedicated', got {self.prb_mode!r}")
        if not 0 <= self.requestor_id <= 0xFFFF:
            raise ConfigError(f"rrm: requestor_id must be in 0..65535, got {self.requestor_id}")


@dataclass(frozen=True)
class Control:
    """One RIC CONTROL REQUEST to send: E2AP ``payload`` to node ``meid`` for ``cell``."""

    meid: str
    cell: int
    instance_id: int
    payload: bytes
    ratios: Ratios


@dataclass
class _Pending:
    cell: int
    ratios: Ratios
    sent_s: float


def load_policy_model(data: bytes) -> PolicyModel:
    """``dnt.rl.policy.RrmPolicy.from_bytes(data)`` (imported lazily); :class:`PolicyError` when it fails."""
    try:
        from dnt.rl.policy import RrmPolicy  # the RL package is optional for the xApp
    except ImportError as err:
        raise PolicyError(f"cannot run an RRM policy model: dnt.rl.policy is not available ({err})") from err
    try:  # from_bytes checks the bundle's own hash and refuses a policy trained on other node features
        return RrmPolicy.from_bytes(data, features=F.FEATURES, source="dnt-rrm model")  # type: ignore[no-any-return]
    except (DntError, ValueError, KeyError, TypeError, RuntimeError) as err:
        raise PolicyError(f"RRM policy bundle refused: {err}") from err


def check_features(model: Any) -> None:
    """Refuse (:class:`PolicyError`) a model whose node feature names are not :data:`dnt.rrm.features.FEATURES`."""
    names = next((getattr(model, a) for a in ("features", "feature_names") if getattr(model, a, None) is not None),
                 None)
    if names is None:
        width = getattr(model, "in_features", None)
        if width is not None and int(width) != len(F.FEATURES):
            raise PolicyError(f"the RRM policy takes {width} node features, the rrm computes {len(F.FEATURES)}")
        return
    if tuple(names) != F.FEATURES:
        missing = [n for n in F.FEATURES if n not in names]
        extra = [n for n in names if n not in F.FEATURES]
        raise PolicyError(f"the RRM policy was trained on other node features: it expects {list(names)}, the rrm "
                          f"computes {list(F.FEATURES)} (missing here: {extra}, unused: {missing})")


class RrmService:
    """Per-cell slice PRB quota decisions for the cells of the rrm's E2 nodes (see the module docstring).

    Parameters
    ----------
    store : Store
        SDL (the runtime's store; :class:`dnt.ric.sdl.MemoryStore` in unit tests).
    cfg : RrmServiceConfig
    default_policy : mapping, optional
        A ``dnt-rrm`` body in force until an A1 policy arrives (default :data:`DEFAULT_POLICY`).
    count : callable, optional
        ``count(key, n)``: the runtime's counters (also kept in :attr:`counters`).
    loader : callable, optional
        Model bytes → policy model (default :func:`load_policy_model`).
    clock : callable, optional
        Monotonic seconds (timeouts).
    """

    def __init__(self, store: Store, cfg: RrmServiceConfig | None = None,
                 default_policy: Mapping[str, Any] | None = None, *,
                 count: Callable[[str, int], None] | None = None, loader: Loader | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store, self.cfg = store, cfg or RrmServiceConfig()
        self.default_policy = validate_rrm_policy(default_policy or DEFAULT_POLICY)
        self.policy: dict[str, Any] = dict(self.default_policy)
        self.policy_instance: str | None = None
        self.model: PolicyModel | None = None
        self.counters: Counter[str] = Counter()
        self._count, self._loader, self._clock = count, loader or load_policy_model, clock
        self._lock = threading.RLock()
        self._records: dict[int, dict[str, Any]] = {}
        self._nodes: dict[str, tuple[PlmnId, int]] = {}
        self._acked: dict[int, Ratios] = {}
        self._pending: dict[tuple[str, int], _Pending] = {}
        self._retry: set[int] = set()
        self._memory: dict[int, F.CellMemory] = {}
        self._seq, self._periods = 0, 0
        self.controller = "none"

    # --- bookkeeping -----------------------------------------------------------------------------------
    def count(self, key: str, n: int = 1) -> None:
        self.counters[key] += n
        if self._count is not None:
            self._count(key, n)

    @property
    def ns(self) -> str:
        return self.cfg.namespace

    @property
    def decision_period_s(self) -> float:
        return float(self.policy["decision_period_s"])

    @property
    def acked(self) -> dict[int, Ratios]:
        """The quotas each cell's node acknowledged last."""
        with self._lock:
            return dict(self._acked)

    @property
    def model_digest(self) -> str | None:
        return self.policy.get("model_digest") if self.model is not None else None

    def add_node(self, ran_name: str, plmn: PlmnId, rc_ran_function_id: int) -> None:
        """Control the cells of node ``ran_name`` (its PLMN and E2SM-RC RAN function id from E2 setup)."""
        with self._lock:
            self._nodes[ran_name] = (plmn, int(rc_ran_function_id))

    def on_record(self, record: Mapping[str, Any]) -> None:
        """Keep ``record`` as the latest KPI record of its cell."""
        with self._lock:
            self._records[int(record["cell"])] = dict(record)

    # --- policy ----------------------------------------------------------------------------------------
    def apply_policy(self, body: Mapping[str, Any], fetch: Fetch | None = None, instance: str | None = None) -> None:
        """Apply a ``dnt-rrm`` body; load its model (fetched when not in SDL) only when the digest matches.

        Raises
        ------
        PolicyError
            Invalid body, model unavailable, bytes not matching the digest, or a model computed on other
            features. The previous policy and model stay in force.
        """
        body = validate_rrm_policy(body)
        digest = body.get("model_digest")
        model = None
        if digest is not None:
            if digest == self.model_digest:
                model = self.model
            else:
                data = self.store.get(self.ns, f"model:{digest}")
                if data is None:
                    if fetch is None:
                        raise PolicyError(f"RRM policy model {digest[:12]} is not in SDL and nothing can fetch it")
                    try:
                        data = fetch(digest, body.get("model_url"))
                    except DntError as err:  # registry down, corrupt bytes
                        raise PolicyError(f"cannot fetch RRM policy model {digest[:12]}: {err}") from err
                if hashlib.sha256(data).hexdigest() != digest:
                    raise PolicyError(f"RRM policy model bytes do not hash to the policy's digest {digest[:12]}")
                model = self._loader(data)
                check_features(model)
                self.store.set(self.ns, f"model:{digest}", data)
        with self._lock:
            self.policy, self.model, self.policy_instance = body, model, instance
            self._save()
        self.count("rrm/policy/applied")
        log.info("dnt-rrm policy %s applied: %s, period %.1f s, floors %s, max cell load %s", instance,
                 f"model v{body['model_version']} {digest[:12]}" if model is not None else "heuristic",
                 self.decision_period_s, body["safety"]["sla_floor_prb_ratio"], body["safety"]["max_cell_load"])

    def delete_policy(self) -> None:
        """The A1 instance was deleted: back to the default policy and the heuristic."""
        with self._lock:
            self.policy, self.model, self.policy_instance = dict(self.default_policy), None, None
            self._save()
        log.info("dnt-rrm policy deleted: default policy, heuristic decisions")

    # --- decisions -------------------------------------------------------------------------------------
    def _observations(self, connected: Iterable[str] | None) -> list[F.CellObservation]:
        now_ms = time.time() * 1000
        nodes = set(self._nodes) if connected is None else set(self._nodes) & set(connected)
        cells = []
        for cell, rec in sorted(self._records.items()):
            fresh = now_ms - float(rec.get("updated_ms") or now_ms) <= self.cfg.stale_after_s * 1000
            if rec.get("ran_name") in nodes and fresh:
                cells.append(cell)
        forecasts = F.read_forecasts(self.store, cells, self.cfg.forecast_namespace)
        return [F.observation(self._records[c], forecasts.get(c), self.cfg.forecast_steps) for c in cells]

    def _shares(self, obs: list[F.CellObservation], nodes: np.ndarray
                ) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
        """(C, 3) shares, the controller of each cell, sync mode (C,) and sync share (C,)."""
        c = len(obs)
        if self.model is not None:
            try:
                shares, sync_mode, sync_share = self.model.decide(nodes, F.adjacency([o.cell for o in obs]))
                shares = np.asarray(shares, dtype=np.float64)
                mode = np.broadcast_to(np.asarray(sync_mode, dtype=np.float64), (c,))
                share = np.broadcast_to(np.asarray(sync_share, dtype=np.float64), (c,))
                if shares.shape != (c, len(SLICE_NAMES)) or not np.isfinite(shares).all():
                    raise ValueError(f"shares of shape {shares.shape}, finite: {bool(np.isfinite(shares).all())}")
                return shares, ["policy"] * c, mode, share
            except Exception as err:  # a broken model must not stop the decisions: heuristic this period
                self.count("rrm/policy/errors")
                log.warning("RRM policy model failed (%s: %s); heuristic decisions this period",
                            type(err).__name__, err)
        predicted = np.stack([F.predicted_kbps(o) for o in obs])
        kinds = ["forecast" if o.forecast_kbps is not None else "load" for o in obs]
        return proportional_shares(predicted), kinds, np.zeros(c), np.zeros(c)

    def _expire(self, now: float) -> None:
        for key, p in list(self._pending.items()):
            if now - p.sent_s > self.cfg.control_timeout_s:
                del self._pending[key]
                self._retry.add(p.cell)
                self.count("rrm/controls/timeout")
                self._status(p.cell, "timeout")
                log.warning("no answer to the control of cell %d on %s within %.1f s: retrying next period",
                            p.cell, key[0], self.cfg.control_timeout_s)

    def decide(self, connected: Iterable[str] | None = None) -> list[Control]:
        """One decision over the cells of the ``connected`` nodes (None: every known node); controls to send."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            obs = self._observations(connected)
            self._periods += 1
            self.count("rrm/periods")
            if not obs:
                return []
            nodes = F.node_features(obs, self._memory, self.cfg.kbps_per_prb)
            shares, kinds, sync_mode, sync_share = self._shares(obs, nodes)
            controller = "policy" if kinds[0] == "policy" else "heuristic"
            if controller != self.controller:
                log.info("controller now: %s (%d cells, %d with a twin forecast)", controller, len(obs),
                         sum(o.forecast_kbps is not None for o in obs))
                self.controller = controller
            self.count(f"rrm/controller/{controller}")
            safety = self.policy["safety"]
            floors = [int(safety["sla_floor_prb_ratio"][s]) for s in SLICE_NAMES]
            enforce = bool(self.policy.get("enforce", True))
            refresh = self.cfg.refresh_periods > 0 and self._periods % self.cfg.refresh_periods == 0
            busy = {p.cell for p in self._pending.values()}
            controls: list[Control] = []
            decisions: dict[str, Any] = {}
            for i, o in enumerate(obs):
                ratios = quota_ratios(shares[i], floors, float(safety["max_cell_load"]),
                                      self.cfg.max_headroom_prb_ratio, self.cfg.prb_mode,
                                      user_fraction(sync_mode[i], sync_share[i]) if kinds[i] == "policy" else 1.0)
                guaranteed = np.asarray([max(r[0], r[2]) for r in ratios], dtype=np.float64)
                self._memory[o.cell] = F.update_memory(self._memory.get(o.cell) or F.CellMemory(), o,
                                                       guaranteed / max(guaranteed.sum(), 1.0),
                                                       float(sync_mode[i]), float(sync_share[i]))
                self.count(f"rrm/decisions/{kinds[i]}")
                due = o.cell in self._retry or refresh or changed(self._acked.get(o.cell), ratios,
                                                                   self.cfg.min_change_prb_ratio)
                status = "kept"
                if not enforce:
                    status = "dry_run"
                elif o.cell in busy:
                    status = "awaiting_answer"
                elif due:
                    control = self._control(o, ratios, now)
                    if control is not None:
                        controls.append(control)
                        status = "sent"
                decisions[f"decision:{o.cell}"] = self._decision(o, kinds[i], shares[i], ratios, status,
                                                                 float(sync_mode[i]), float(sync_share[i]))
            self.store.set_many(self.ns, {k: _json(v) for k, v in decisions.items()})
            self._save()
            return controls

    def _control(self, o: F.CellObservation, ratios: Ratios, now: float) -> Control | None:
        node = self._nodes.get(o.ran_name)
        if node is None:
            return None
        self._seq = self._seq % 0xFFFF + 1
        try:
            payload = control_request(node[0], o.cell, ratios, requestor_id=self.cfg.requestor_id,
                                      instance_id=self._seq, ran_function_id=node[1])
        except EncodeError as err:
            self.count("rrm/controls/encode_failed")
            log.error("cannot encode the control of cell %d: %s", o.cell, err)
            return None
        self._pending[(o.ran_name, self._seq)] = _Pending(o.cell, ratios, now)
        self._retry.discard(o.cell)
        self.count("rrm/controls/sent")
        return Control(o.ran_name, o.cell, self._seq, payload, ratios)

    def _decision(self, o: F.CellObservation, kind: str, shares: np.ndarray, ratios: Ratios, status: str,
                  sync_mode: float, sync_share: float) -> dict[str, Any]:
        return {"cell": o.cell, "ran_name": o.ran_name, "time_ms": int(time.time() * 1000), "controller": kind,
                "model_digest": self.model_digest, "shares": [round(float(x), 4) for x in shares],
                "quotas": {s: {"min_prb_ratio": r[0], "max_prb_ratio": r[1], "dedicated_prb_ratio": r[2]}
                           for s, r in zip(SLICE_NAMES, ratios, strict=True)},
                "forecast_kbps": o.forecast_kbps, "offered_kbps": list(o.offered_kbps),
                "served_kbps": list(o.served_kbps), "sync_mode": sync_mode, "sync_share": sync_share,
                "twin_sigma": self._memory[o.cell].twin_sigma if o.cell in self._memory else None,
                "status": status}

    def _status(self, cell: int, status: str, **more: Any) -> None:
        d = self.store.get_json(self.ns, f"decision:{cell}")
        if isinstance(d, dict):
            self.store.set_json(self.ns, f"decision:{cell}", {**d, "status": status, **more})

    # --- outcomes --------------------------------------------------------------------------------------
    def sent_failed(self, control: Control, why: str) -> None:
        """``control`` could not be sent (no route, node gone): count it and retry next period."""
        with self._lock:
            self._pending.pop((control.meid, control.instance_id), None)
            self._retry.add(control.cell)
            self.count("rrm/controls/send_failed")
            self._status(control.cell, "send_failed", reason=why)
        log.warning("control of cell %d to %s not sent (%s): retrying next period", control.cell, control.meid, why)

    def on_outcome(self, payload: bytes, meid: str | None) -> str | None:
        """Take a RIC CONTROL ACKNOWLEDGE or FAILURE; returns "acked", "failed" or None (not one of ours).

        Raises
        ------
        DecodeError
            Undecodable E2AP bytes.
        """
        msg = e2ap.decode(payload)
        if not isinstance(msg, RICcontrolAcknowledge | RICcontrolFailure):
            raise DecodeError(f"expected a RIC control acknowledge or failure, got {type(msg).__name__}")
        if msg.request_id.requestor_id != self.cfg.requestor_id:
            return None
        with self._lock:
            p = self._pending.pop((meid or "", msg.request_id.instance_id), None)
            if p is None:
                self.count("rrm/controls/late")
                return None
            if isinstance(msg, RICcontrolAcknowledge):
                self._acked[p.cell] = p.ratios
                self.count("rrm/controls/acked")
                self._status(p.cell, "acked")
                self._save()
                return "acked"
            self._retry.add(p.cell)
            self.count("rrm/controls/failed")
            cause = f"{msg.cause.group}/{msg.cause.value}"
            self._status(p.cell, "failed", reason=cause)
        log.warning("control of cell %d refused by %s (%s): retrying next period", p.cell, meid, cause)
        return "failed"

    # --- persistence -----------------------------------------------------------------------------------
    def _save(self) -> None:
        state = {"policy": self.policy, "policy_instance": self.policy_instance, "seq": self._seq,
                 "periods": self._periods, "acked": {str(c): [list(r) for r in v] for c, v in self._acked.items()},
                 "memory": {str(c): m.to_json() for c, m in self._memory.items()}}
        status = {"controller": self.controller, "model_digest": self.model_digest,
                  "model_version": self.policy.get("model_version") if self.model is not None else None,
                  "policy_instance": self.policy_instance, "decision_period_s": self.decision_period_s,
                  "cells": len(self._records), "updated_ms": int(time.time() * 1000)}
        self.store.set_many(self.ns, {f"state:{self.cfg.name}": _json(state), f"status:{self.cfg.name}": _json(status)})

    def load(self) -> bool:
        """Resume policy, model, acknowledged quotas and sequence from SDL; True when there was a state.

        A saved model that no longer loads (or a policy no longer valid) is dropped with a warning: the
        default policy and the heuristic take over until the A1 mediator re-sends the policy.
        """
        state = self.store.get_json(self.ns, f"state:{self.cfg.name}")
        if not isinstance(state, dict):
            return False
        with self._lock:
            self._seq, self._periods = int(state.get("seq", 0)), int(state.get("periods", 0))
            self._acked = {int(c): tuple(tuple(int(x) for x in r) for r in v)  # type: ignore[misc]
                           for c, v in (state.get("acked") or {}).items()}
            self._memory = {int(c): F.CellMemory.from_json(m) for c, m in (state.get("memory") or {}).items()}
        try:
            self.apply_policy(state.get("policy") or self.default_policy, None, state.get("policy_instance"))
        except PolicyError as err:
            log.warning("saved dnt-rrm policy not resumed (%s): default policy until A1 re-sends it", err)
        return True


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()
