"""Decision fidelity: rank statistics by hand; the twin ranks fixed caching rules as the physical env does."""

from __future__ import annotations

import numpy as np
import pytest

from dnt.caching.env import CacheConfig
from dnt.caching.fidelity import PROBE_RULES, decision_fidelity, probe_rules, rule_hit_rate
from dnt.caching.twin import ARTwin, TwinDemand, TwinGenConfig, physical_log
from dnt.errors import ConfigError


def test_decision_fidelity_by_hand() -> None:
    # Execute
    same = decision_fidelity([0.1, 0.3, 0.2, 0.4], [0.2, 0.5, 0.3, 0.6])
    flipped = decision_fidelity([0.1, 0.3, 0.2, 0.4], [0.6, 0.3, 0.5, 0.2])
    # Assert: same order → ρ = 1 and the best rule is first; reversed → ρ = −1, best rule last, and
    # a policy converging to the twin's best would get the physically worst hit rate
    assert same["spearman"] == pytest.approx(1.0) and same["best_rule_rank_on_twin"] == 0
    assert flipped["spearman"] == pytest.approx(-1.0) and flipped["best_rule_rank_on_twin"] == 3
    assert flipped["physical_hit_rate_of_twin_best"] == pytest.approx(0.1)
    with pytest.raises(ConfigError):
        decision_fidelity([0.1, 0.2], [0.1, 0.2])


def test_probe_rules_are_seeded_and_in_the_box() -> None:
    # Execute
    a, b = probe_rules(4, seed=1), probe_rules(4, seed=1)
    # Assert
    assert a == b and len(a) == len(PROBE_RULES) + 4
    assert np.all(np.abs(np.asarray(a)) <= 1.0)


def test_twin_ranks_rules_like_the_physical_env(small_cfg: CacheConfig) -> None:
    # Prepare: a twin fitted on a log of the physical demand, generator without injected events
    log = physical_log(small_cfg, 120, 11)
    twin = ARTwin()
    twin.fit(log.counts)
    gen = TwinGenConfig(p_shift=0.0, p_flash=0.0, p_surge=0.0)
    seeds = [501, 502]
    # Execute
    phys = [rule_hit_rate(small_cfg, r, seeds) for r in PROBE_RULES]
    sim = [rule_hit_rate(small_cfg, r, seeds, lambda: TwinDemand(twin, log, gen)) for r in PROBE_RULES]
    fid = decision_fidelity(phys, sim)
    # Assert: the twin orders the rules much as the physical env does, and its best rule is nearly the best
    assert fid["spearman"] > 0.6, (phys, sim)
    assert fid["physical_hit_rate_of_twin_best"] > fid["best_physical_hit_rate"] - 0.02
