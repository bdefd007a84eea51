"""Node features, the cell graph and the quota arithmetic of the rrm, on hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from dnt.e2 import e2ap, rc
from dnt.e2.e2ap_ies import PlmnId
from dnt.e2.e2ap_types import RICcontrolRequest
from dnt.ric.sdl import MemoryStore
from dnt.rrm.features import (
    DEFAULT_KBPS_PER_PRB,
    FEATURES,
    TWIN_NOISE_MAX,
    TWIN_NOISE_MIN,
    CellMemory,
    adjacency,
    grid_adjacency,
    node_features,
    observation,
    predicted_kbps,
    read_forecasts,
    update_memory,
)
from dnt.rrm.quota import (
    H_COST_FACTOR,
    MAX_SYNC_SHARE,
    V_COST_FACTOR,
    changed,
    control_request,
    proportional_shares,
    quota_ratios,
    user_fraction,
)


def record(cell: int, offered=(50_000, 1_000, 100), served=(40_000, 1_000, 100), prb=(50, 2, 1), avail=100) -> dict:
    names = ("embb", "voice", "messaging")
    return {"cell": cell, "ran_name": "gnb_a", "cell_kpis": {"RRU.PrbAvailDl": avail},
            "slices": {s: {"DNT.OfferedLoadDl": o, "DRB.UEThpDl": v, "RRU.PrbUsedDl": p}
                       for s, o, v, p in zip(names, offered, served, prb, strict=True)}}


def test_the_features_are_the_envs_in_the_envs_order() -> None:
    from dnt.rl.env import NODE_FEATURES, EnvConfig

    assert FEATURES == NODE_FEATURES
    cfg = EnvConfig()
    assert (TWIN_NOISE_MIN, TWIN_NOISE_MAX) == (cfg.twin_noise_min, cfg.twin_noise_max)
    assert DEFAULT_KBPS_PER_PRB == pytest.approx(cfg.radio.mbps_per_prb * 1000)


def test_features_from_a_record_a_forecast_and_the_cells_memory() -> None:
    # Prepare: 100 PRBs of 928.8 kbit/s; the report is of Wednesday 2013-11-06 11:50 Milan time (10:50 UTC)
    t = 1383735000000
    obs = [observation({**record(5161), "time_ms": t}, {"values": [60_000, 90_000], "start_ms": 0}),
           observation({**record(5162), "time_ms": t})]
    memory = {5161: CellMemory((0.5, 0.3, 0.2), sync_share=0.4, h_mode=1.0, twin_sigma=0.3)}
    # Execute
    x = node_features(obs, memory)
    # Assert
    cap = 100 * DEFAULT_KBPS_PER_PRB
    col = {n: i for i, n in enumerate(FEATURES)}
    assert x.shape == (2, len(FEATURES)) and x.dtype == np.float32
    assert x[0, col["demand_embb"]] == pytest.approx(50_000 / cap) and x[0, col["demand_voice"]] == pytest.approx(
        1_000 / cap)
    assert x[0, col["forecast_embb"]] == pytest.approx(60_000 / cap)
    assert x[0, col["forecast_voice"]] == x[0, col["demand_voice"]]  # no twin forecast of voice: persistence
    assert x[1, col["forecast_embb"]] == x[1, col["demand_embb"]]
    assert x[0, col["served_frac_embb"]] == pytest.approx(0.8) and x[0, col["served_frac_voice"]] == 1.0
    assert x[0, col["share_embb"]] == pytest.approx(0.5) and x[1, col["share_embb"]] == pytest.approx(1 / 3)
    assert (x[0, col["sync_share"]], x[0, col["h_mode"]]) == (pytest.approx(0.4), 1.0)
    assert x[0, col["twin_error"]] == pytest.approx(0.5) and x[1, col["twin_error"]] == pytest.approx(0.05 / 0.6)
    ang = 2 * np.pi * 12.0 / 24  # the step decided: 12:00
    assert x[0, col["tod_sin"]] == pytest.approx(np.sin(ang), abs=1e-6)
    assert x[0, col["tod_cos"]] == pytest.approx(np.cos(ang), abs=1e-6)
    assert x[0, col["weekend"]] == 0.0 and x[0, col["outage"]] == 0.0


def test_an_empty_or_idle_record_gives_finite_features_and_an_outage() -> None:
    x = node_features([observation({"cell": 7, "slices": {}, "cell_kpis": {}}),
                       observation(record(8, offered=(0, 0, 0), served=(0, 0, 0), prb=(0, 0, 0)))])
    assert np.isfinite(x).all() and x[0, FEATURES.index("served_frac_embb")] == 1.0
    assert x[0, FEATURES.index("outage")] == 1.0 and x[1, FEATURES.index("outage")] == 0.0


def test_the_twin_error_follows_the_forecast_misses_within_the_envs_bounds() -> None:
    o = observation(record(1, offered=(10_000, 0, 0)), {"values": [10_000]})
    m = update_memory(CellMemory(), o, (0.5, 0.3, 0.2), 1, 0.7)
    assert m.last_forecast_kbps == 10_000 and m.twin_sigma == TWIN_NOISE_MIN and m.shares == (0.5, 0.3, 0.2)
    miss = observation(record(1, offered=(30_000, 0, 0)))  # the load came in 3x the forecast
    m2 = update_memory(m, miss, (0.5, 0.3, 0.2))
    assert m2.twin_sigma == pytest.approx(0.8 * 0.05 + 0.2 * np.log(30_001 / 10_001) * np.sqrt(np.pi / 2))
    assert m2.last_forecast_kbps is None and CellMemory.from_json(m2.to_json()) == m2


def test_the_heuristic_is_the_benchs_proportional_to_forecast_baseline() -> None:
    from dnt.rl.baselines import ProportionalToForecast

    obs = [observation(record(5161), {"values": [60_000]}), observation(record(5162, offered=(0, 0, 0)))]
    x = node_features(obs)
    expected = ProportionalToForecast().shares({"nodes": x})
    assert np.allclose(proportional_shares(np.stack([predicted_kbps(o) for o in obs])), expected, atol=1e-6)


def test_forecasts_are_read_from_sdl_for_the_asked_cells_only() -> None:
    store = MemoryStore()
    store.set_json("htwin", "forecast:5161", {"cell_id": 5161, "values": [1.0]})
    store.set_json("htwin", "forecast:9", {"cell_id": 9, "values": [2.0]})
    store.set("htwin", "forecast:10", b"not json")
    assert read_forecasts(store, [5161, 10, 11]) == {5161: {"cell_id": 5161, "values": [1.0]}}


def test_the_cell_graph_links_grid_neighbours_and_is_gcn_normalised() -> None:
    # Prepare: 1 and 2 are east-west neighbours, 101 is north of 1 (diagonal to 2), 5000 is far away
    cells = [1, 2, 101, 5000]
    # Execute
    a, norm = grid_adjacency(cells), adjacency(cells)
    # Assert
    assert a.tolist() == [[0, 1, 1, 0], [1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0]]
    assert norm[0, 1] == pytest.approx(1 / 3) and norm[3, 3] == pytest.approx(1.0)
    assert np.allclose(norm, norm.T)


def test_quotas_respect_the_floors_and_the_budget_for_any_shares() -> None:
    floors = [10, 10, 2]
    for shares in ([1, 0, 0], [0, 0, 1], [0.2, 0.5, 0.3], [0, 0, 0], [np.nan, 1, 1]):
        r = quota_ratios(shares, floors, 0.9)
        mins = [m for m, _, _ in r]
        assert all(m >= f for m, f in zip(mins, floors, strict=True)) and sum(mins) == 90
        assert all(mx == 100 and ded == 0 for _, mx, ded in r)
    assert quota_ratios([1, 0, 0], floors, 0.9) == ((78, 100, 0), (10, 100, 0), (2, 100, 0))
    assert quota_ratios([0.5, 0.5, 0], [0, 0, 0], 1.0, 20) == ((50, 70, 0), (50, 70, 0), (0, 20, 0))
    assert quota_ratios([1, 0, 0], floors, 0.9, prb_mode="dedicated") == ((0, 78, 78), (0, 10, 10), (0, 2, 2))
    # already safe targets are left alone; the sync's PRBs come off the budget
    assert quota_ratios([0.3, 0.3, 0.4], floors, 1.0) == ((30, 100, 0), (30, 100, 0), (40, 100, 0))
    assert quota_ratios([0.3, 0.3, 0.4], floors, 1.0, user=user_fraction(1, 0.5)) == (  # 98 % for the users
        (30, 100, 0), (29, 100, 0), (39, 100, 0))


def test_the_sync_model_is_the_envs() -> None:
    from dnt.rl.env import EnvConfig

    cfg = EnvConfig()
    assert (MAX_SYNC_SHARE, H_COST_FACTOR, V_COST_FACTOR) == (cfg.max_sync_share, cfg.h_cost_factor,
                                                              cfg.v_cost_factor)
    assert user_fraction(1, 1.0) == pytest.approx(0.96) and user_fraction(0, 1.0) == pytest.approx(0.9)


def test_proportional_shares_and_hysteresis() -> None:
    s = proportional_shares(np.array([[3.0, 1.0, 0.0], [0.0, 0.0, 0.0]]))
    assert s.tolist() == [[0.75, 0.25, 0.0], [1 / 3, 1 / 3, 1 / 3]]
    old = ((50, 100, 0), (10, 100, 0), (2, 100, 0))
    assert not changed(old, ((51, 100, 0), (10, 100, 0), (2, 100, 0)), 2)
    assert changed(old, ((52, 100, 0), (10, 100, 0), (2, 100, 0)), 2) and changed(None, old, 2)


def test_a_control_request_names_the_cell_and_carries_every_slice_quota() -> None:
    # Execute
    data = control_request(PlmnId("001", "01"), 5161, ((60, 100, 0), (20, 90, 0), (5, 100, 0)), requestor_id=1101,
                           instance_id=7, ran_function_id=3)
    # Assert
    msg = e2ap.decode(data)
    assert isinstance(msg, RICcontrolRequest) and msg.ack_request == "ack" and msg.ran_function_id == 3
    assert (msg.request_id.requestor_id, msg.request_id.instance_id) == (1101, 7)
    header = rc.decode_control_header(msg.header)
    assert header.ue_id == rc.UeIdGnbDu(5161) and (header.style_type, header.action_id) == (2, 6)
    quotas = rc.parse_slice_prb_quota(msg.message)
    assert [(q.sst, q.min_prb_ratio, q.max_prb_ratio) for q in quotas] == [(1, 60, 100), (2, 20, 90), (3, 5, 100)]


def test_live_features_match_the_envs_observation_at_an_episodes_start() -> None:
    # Prepare: an env observation; the same cells observed live (loads in kbit/s, the report of step t-1)
    from dnt.data.synth import SynthConfig, generate
    from dnt.rl.env import EnvConfig, SliceEnv, normalized_adjacency

    traffic = generate(SynthConfig(n_cells=4, days=3, seed=2))
    env = SliceEnv(EnvConfig(n_cells=4, days=3, test_days=1), traffic)
    obs, info = env.reset(seed=3)
    env_x = obs["nodes"]
    cap_kbps = env.capacity_mbps * 1000
    n_prb = env.cfg.radio.n_prb
    live = [observation({"cell": int(c), "time_ms": int(traffic.times_ms[info["t"] - 1]),
                         "cell_kpis": {"RRU.PrbAvailDl": n_prb},
                         "slices": {s: {"DNT.OfferedLoadDl": float(env_x[i, k]) * cap_kbps,
                                        "DRB.UEThpDl": float(env_x[i, k]) * cap_kbps}
                                    for k, s in enumerate(("embb", "voice", "messaging"))}},
                        {"values": [float(env_x[i, 3]) * cap_kbps]})
            for i, c in enumerate(traffic.cell_ids)]
    # Execute
    x = node_features(live)
    # Assert: every column but the voice/messaging forecasts (the H-twin forecasts eMBB only: persistence here)
    same = [i for i, n in enumerate(FEATURES) if n not in ("forecast_voice", "forecast_messaging")]
    assert np.allclose(x[:, same], env_x[:, same], atol=1e-5)
    assert np.allclose(adjacency([int(c) for c in traffic.cell_ids]), normalized_adjacency(env.adjacency), atol=1e-6)


def test_quota_invariants_on_random_decisions(rng: np.random.Generator) -> None:
    for _ in range(300):
        load = float(rng.uniform(0.3, 1.0))
        budget = int(100 * load + 1e-9)
        floors = rng.multinomial(int(rng.integers(0, budget + 1)), [1 / 3] * 3)
        shares = rng.dirichlet([0.5, 0.5, 0.5]) * rng.choice([0.0, 1.0, 7.0])
        user = user_fraction(int(rng.integers(0, 2)), float(rng.uniform(0, 1)))
        for mode in ("min", "dedicated"):
            r = np.asarray(quota_ratios(shares, floors, load, int(rng.integers(0, 101)), mode, user))
            guaranteed = np.maximum(r[:, 0], r[:, 2])
            assert (guaranteed >= floors).all() and guaranteed.sum() <= max(budget, floors.sum())
            assert (r[:, 0] <= r[:, 1]).all() and (r[:, 2] <= r[:, 1]).all() and (r >= 0).all() and (r <= 100).all()
