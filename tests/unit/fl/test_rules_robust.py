"""Behaviour of the robust rules under attack: far outliers, MPAF-like copies, TPI-like in-range Sybils.

Synthetic rounds: 8 benign updates ``mu + N(0, 1)`` in D = 200 plus attackers. The error of a rule is the
distance of its delta from the benign updates' mean; a robust rule must beat :class:`Mean` by a clear
factor. The contract every rule meets is in ``test_rules_contract.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from fl_helpers import upd

from dnt.errors import AggregationError, ConfigError
from dnt.fl.asyn import AsyncConfig, FedBuff
from dnt.fl.rules import RULES, TID, FLTrust, Krum, Mean, Median, MultiKrum, TrimmedMean, ops
from dnt.fl.rules.tid import coordinate_bounds
from dnt.fl.types import AggContext, Update

D, BENIGN = 200, 8


def _round(attack: str, seed: int = 0, attackers: int = 3) -> tuple[list[Update], np.ndarray, np.ndarray]:
    """(updates, benign mean, server reference ~ true mean + noise); attackers are the last rows.

    ``far``: 2 updates 100 away. ``mpaf``: identical copies of ``50 * s`` (``s`` a random sign vector).
    ``tpi``: each coordinate at benign mean + 1.5 benign std along ``s``, jitter 0.1: inside the benign
    range coordinate by coordinate (within the IQR fences and |z| < 3) but all pushing one way.
    """
    rng = np.random.default_rng(seed)
    mu = rng.normal(0.0, 1.0, D)
    benign = mu + rng.normal(0.0, 1.0, (BENIGN, D))
    s = np.sign(rng.normal(size=D))
    if attack == "far":
        bad = mu + 100.0 + rng.normal(0.0, 1.0, (2, D))
    elif attack == "mpaf":
        bad = np.tile(50.0 * s, (attackers, 1))
    else:
        bad = benign.mean(0) + 1.5 * benign.std(0) * s + 0.1 * rng.normal(size=(attackers, D))
    ups = [Update(f"c{i}", row, 10, 0) for i, row in enumerate(np.vstack([benign, bad]))]
    return ups, benign.mean(0), mu + 0.3 * rng.normal(size=D)


def _err(rule: object, ups: list[Update], target: np.ndarray, ref: np.ndarray) -> float:
    out = rule.aggregate(ups, AggContext(reference=ref))  # type: ignore[attr-defined]
    return float(np.linalg.norm(out.delta - target))


ROBUST_FAR = [Median(), TrimmedMean(beta=0.2), Krum(num_malicious=2), MultiKrum(num_malicious=2), FLTrust(),
              TID(), TID.paper(), TID(statistic="zscore"), TID(statistic="percentile")]


@pytest.mark.parametrize("rule", ROBUST_FAR, ids=repr)
def test_far_attackers_are_resisted(rule):
    ups, target, ref = _round("far")
    assert _err(rule, ups, target, ref) * 10 < _err(Mean(), ups, target, ref)


@pytest.mark.parametrize("rule", [Median(), MultiKrum(num_malicious=3), FLTrust(), TID(), TID(statistic="zscore"),
                                  TID(statistic="percentile"), TID(collinear_cos=None), TID(norm_clip=None)], ids=repr)
def test_mpaf_copies_are_resisted(rule):
    ups, target, ref = _round("mpaf")
    assert _err(rule, ups, target, ref) * 10 < _err(Mean(), ups, target, ref)


def test_mpaf_copies_break_paper_tid_and_trimmed_mean_but_not_ours():
    # 3 of 11 identical copies drag Q3 / the 90th percentile out to themselves (Cao & Gong's point on trimmed mean)
    ups, target, ref = _round("mpaf")
    mean = _err(Mean(), ups, target, ref)
    for weak in (TID.paper(), TID.paper(statistic="percentile"), TrimmedMean(beta=0.2)):
        assert _err(weak, ups, target, ref) > 0.5 * mean
    out = TID().aggregate(ups, AggContext())
    assert out.rejected == (8, 9, 10) and np.all(out.weights[8:] == 0.0)
    assert _err(TID(), ups, target, ref) * 50 < mean


@pytest.mark.parametrize("attackers", [2, 3, 5])
@pytest.mark.parametrize("statistic", ["iqr", "zscore", "percentile"])
def test_tpi_in_range_sybils_fool_paper_tid_not_ours(statistic, attackers):
    errs = {name: [] for name in ("mean", "paper", "ours")}
    for seed in range(3):
        ups, target, ref = _round("tpi", seed, attackers)
        errs["mean"].append(_err(Mean(), ups, target, ref))
        errs["paper"].append(_err(TID.paper(statistic), ups, target, ref))
        errs["ours"].append(_err(TID(statistic), ups, target, ref))
    mean, paper, ours = (float(np.mean(v)) for v in errs.values())
    assert paper > 0.9 * mean  # trimming alone does not see in-range attackers
    assert ours < 0.75 * paper and ours < 0.8 * mean
    if attackers >= 3:
        assert ours < 0.55 * paper and ours < 0.6 * mean


def test_tpi_sybils_count_as_one_client():
    ups, _, _ = _round("tpi", attackers=4)
    w = TID().aggregate(ups, AggContext()).weights
    assert np.allclose(w[BENIGN:], w[:BENIGN].mean() / 4, rtol=0.1)
    paper = TID.paper().aggregate(ups, AggContext()).weights
    assert np.allclose(paper, 1 / len(ups), rtol=0.1)  # the paper's TID trusts them like anyone else


def test_tid_sybil_check_ignores_scale_so_stale_or_rescaled_copies_still_group():
    ups, _, _ = _round("tpi", attackers=3)
    scaled = [Update(u.client_id, u.delta * f, 10, 0) for u, f in zip(ups, [1.0] * BENIGN + [1.0, 0.2, 3.0],
                                                                        strict=True)]
    w = TID(norm_clip=None).aggregate(scaled, AggContext()).weights
    assert np.all(w[BENIGN:] < 0.5 * w[:BENIGN].min())
    labels = TID()._groups(np.stack([u.delta for u in scaled]).astype(np.float64))
    assert labels.tolist() == list(range(BENIGN)) + [BENIGN] * 3  # one group of 3 whatever the scale


def test_tid_does_not_group_diverse_benign_updates_even_with_a_shared_direction():
    rng = np.random.default_rng(5)
    mat = (rng.normal(0, 3, D) + rng.normal(0, 1, (10, D))) * rng.uniform(0.2, 1.0, (10, 1))
    ups = [Update(f"c{i}", r, 1, 0) for i, r in enumerate(mat)]
    assert np.allclose(TID().aggregate(ups, AggContext()).weights,
                       TID(collinear_cos=None).aggregate(ups, AggContext()).weights)


# -- Krum / Multi-Krum ---------------------------------------------------------------------------

def test_krum_selects_one_benign_update():
    ups, _, _ = _round("far")
    out = Krum(num_malicious=2).aggregate(ups, AggContext())
    chosen = np.flatnonzero(out.weights)
    assert chosen.size == 1 and chosen[0] < BENIGN and out.weights[chosen[0]] == 1.0
    assert np.array_equal(out.delta, ups[chosen[0]].delta) and out.rejected == ()


def test_multikrum_averages_the_benign_updates():
    ups, target, _ = _round("mpaf")
    out = MultiKrum(num_malicious=3).aggregate(ups, AggContext())
    assert np.all(out.weights[BENIGN:] == 0) and np.allclose(out.weights[:BENIGN], 1 / BENIGN)
    assert np.allclose(out.delta, target, atol=1e-5)
    assert np.count_nonzero(MultiKrum(num_malicious=3, num_selected=2).aggregate(ups, AggContext()).weights) == 2


def test_krum_hand_computed():
    # f=0, n=3: one neighbour each; scores: a 1, b 1, c 81 -> a and b tie and are averaged
    out = Krum(num_malicious=0).aggregate([upd("a", [0.0]), upd("b", [1.0]), upd("c", [10.0])], AggContext())
    assert np.allclose(out.delta, [0.5]) and np.allclose(out.weights, [0.5, 0.5, 0.0])


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_krum_small_buffers_fall_back_without_crashing(n):
    ups = [upd(f"c{i}", [float(i), 1.0]) for i in range(n)]
    out = Krum(num_malicious=3).aggregate(ups, AggContext())
    assert out.delta.shape == (2,) and np.isclose(out.weights.sum(), 1.0)
    if n <= 2:  # nothing to compare: the mean
        assert np.allclose(out.delta, np.mean([u.delta for u in ups], axis=0))


# -- FLTrust -------------------------------------------------------------------------------------

def test_fltrust_zero_weight_for_an_update_opposite_to_the_reference():
    ref = np.array([1.0, 1.0, 0.0])
    ups = [upd("good", [2.0, 1.0, 0.0]), upd("also", [0.5, 1.0, 0.5]), upd("flip", [-3.0, -3.0, 0.0])]
    out = FLTrust().aggregate(ups, AggContext(reference=ref))
    assert out.weights[2] == 0.0 and out.weights[:2].sum() == pytest.approx(1.0)
    # each trusted update is rescaled to |g0| before the trust-weighted mean
    ts = np.array([3 / np.sqrt(10), 1.5 / np.sqrt(3)])
    g = np.array([[2.0, 1.0, 0.0], [0.5, 1.0, 0.5]])
    g = g / np.linalg.norm(g, axis=1, keepdims=True) * np.sqrt(2)
    assert np.allclose(out.delta, ts @ g / ts.sum(), atol=1e-6)


def test_fltrust_all_distrusted_gives_zero_delta():
    out = FLTrust().aggregate([upd("a", [-1.0, 0.0]), upd("b", [0.0, -2.0])], AggContext(reference=np.ones(2)))
    assert np.array_equal(out.delta, [0.0, 0.0]) and np.all(out.weights == 0.0)


def test_fltrust_needs_a_matching_reference():
    ups = [upd("a", [1.0, 2.0])]
    with pytest.raises(AggregationError, match="AggContext\\(reference="):
        FLTrust().aggregate(ups, AggContext())
    with pytest.raises(AggregationError, match="same model"):
        FLTrust().aggregate(ups, AggContext(reference=np.ones(3)))
    with pytest.raises(AggregationError, match="NaN"):
        FLTrust().aggregate(ups, AggContext(reference=np.array([np.nan, 1.0])))


def test_fltrust_staleness_exponent_discounts_trust():
    ups = [upd("a", [1.0, 0.0], staleness=0), upd("b", [0.0, 1.0], staleness=8)]
    ref = np.array([1.0, 1.0])
    assert np.allclose(FLTrust().aggregate(ups, AggContext(reference=ref)).weights, [0.5, 0.5])
    assert np.allclose(FLTrust(staleness_exponent=0.5).aggregate(ups, AggContext(reference=ref)).weights,
                       [0.75, 0.25])


def test_fedbuff_with_fltrust_and_no_reference_keeps_the_model():
    srv = FedBuff(np.zeros(2, dtype=np.float32), FLTrust(), AsyncConfig(buffer_size=2))
    srv.submit(upd("a", [1.0, 0.0]))
    res = srv.submit(upd("b", [0.0, 1.0]))
    assert res.reason == "failed" and srv.version == 0 and srv.stats.failed_aggregations == 1


# -- TID -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("rule", [TID(), TID.paper(), TID(statistic="zscore"), TID(statistic="std", k=2.0)],
                         ids=repr)
def test_tid_weights_a_fully_trimmed_client_about_zero(rule):
    ups, _, _ = _round("far")
    w = rule.aggregate(ups, AggContext()).weights
    assert np.all(w[BENIGN:] < 1e-3) and np.allclose(w[:BENIGN], 1 / BENIGN, rtol=0.2)


def test_tid_staleness_discount_lowers_a_stale_update_weight():
    rng = np.random.default_rng(3)
    mat = rng.normal(size=(6, 40))
    fresh = [Update(f"c{i}", r, 1, 5) for i, r in enumerate(mat)]
    stale = fresh[:5] + [Update("c5", mat[5], 1, 5, staleness=8)]
    w0 = TID().aggregate(fresh, AggContext(version=5)).weights
    w1 = TID().aggregate(stale, AggContext(version=5)).weights
    ratio = (w1[5] / w1[:5].sum()) / (w0[5] / w0[:5].sum())
    assert ratio == pytest.approx(1 / 3)  # (1 + 8) ** -0.5
    w2 = TID(staleness_exponent=0.0).aggregate(stale, AggContext(version=5)).weights
    assert np.allclose(w2, w0)
    # the context's staleness (FedBuff's) takes precedence, as in ops.staleness
    w3 = TID().aggregate(fresh, AggContext(version=5, staleness=(0, 0, 0, 0, 0, 8))).weights
    assert np.allclose(w3, w1)


def test_tid_kept_values_only_enter_the_mean():
    ups = [upd("a", [1.0, 0.0]), upd("b", [2.0, 0.0]), upd("c", [3.0, 0.0]), upd("d", [100.0, 0.0])]
    out = TID.paper(statistic="iqr").aggregate(ups, AggContext())
    # d's first coordinate is trimmed, its second kept: weight 1/2 of the others', coordinate 0 = mean(1, 2, 3)
    assert np.allclose(out.delta, [2.0, 0.0]) and np.allclose(out.weights, [2, 2, 2, 1] / np.float64(7))


def test_tid_rejects_huge_norms_outright():
    ups = [upd(f"c{i}", [1.0 + 0.1 * i, -1.0]) for i in range(5)] + [upd("big", [40.0, 40.0])]
    out = TID().aggregate(ups, AggContext())
    assert out.rejected == (5,) and out.weights[5] == 0.0 and out.rejected_ids(ups) == ["big"]
    assert TID(norm_clip=None).aggregate(ups, AggContext()).rejected == ()


def test_coordinate_bounds_hand_computed():
    mat = np.array([[1.0], [2.0], [3.0], [4.0], [5.0]])
    assert [b.item() for b in coordinate_bounds(mat, "iqr", 1.5)] == [-1.0, 7.0]
    assert [b.item() for b in coordinate_bounds(mat, "percentile", 25.0)] == [2.0, 4.0]
    lo, hi = coordinate_bounds(mat, "zscore", 1.0)  # median 3, MAD 1
    assert np.allclose([lo.item(), hi.item()], [3 - 1.4826, 3 + 1.4826])
    lo, hi = coordinate_bounds(np.array([[0.0], [0.0], [0.0], [4.0]]), "zscore", 1.0)  # MAD 0: mean abs dev 1
    assert np.allclose([lo.item(), hi.item()], [-1.2533, 1.2533])


# -- trimmed mean --------------------------------------------------------------------------------

def test_trimmed_mean_hand_computed():
    ups = [upd("a", [1.0, 10.0]), upd("b", [2.0, 20.0]), upd("c", [3.0, 30.0]), upd("d", [100.0, -5.0])]
    out = TrimmedMean(beta=0.25).aggregate(ups, AggContext())
    assert np.allclose(out.delta, [2.5, 15.0])
    # kept fractions: a 1/2, b 1, c 1/2, d 0
    assert np.allclose(out.weights, [0.25, 0.5, 0.25, 0.0])
    assert np.allclose(TrimmedMean(beta=0.0).aggregate(ups, AggContext()).delta, [26.5, 13.75])


# -- settings ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("make", "match"), [
    (lambda: TrimmedMean(beta=0.5), "beta"),
    (lambda: TrimmedMean(beta=-0.1), "beta"),
    (lambda: TrimmedMean(beta="x"), "beta"),
    (lambda: Krum(num_malicious=-1), "num_malicious"),
    (lambda: MultiKrum(num_selected=0), "num_selected"),
    (lambda: MultiKrum(num_malicious=1.5), "num_malicious"),
    (lambda: FLTrust(staleness_exponent=-1), "staleness_exponent"),
    (lambda: TID(statistic="mad"), "statistic"),
    (lambda: TID(k=-1.0), "k"),
    (lambda: TID(statistic="percentile", k=50), "percentile"),
    (lambda: TID(statistic="zscore", k=0), "> 0"),
    (lambda: TID(norm_clip=0.5), "norm_clip"),
    (lambda: TID(collinear_cos=1.5), "collinear_cos"),
    (lambda: TID(collinear_cos=0), "collinear_cos"),
    (lambda: TID(staleness_exponent=float("nan")), "staleness_exponent"),
])
def test_bad_settings_raise_config_errors_naming_the_setting(make, match):
    with pytest.raises(ConfigError, match=match):
        make()


def test_registry_names_and_default_construction():
    assert set(RULES) == {"mean", "median", "trimmed_mean", "krum", "multikrum", "fltrust", "tid"}
    for name, cls in RULES.items():
        assert cls().name == name


def test_summary_round_trips_into_the_constructor():
    for rule in (TrimmedMean(0.2), Krum(2), MultiKrum(2, 3), FLTrust(0.5), TID("zscore", 2.5, None, 0.8, 0.0)):
        params = {k: v for k, v in rule.summary().items() if k != "rule"}
        assert type(rule)(**params).summary() == rule.summary()


def test_agg_context_reference_is_optional_and_not_compared():
    assert AggContext().reference is None
    assert AggContext(reference=np.ones(3)) == AggContext(reference=np.zeros(3))


# -- shared math ---------------------------------------------------------------------------------

def test_ops_geometry_hand_computed():
    mat = np.array([[0.0, 0.0], [3.0, 4.0], [3.0, 0.0]])
    assert np.allclose(ops.pairwise_sq_distances(mat), [[0, 25, 9], [25, 0, 16], [9, 16, 0]])
    assert np.allclose(ops.row_norms(mat), [0, 5, 3])
    cos = ops.cosine_matrix(mat)
    assert np.allclose(cos[1:, 1:], [[1.0, 0.6], [0.6, 1.0]]) and np.all(cos[0] == 0)
    adj = np.zeros((5, 5), dtype=bool)
    adj[0, 3] = adj[3, 4] = True
    assert ops.components(adj).tolist() == [0, 1, 2, 0, 0]


def test_masked_weighted_mean_leaves_unkept_coordinates_at_zero():
    mat = np.array([[1.0, 5.0], [3.0, 7.0]])
    keep = np.array([[True, False], [True, False]])
    assert np.allclose(ops.masked_weighted_mean(mat, keep, np.array([1.0, 3.0])), [2.5, 0.0])


def test_tid_uses_the_servers_recent_norm_reference_when_half_the_buffer_is_one_attack() -> None:
    # two near-collinear honest updates and two copies of one large attack update: inside the buffer the
    # two halves look alike; the server's median norm over earlier buffers tells them apart
    rng = np.random.default_rng(3)
    base = rng.normal(0, 0.01, 500)
    honest = [Update(f"h{i}", (base + rng.normal(0, 0.0005, 500)).astype(np.float32), 10, 1) for i in range(2)]
    attack = (30 * rng.normal(0, 0.01, 500)).astype(np.float32)
    ups = honest + [Update("r1", attack, 10, 1), Update("r2", attack.copy(), 10, 1)]
    blind = TID().aggregate(ups, AggContext())
    assert blind.weights[2:].sum() > 0.3  # the in-buffer limit
    ref = float(np.linalg.norm(base))
    seen = TID().aggregate(ups, AggContext(config={"norm_ref": ref}))
    assert seen.weights[2:].sum() == 0 and set(seen.rejected) == {2, 3}
    assert np.linalg.norm(seen.delta - base) < 0.1 * np.linalg.norm(attack)


def test_fedbuff_passes_the_median_norm_of_recent_buffers_to_the_rule() -> None:
    from dnt.fl.asyn import AsyncConfig, FedBuff

    seen: list[dict] = []

    class Spy(TID):
        def aggregate(self, updates, ctx):  # type: ignore[no-untyped-def]
            seen.append(dict(ctx.config))
            return super().aggregate(updates, ctx)

    server = FedBuff(np.zeros(50, np.float32), Spy(), AsyncConfig(buffer_size=2, max_staleness=100))
    rng = np.random.default_rng(0)
    for k in range(10):
        server.submit(Update(f"c{k}", (0.1 * rng.normal(size=50)).astype(np.float32), 1, server.version))
    assert seen[0] == {} and seen[2] == {}  # no reference before three aggregations
    assert 0.3 < seen[-1]["norm_ref"] < 1.2  # |N(0, 0.01 I_50)| ~ 0.7
