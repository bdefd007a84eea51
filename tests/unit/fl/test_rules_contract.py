"""Contract tests for every aggregation rule, plus each rule's hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from fl_helpers import upd

from dnt.errors import AggregationError
from dnt.fl.rules import RULES, TID, AggregationRule, FLTrust, Krum, Mean, Median, MultiKrum, TrimmedMean
from dnt.fl.types import AggContext, Update

# every rule in every configuration; the robust rules of the security issue join through RULES
CONFIGURED: list[AggregationRule] = [
    Mean(), Mean(weighted=False), Median(),
    TrimmedMean(), TrimmedMean(beta=0.3),
    Krum(), Krum(num_malicious=3), MultiKrum(), MultiKrum(num_malicious=2, num_selected=3),
    FLTrust(), FLTrust(staleness_exponent=0.5),
    TID(), TID(statistic="percentile"), TID(statistic="zscore"), TID(statistic="std", k=2.0), TID.paper(),
]


def _all_rules() -> list[AggregationRule]:
    named = {type(r) for r in CONFIGURED}
    return CONFIGURED + [cls() for cls in RULES.values() if cls not in named]


def _ctx(rule: AggregationRule, updates: list[Update], **kw: object) -> AggContext:
    """Context for ``rule``: a rule that needs the server's update (FLTrust) gets the finite updates' mean."""
    if getattr(rule, "needs_reference", False) and updates and len({u.delta.shape for u in updates}) == 1:
        mat = np.stack([u.delta for u in updates]).astype(np.float64)
        fin = np.isfinite(mat).all(axis=1)
        if fin.any():
            kw["reference"] = mat[fin].mean(axis=0)
    return AggContext(**kw)  # type: ignore[arg-type]


def _random_updates(n: int = 7, d: int = 50, seed: int = 0) -> list[Update]:
    rng = np.random.default_rng(seed)
    return [Update(f"c{i}", rng.normal(size=d), int(rng.integers(1, 100)), 0) for i in range(n)]


@pytest.fixture(params=_all_rules(), ids=repr)
def rule(request: pytest.FixtureRequest) -> AggregationRule:
    return request.param  # type: ignore[no-any-return]


def test_permutation_invariance(rule: AggregationRule):
    ups = _random_updates()
    perm = np.random.default_rng(1).permutation(len(ups))
    a = rule.aggregate(ups, _ctx(rule, ups, seed=3))
    b = rule.aggregate([ups[i] for i in perm], _ctx(rule, ups, seed=3))
    assert np.allclose(a.delta, b.delta, rtol=1e-6, atol=1e-7)
    assert np.allclose(a.weights[perm], b.weights)


def test_output_shape_matches_input(rule: AggregationRule):
    ups = _random_updates(d=33)
    out = rule.aggregate(ups, _ctx(rule, ups))
    assert out.delta.shape == (33,) and out.delta.dtype == np.float32
    assert out.weights.shape == (7,) and np.isclose(out.weights.sum(), 1.0)


def test_identical_updates_give_that_update(rule: AggregationRule):
    x = np.random.default_rng(2).normal(size=20).astype(np.float32)
    ups = [Update(f"c{i}", x, i + 1, 0) for i in range(5)]
    out = rule.aggregate(ups, _ctx(rule, ups))
    assert np.allclose(out.delta, x, rtol=1e-6, atol=1e-7)
    assert out.rejected == ()


def test_same_seed_same_result(rule: AggregationRule):
    ups = _random_updates(seed=4)
    a, b = rule.aggregate(ups, _ctx(rule, ups, seed=9)), rule.aggregate(ups, _ctx(rule, ups, seed=9))
    assert np.array_equal(a.delta, b.delta) and a.rejected == b.rejected


def test_single_update_passes_through(rule: AggregationRule):
    ups = [upd("a", [1.0, -2.0], n=5)]
    out = rule.aggregate(ups, _ctx(rule, ups))
    assert np.allclose(out.delta, [1.0, -2.0])


def test_non_finite_update_is_rejected_not_propagated(rule: AggregationRule):
    ups = _random_updates(n=5) + [Update("bad", np.full(50, np.nan), 10, 0)]
    out = rule.aggregate(ups, _ctx(rule, ups))
    assert np.isfinite(out.delta).all()
    assert out.rejected == (5,) and out.weights[5] == 0.0
    assert out.rejected_ids(ups) == ["bad"]


def test_errors(rule: AggregationRule):
    for ups in ([], [upd("a", [1.0]), upd("b", [1.0, 2.0])], [upd("a", [np.inf])]):
        with pytest.raises(AggregationError):
            rule.aggregate(ups, _ctx(rule, ups))


def test_summary_names_the_rule(rule: AggregationRule):
    assert rule.summary()["rule"] == rule.name and rule.name in RULES


# -- hand-computed cases ---------------------------------------------------------------------

def test_mean_is_sample_weighted():
    out = Mean().aggregate([upd("a", [0.0, 4.0], n=1), upd("b", [3.0, 1.0], n=2)], AggContext())
    assert np.allclose(out.delta, [2.0, 2.0]) and np.allclose(out.weights, [1 / 3, 2 / 3])


def test_unweighted_mean_is_fedda_plain_mean():
    out = Mean(weighted=False).aggregate([upd("a", [0.0], n=1), upd("b", [3.0], n=100)], AggContext())
    assert np.allclose(out.delta, [1.5])


def test_mean_with_zero_samples_falls_back_to_equal_weights():
    out = Mean().aggregate([upd("a", [0.0], n=0), upd("b", [2.0], n=0)], AggContext())
    assert np.allclose(out.delta, [1.0])


def test_median_ignores_one_outlier():
    ups = [upd("a", [1.0, 0.0]), upd("b", [2.0, 1.0]), upd("c", [1e6, -1e6])]
    assert Median().aggregate(ups, AggContext()).delta.tolist() == [2.0, 0.0]
