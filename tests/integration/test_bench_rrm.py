"""``bench/rrm.py --quick`` runs end to end and writes the result contract (real part needs ../shared/data)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared/data/milan/internet_3cells_10min_62days.csv.gz"
METHODS = {"ppo", "static_equal", "proportional_load", "proportional_forecast", "oracle"}
TARGETS = {"ppo_beats_best_heuristic", "sla_floor_violations", "rrm_decision_p99_ms", "ppo_steps_per_s_ratio_vs_sb3"}


def test_rrm_bench_quick(tmp_path: Path) -> None:
    # Execute
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "rrm.py"), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, cwd=REPO, check=False)
    # Assert
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((tmp_path / "rrm.json").read_text())
    names = {t["name"] for t in doc["targets"]}
    assert TARGETS <= names
    for t in doc["targets"]:
        assert set(t) == {"name", "value", "goal", "met"} and isinstance(t["met"], bool)
    assert doc["config"]["quick"] is True
    assert (tmp_path / "rrm.png").stat().st_size > 0
    scenarios = ["synthetic"]
    if DATA.exists():
        scenarios.append("real")
        assert "ppo_beats_best_heuristic_real" in names
    else:
        assert "absent" in doc["metrics"]["real_skipped"]
    for sc in scenarios:
        m = doc["metrics"][sc]
        assert set(m["methods"]) == METHODS
        for row in m["methods"].values():
            assert 0.0 < row["utility"]["mean"] <= 1.0 and len(row["utility"]["per_seed"]) == 2
            lo, hi = row["utility"]["ci95"]
            assert lo <= row["utility"]["mean"] <= hi
        assert m["best_heuristic"] in {"static_equal", "proportional_load", "proportional_forecast"}
    d = doc["metrics"]["decision"]
    assert d["cells"] == 25 and d["decisions"] >= 1000 and d["p99_ms"] > 0
    th = doc["metrics"]["throughput"]
    assert min(th["ours_steps_per_s"]) > 0 and min(th["sb3_steps_per_s"]) > 0
