"""``bench/caching.py --quick`` runs end to end and writes the result contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SYSTEMS = {"rl", "rl_dnt", "reliable_rl", "reliable_rl_dnt", "initial_rule", "blend_rule", "lru", "lfu", "belady"}
TARGETS = {"reliable_rl_dnt_best_rl_hit_rate", "reliable_rl_dnt_fewer_interventions", "reliable_rl_dnt_beats_lru_lfu",
           "load_imbalance_vs_lru"}


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
    assert {"naive", "ar", "lstm"} <= set(doc["metrics"]["twin"])
    assert (tmp_path / "caching_hit_rate.png").stat().st_size > 0
    assert (tmp_path / "caching_load.png").stat().st_size > 0
