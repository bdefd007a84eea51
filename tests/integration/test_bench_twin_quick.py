"""``bench/twin.py --quick`` runs end to end and writes the result contract (real part needs ../shared/data)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared/data/milan/internet_3cells_10min_62days.csv.gz"
METHODS = {"traditional", "vtwin", "htwin", "vtwin_noclust", "htwin_noclust"}


def test_twin_bench_quick(tmp_path: Path) -> None:
    # Execute
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "twin.py"), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, cwd=REPO, check=False)
    # Assert
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads((tmp_path / "twin.json").read_text())
    names = {t["name"] for t in doc["targets"]}
    assert {"htwin_error_ratio_vs_centralized", "htwin_cost_reduction_vs_traditional"} <= names
    for t in doc["targets"]:
        assert set(t) == {"name", "value", "goal", "met"} and isinstance(t["met"], bool)
    assert doc["config"]["quick"] is True
    assert (tmp_path / "twin.png").stat().st_size > 0
    scenarios = ["synthetic"] + (["real"] if DATA.exists() else [])
    if DATA.exists():
        assert {"htwin_beats_static_vtwin", "htwin_error_ratio_vs_centralized_real"} <= names
    else:
        assert "absent" in doc["metrics"]["real_skipped"]
    for sc in scenarios:
        methods = doc["metrics"][sc]["methods"]
        assert set(methods) == METHODS
        for m in methods.values():
            assert m["test"]["mse"] > 0 and m["cost"]["total"]["cost_s"] > 0
        # the traditional DT uploads raw data and trains centrally; FL methods send models and train on clients
        trad, ht = methods["traditional"]["cost"]["total"], methods["htwin"]["cost"]["total"]
        assert trad["client_s"] == 0 and trad["server_s"] > 0 and ht["client_s"] > 0
        assert methods["htwin"]["updates"] > 0
        assert doc["metrics"][sc]["sensitivity"]
