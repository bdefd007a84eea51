"""The aggregator's security screen: signed updates, replays (also across a restart), quarantine, A1 settings."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from dnt.deploy.derive import load_app
from dnt.e2.mtypes import A1_POLICY_REQ, DNT_TWIN_UPDATE
from dnt.errors import ModelIntegrityError, PolicyError
from dnt.fl.auth import KeyRing, ReplayGuard, sign_update
from dnt.fl.messages import TwinUpdate, encode, global_twin_from_model
from dnt.fl.quarantine import Quarantine
from dnt.fl.rules.base import AggregationRule
from dnt.fl.types import AggContext, Aggregated, Update
from dnt.ric.memory import MemoryBus
from dnt.ric.sdl import MemoryStore
from dnt.twin.hservice import TwinAggregator
from dnt.twin.lifecycle import TwinSpec
from dnt.twin.registry import TWIN_POLICY_TYPE_ID, ModelRegistry

REPO = Path(__file__).resolve().parents[3]
SPEC = TwinSpec(horizon=2, hidden=4, closeness=3, period=1, period_steps=24)
CLIENTS = ("htwin-0", "htwin-1", "htwin-2")


@pytest.fixture
def setup():
    reg = ModelRegistry()
    digest = reg.publish(encode(global_twin_from_model(SPEC.model(), 1)), 1).digest

    def fetch(d: str, _url: str | None) -> bytes:
        data = reg.get(d)
        if data is None:
            raise ModelIntegrityError(d)
        return data
    return digest, fetch, KeyRing.generate(CLIENTS)


def _policy(digest: str, **kw: object) -> dict:
    return {"model_version": 1, "model_digest": digest, "aggregation_rule": "mean", "update_cadence_s": 1,
            "buffer_size": 2, **kw}


def _update(agg: TwinAggregator, cid: str, value: float = 0.01, base: int | None = None) -> TwinUpdate:
    server = agg.server
    assert server is not None
    delta = np.full(server.model.vector.size, value, dtype=np.float32)
    return TwinUpdate(Update(cid, delta, 10, server.version if base is None else base), agg.lay, 0)


def _signed(agg: TwinAggregator, keys: KeyRing, cid: str, value: float = 0.01) -> bytes:
    return encode(sign_update(_update(agg, cid, value), keys))


class ZeroFor(AggregationRule):
    """A test rule: the mean of every update except ``victim``'s, which gets weight 0 (trimmed)."""

    name = "zero_for"

    def __init__(self, victim: str) -> None:
        self.victim = victim

    def aggregate(self, updates: Sequence[Update], ctx: AggContext) -> Aggregated:
        w = np.array([0.0 if u.client_id == self.victim else 1.0 for u in updates])
        w = w / w.sum()
        delta = np.sum([wi * u.delta for wi, u in zip(w, updates, strict=True)], axis=0).astype(np.float32)
        return Aggregated(delta, w)


def test_auth_off_by_default_keeps_the_old_behaviour(setup) -> None:
    digest, fetch, _ = setup
    agg = TwinAggregator(MemoryStore())
    agg.apply_policy(_policy(digest), fetch)
    res, _ = agg.submit(encode(_update(agg, "anyone")))
    assert res.accepted and res.reason == "buffered" and agg.quarantine is None and not agg.require_auth


def test_unsigned_or_unknown_updates_are_rejected_before_the_server(setup, caplog) -> None:
    digest, fetch, keys = setup
    agg = TwinAggregator(MemoryStore(), keys=keys)
    agg.apply_policy(_policy(digest, buffer_size=1), fetch)  # buffer 1: any accepted update would aggregate
    before = agg.server.model.vector.copy()  # type: ignore[union-attr]
    with caplog.at_level(logging.WARNING, logger="dnt.twin.hservice"):
        res, twin = agg.submit(encode(_update(agg, "intruder")))
    assert not res.accepted and res.reason == "auth" and twin is None
    assert "unsigned" in res.detail or "unknown client" in res.detail
    assert any("intruder" in r.getMessage() and "auth" in r.getMessage() for r in caplog.records)
    res, _ = agg.submit(encode(sign_update(_update(agg, "intruder"), b"x" * 32)))
    assert res.reason == "auth" and res.detail.startswith("unknown client")
    res, _ = agg.submit(encode(_update(agg, "htwin-0")))  # a known client, unsigned
    assert res.reason == "auth" and res.detail.startswith("unsigned")
    assert agg.server.version == 1 and agg.server.stats.received == 0  # type: ignore[union-attr]
    np.testing.assert_array_equal(agg.server.model.vector, before)  # type: ignore[union-attr]


