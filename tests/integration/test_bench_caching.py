"""``bench/caching.py --quick`` runs end to end and writes the result contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SYSTEMS = {"rl", "rl_dnt", "reliable_rl", "reliable_rl_dnt", "initial_rule", "blend_rule", "lru", "lfu", "belady"}
TARGETS = {"reliable_rl_dnt_best_rl_hit_rate", "reliable_rl_dnt_fewer_interventions", "reliable_rl_dnt_beats_lru_lfu",
           "load_imbalance_vs_lru", "rl_dnt_gain_at_1_physical_iters", "reliable_rl_dnt_gain_at_1_physical_iters",
           "twin_decision_fidelity"}


def test_caching_bench_quick(tmp_path: Path) -> None:
    # Execute
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "caching.py"), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, cwd=REPO, check=False)
    # Assert
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads((tmp_path / "caching.json").read_text())
    assert {t["name"] for t in doc["targets"]} == TARGETS
    for t in doc["targets"]:
        assert set(t) == {"name", "value", "goal", "met"} and isinstance(t["met"], bool)
    assert doc["config"]["quick"] is True
    systems = doc["metrics"]["systems"]
    assert set(systems) == SYSTEMS
    for s in systems.values():
        assert 0.0 <= s["hit_rate"]["mean"] <= 1.0 and len(s["hit_rate"]["per_seed"]) == 2
        assert len(s["load_per_bs"]["mean"]) == 5
    assert {"naive", "ar", "ar_unconstrained", "lstm"} <= set(doc["metrics"]["twin"])
    # decision fidelity: the probe rules on the physical env and on each generator, with rank statistics
    fid = doc["metrics"]["twin"]["decision_fidelity"]
    n_rules = len(fid["rules"])
    assert n_rules >= 3 and len(fid["physical_hit_rate"]) == n_rules
    for gen in ("twin", "twin_no_events", "counts_feedback"):
        assert len(fid[gen]["hit_rate"]) == n_rules and -1.0 <= fid[gen]["spearman"] <= 1.0
        assert 0 <= fid[gen]["best_rule_rank_on_twin"] < n_rules
    # sample efficiency: every system at each physical budget (0 = after pre-training only, 1, the final 2)
    eff = doc["metrics"]["sample_efficiency"]
    assert eff["budgets"] == [0, 1, 2]
    assert set(eff["hit_rate"]) == SYSTEMS & {"rl", "rl_dnt", "reliable_rl", "reliable_rl_dnt"}
    assert len(eff["dnt_gain"]["rl_dnt"]["1"]["per_seed"]) == 2
    assert eff["hit_rate"]["rl"]["2"]["mean"] == systems["rl"]["hit_rate"]["mean"]
    # the reliable systems under the main and the strict CMDP budget
    budgets = doc["metrics"]["cost_budget"]
    assert {v["cost_limit"] for v in budgets["reliable_rl"].values()} == {0.1, 0.05}
    # the twin's pre-training phase ran for the DNT systems only
    per_seed = doc["metrics"]["per_seed"][0]["train"]
    assert len(per_seed["rl_dnt"]["pretrain_hit_rate"]) == 1 and len(per_seed["rl"]["pretrain_hit_rate"]) == 0
    assert (tmp_path / "caching_hit_rate.png").stat().st_size > 0
    assert (tmp_path / "caching_load.png").stat().st_size > 0
    assert (tmp_path / "caching_sample_efficiency.png").stat().st_size > 0
    assert (tmp_path / "caching_twin_fidelity.png").stat().st_size > 0
