"""Asynchronous servers: staleness bound, staleness weighting, buffering, FedAsync mixing, clusters."""

import numpy as np
import pytest
from fl_helpers import upd

from dnt.errors import ConfigError
from dnt.fl.asyn import AsyncConfig, ClusteredAsync, FedAsync, FedBuff, make_server
from dnt.fl.rules import Mean, Median
from dnt.fl.types import GlobalModel


def test_fedbuff_aggregates_every_k_updates():
    srv = FedBuff(np.zeros(2, np.float32), Mean(weighted=False), AsyncConfig(buffer_size=2, staleness_exponent=0))
    r1 = srv.submit(upd("a", [1.0, 0.0]))
    assert (r1.reason, srv.version, srv.model.vector.tolist()) == ("buffered", 0, [0.0, 0.0])
    r2 = srv.submit(upd("b", [3.0, 2.0]))
    assert r2.reason == "applied" and r2.aggregated is not None
    assert srv.version == 1 and srv.model.vector.tolist() == [2.0, 1.0]


def test_staleness_bound_drops_old_updates():
    srv = FedBuff(GlobalModel(10, np.zeros(1)), cfg=AsyncConfig(buffer_size=1, max_staleness=3))
    assert srv.submit(upd("old", [5.0], base=6)).reason == "stale"  # 4 versions late
    assert srv.version == 10 and srv.stats.dropped_stale == 1
    ok = srv.submit(upd("ok", [5.0], base=7))  # 3 late: the bound is inclusive
    assert ok.accepted and ok.staleness == 3 and srv.version == 11
    assert srv.submit(upd("future", [1.0], base=99)).reason == "future"
    assert srv.stats.staleness == [3] and srv.stats.dropped_invalid == 1


def test_staleness_weighting_hand_computed():
    # FedBuff, K=2, unweighted mean, s(tau) = 1/sqrt(1+tau): fresh 1.0 and 3-stale 1.0 -> (1 + 0.5) / 2
    srv = FedBuff(GlobalModel(3, np.zeros(1)), Mean(weighted=False),
                  AsyncConfig(buffer_size=2, staleness_exponent=0.5))
    srv.submit(upd("fresh", [1.0], base=3))
    srv.submit(upd("stale", [1.0], base=0))
    assert srv.model.vector[0] == pytest.approx(0.75)


def test_fedbuff_rule_is_pluggable_and_server_lr_scales():
    srv = FedBuff(np.zeros(1), Median(), AsyncConfig(buffer_size=3, staleness_exponent=0, server_lr=0.5))
    for cid, v in (("a", 1.0), ("b", 2.0), ("c", 100.0)):
        srv.submit(upd(cid, [v]))
    assert srv.model.vector[0] == pytest.approx(1.0)  # 0.5 * median


def test_invalid_updates_are_dropped_and_failed_flush_keeps_model():
    srv = FedBuff(np.zeros(2), cfg=AsyncConfig(buffer_size=1))
    assert srv.submit(upd("nan", [np.nan, 0.0])).reason == "invalid"
    assert srv.submit(upd("short", [1.0])).reason == "invalid"
    assert srv.version == 0 and srv.flush() is None


def test_fedasync_mixes_with_the_clients_model():
    # w0 = 0; client from v0 sends delta 2 -> w1 = (1 - a) * 0 + a * 2 with a = 0.5
    srv = FedAsync(np.zeros(1), AsyncConfig(mode="fedasync", alpha=0.5, staleness_exponent=0.5))
    srv.submit(upd("a", [2.0], base=0))
    assert srv.model.vector[0] == pytest.approx(1.0) and srv.version == 1
    # a 1-stale update from v0: client model 0 + 4 = 4, a = 0.5 / sqrt(2)
    res = srv.submit(upd("b", [4.0], base=0))
    a = 0.5 / np.sqrt(2)
    assert res.staleness == 1 and srv.model.vector[0] == pytest.approx((1 - a) * 1.0 + a * 4.0, rel=1e-6)


def test_fedasync_forgets_versions_beyond_the_bound():
    srv = FedAsync(np.zeros(1), AsyncConfig(mode="fedasync", max_staleness=1))
    for i in range(3):
        srv.submit(upd(f"c{i}", [1.0], base=srv.version))
    assert sorted(srv.versions) == [2, 3]
    assert srv.submit(upd("old", [1.0], base=1)).reason == "stale"
    assert srv.stats.accepted == 3 and srv.stats.dropped_stale == 1 and srv.stats.staleness == [0, 0, 0]


def test_make_server_and_config_errors():
    assert isinstance(make_server(np.zeros(1)), FedBuff)
    assert isinstance(make_server(np.zeros(1), AsyncConfig(mode="fedasync")), FedAsync)
    with pytest.raises(ConfigError, match="mode"):
        AsyncConfig(mode="sync")
    with pytest.raises(ConfigError, match="buffer_size"):
        AsyncConfig(buffer_size=0)


def test_clustered_routes_and_keeps_weighted_global():
    cfg = AsyncConfig(buffer_size=1, staleness_exponent=0)
    servers = {0: FedBuff(GlobalModel(0, np.zeros(1), 0), cfg=cfg), 1: FedBuff(GlobalModel(0, np.ones(1), 1), cfg=cfg)}
    ca = ClusteredAsync(servers, {0: 3.0, 1: 1.0})
    assert ca.global_model.vector[0] == pytest.approx(0.25)
    ca.submit(upd("x", [4.0], cluster=0))
    assert ca.serve(0).vector[0] == pytest.approx(4.0) and ca.serve(1).vector[0] == pytest.approx(1.0)
    assert ca.global_model.vector[0] == pytest.approx(3.25) and ca.global_model.version == 1
    assert ca.submit(upd("lost", [1.0])).reason == "invalid"
    assert ca.serve(None) is ca.global_model