def test_signed_update_accepted_and_tampered_one_rejected(setup) -> None:
    digest, fetch, keys = setup
    agg = TwinAggregator(MemoryStore(), keys=keys)
    agg.apply_policy(_policy(digest), fetch)
    res, _ = agg.submit(_signed(agg, keys, "htwin-0"))
    assert res.accepted and res.reason == "buffered"
    msg = sign_update(_update(agg, "htwin-1"), keys)
    evil = msg.update.delta.copy()
    evil[0] = 1e3
    tampered = dataclasses.replace(msg, update=dataclasses.replace(msg.update, delta=evil))
    res, _ = agg.submit(encode(tampered))
    assert not res.accepted and res.reason == "auth" and res.detail.startswith("bad tag")
    assert len(agg.server.buffer) == 1  # type: ignore[union-attr]
    res, twin = agg.submit(_signed(agg, keys, "htwin-1"))
    assert res.reason == "applied" and twin is not None and twin.model.version == 2


def test_replay_rejected_also_after_a_restart(setup) -> None:
    digest, fetch, keys = setup
    store = MemoryStore()
    agg = TwinAggregator(store, keys=keys)
    agg.apply_policy(_policy(digest), fetch)
    blob = _signed(agg, keys, "htwin-0")
    assert agg.submit(blob)[0].accepted
    res, _ = agg.submit(blob)
    assert not res.accepted and res.reason == "replay" and res.detail.startswith("replayed nonce")
    assert len(agg.server.buffer) == 1  # type: ignore[union-attr]
    again = TwinAggregator(store, keys=keys)
    assert again.load() is not None
    res, _ = again.submit(blob)
    assert res.reason == "replay" and len(again.server.buffer) == 1  # type: ignore[union-attr]
    res, twin = again.submit(_signed(again, keys, "htwin-1"))
    assert res.reason == "applied" and twin is not None


def test_stale_nonce_is_a_replay(setup) -> None:
    digest, fetch, keys = setup
    agg = TwinAggregator(MemoryStore(), keys=keys, replay=ReplayGuard(window_ms=1000))
    agg.apply_policy(_policy(digest), fetch)
    old = encode(sign_update(_update(agg, "htwin-0"), keys, now_ms=1_000_000))
    res, _ = agg.submit(old)
    assert res.reason == "replay" and res.detail.startswith("stale nonce")


def test_repeatedly_trimmed_client_is_quarantined_and_dropped(setup, caplog) -> None:
    digest, fetch, keys = setup
    store = MemoryStore()
    agg = TwinAggregator(store, keys=keys, quarantine=Quarantine(window=4, threshold=0.75, min_observations=3))
    agg.apply_policy(_policy(digest), fetch)
    agg.server.rule = ZeroFor("htwin-2")  # type: ignore[union-attr]
    with caplog.at_level(logging.WARNING, logger="dnt.twin.hservice"):
        for _ in range(3):
            assert agg.submit(_signed(agg, keys, "htwin-2", 5.0))[0].reason == "buffered"
            res, _ = agg.submit(_signed(agg, keys, "htwin-0"))
            assert res.reason == "applied" and res.clients == ("htwin-2", "htwin-0")
            assert res.aggregated is not None and res.aggregated.weights.tolist() == [0.0, 1.0]
    assert any("htwin-2 quarantined" in r.getMessage() for r in caplog.records)
    version = agg.server.version  # type: ignore[union-attr]
    res, _ = agg.submit(_signed(agg, keys, "htwin-2", 5.0))
    assert not res.accepted and res.reason == "quarantined"
    assert res.detail == "trimmed or rejected in 3 of the last 3 aggregations"
    assert agg.server.buffer == [] and agg.server.version == version  # type: ignore[union-attr]
    assert agg.submit(_signed(agg, keys, "htwin-1"))[0].reason == "buffered"  # others go on
    assert agg.metrics()["quarantine"]["quarantined"] == 1
    # persisted: a restarted aggregator keeps the client quarantined
    again = TwinAggregator(store, keys=keys, quarantine=Quarantine(window=4, threshold=0.75, min_observations=3))
    again.load()
    assert again.submit(_signed(again, keys, "htwin-2"))[0].reason == "quarantined"


