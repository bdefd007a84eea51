"""The H-twin services behind the aggregator and htwin xApps, runtime-free (a Store in, messages out).

:class:`TwinAggregator` holds the FedBuff server of the ``dnt-twin`` A1 policy: a policy naming a new model
digest loads that model (fetched and verified by the caller), builds the server with the policy's rule,
and every accepted update is written to SDL before it is acknowledged, so a restart (:meth:`load`) resumes
the same version with the same buffer. Each new version is kept in SDL (``model:<version>``, ``latest``).

:class:`TwinWorker` is one htwin replica: per-cell histories of the eMBB offered load, local updates on the
current twin, forecasts. It takes a base model only when it hashes to the policy's digest, and after that
only newer versions of the same layout (each checked against its own SHA-256 on decode).
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

from dnt.errors import ModelIntegrityError, PolicyError
from dnt.fl.asyn import AsyncConfig, FedBuff, SubmitResult
from dnt.fl.local import LocalConfig, LocalTrainer
from dnt.fl.messages import Forecast, GlobalTwin, TwinUpdate, decode, encode
from dnt.fl.rules import RULES
from dnt.fl.types import GlobalModel, layout
from dnt.ric.sdl import Store
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
    """The aggregator's state (see the module docstring). Not thread-safe: call from the dispatch thread."""

    def __init__(self, store: Store, ns: str = "aggregator") -> None:
        self.store, self.ns = store, ns
        self.server: FedBuff | None = None
        self.lay: Any = None
        self.rule = ""
        self.base_digest = ""

    def load(self) -> GlobalTwin | None:
        """Resume from SDL; the current twin, or None when there is no state yet."""
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
        if self.server is None:
            return
        self.store.set(self.ns, "state", server_to_bytes(self.server, self.lay, self.rule))
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
        try:
            rule = RULES[body["aggregation_rule"]](**body.get("rule_params", {}))
        except TypeError as err:
            raise PolicyError(f"rule_params do not fit rule {body['aggregation_rule']}: {err}") from err
        cfg = AsyncConfig(buffer_size=int(body.get("buffer_size", 4)), max_staleness=int(body.get("max_staleness", 20)))
        if self.server is not None and body["model_digest"] == self.base_digest:
            self.server.rule, self.server.cfg, self.rule = rule, cfg, body["aggregation_rule"]
            self._save(False)
            return None
        twin = decode(fetch(body["model_digest"], body.get("model_url")), GlobalTwin)
        version = max(int(body["model_version"]), 0 if self.server is None else self.server.version + 1)
        self.server = FedBuff(GlobalModel(version, twin.model.vector, twin.model.cluster), rule, cfg)
        self.lay, self.rule, self.base_digest = twin.layout, body["aggregation_rule"], body["model_digest"]
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
        """
        if self.server is None:
            raise PolicyError("no twin loaded yet (waiting for a dnt-twin A1 policy)")
        msg = decode(payload, TwinUpdate, self.lay)
        res = self.server.submit(dataclasses.replace(msg.update, staleness=None))
        if res.accepted:
            self._save(res.reason == "applied")
        return res, (self.current() if res.reason == "applied" else None)


class TwinWorker:
    """One htwin replica's state (thread-safe: reports, training and models may come from different threads)."""

    def __init__(self, store: Store, name: str, spec: TwinSpec, *, ns: str = "htwin", step_ms: int = 600_000,
                 local: LocalConfig | None = None, max_windows: int = 64) -> None:
        self.store, self.name, self.spec, self.ns = store, name, spec, ns
        self.history = CellHistory(spec, step_ms)
        self.step_ms, self.max_windows = step_ms, max_windows
        self.model = spec.model()
        self.trainer = LocalTrainer(spec.model(), local or LocalConfig(max_steps=10, lr=3e-3))
        self.twin: GlobalTwin | None = None
        self.policy_digest = ""
        self.lock = threading.Lock()
        self.rounds = 0

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
        with self.lock:
            return self.history.add(int(record["cell"]), int(record["time_ms"]), float(value))

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
        return TwinUpdate(res.update, twin.layout, int(time.time() * 1000))

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