def test_policy_sets_quarantine_and_require_auth(setup) -> None:
    digest, fetch, keys = setup
    agg = TwinAggregator(MemoryStore(), keys=keys)
    assert agg.quarantine is None and agg.require_auth
    agg.apply_policy(_policy(digest, require_auth=False, quarantine={"window": 3, "threshold": 0.5}), fetch)
    assert agg.quarantine is not None and agg.quarantine.cfg.window == 3 and agg.quarantine.cfg.threshold == 0.5
    assert agg.quarantine.cfg.min_weight == 0.05 and not agg.require_auth
    res, _ = agg.submit(encode(_update(agg, "unknown-worker")))  # unsigned accepted while not required
    assert res.accepted
    bad = sign_update(_update(agg, "htwin-0"), b"y" * 32)
    assert agg.submit(encode(bad))[0].reason == "auth"  # a signed update is still verified
    agg.apply_policy(_policy(digest), fetch)  # policy silent again: back to the configured settings
    assert agg.quarantine is None and agg.require_auth
    with pytest.raises(PolicyError):
        agg.apply_policy(_policy(digest, quarantine={"window": 0}), fetch)
    with pytest.raises(PolicyError):
        agg.apply_policy(_policy(digest, quarantine={"windw": 3}), fetch)


def test_require_auth_without_keys_rejects_everything(setup) -> None:
    digest, fetch, _ = setup
    agg = TwinAggregator(MemoryStore(), require_auth=True)
    agg.apply_policy(_policy(digest), fetch)
    res, _ = agg.submit(encode(_update(agg, "htwin-0")))
    assert res.reason == "auth" and "no keys" in res.detail


# --- the xApp --------------------------------------------------------------------------------------------
def _app() -> ModuleType:
    return load_app(REPO / "xapps" / "aggregator" / "app.py")


def _policy_req(digest: str) -> bytes:
    return json.dumps({"operation": "CREATE", "policy_type_id": str(TWIN_POLICY_TYPE_ID), "policy_instance_id": "p",
                       "payload": json.dumps(_policy(digest))}).encode()


def test_app_with_a_secret_directory_counts_rejections(registry, tmp_path) -> None:
    url, digest = registry
    keys = KeyRing.generate(CLIENTS)
    secret = tmp_path / "secret"
    secret.mkdir()
    for cid in keys.clients:
        (secret / cid).write_text(keys.key(cid).hex())
    app = _app()
    bus = MemoryBus()
    rt = bus.runtime("aggregator")
    cfg = app.AggregatorConfig(registry_url=url, keys_path=str(secret))
    agg, _ = app.wire(rt, cfg)
    assert agg.require_auth and agg.quarantine is not None  # quarantine on by default with authentication
    bus.inject("aggregator", A1_POLICY_REQ, _policy_req(digest), sub_id=TWIN_POLICY_TYPE_ID, source="a1mediator")
    bus.drain()
    good = _signed(agg, keys, "htwin-0")
    for payload in (encode(_update(agg, "intruder")), good, good):
        bus.inject("aggregator", DNT_TWIN_UPDATE, payload)
    bus.drain()
    m = rt.metrics()
    assert m["fl/accepted"] == 1 and m["fl/rejected/auth"] == 1 and m["fl/rejected/replay"] == 1
    assert rt.store.get_json("aggregator", "security")["require_auth"] is True


def test_app_without_keys_warns_and_config_is_checked(registry, caplog) -> None:
    app = _app()
    with caplog.at_level(logging.WARNING):
        agg, _ = app.wire(MemoryBus().runtime("aggregator"), app.AggregatorConfig(registry_url=registry[0]))
    assert not agg.require_auth and agg.quarantine is None
    assert any("NOT authenticated" in r.getMessage() for r in caplog.records)
    with pytest.raises(app.ConfigError, match="keys_path is empty"):
        app.AggregatorConfig(require_auth=True)
    with pytest.raises(app.ConfigError, match="does not exist"):
        app.wire(MemoryBus().runtime("aggregator"), app.AggregatorConfig(keys_path="/nonexistent/keys.json"))
