"""The benchmark scripts run end to end in ``--quick`` mode, so they cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_loader_bench_quick(tmp_path: Path) -> None:
    # Execute
    cmd = [sys.executable, str(REPO / "bench" / "loader.py"), "--quick", "--out", str(tmp_path)]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    # Assert
    assert done.returncode == 0, done.stderr
    doc = json.loads((tmp_path / "loader.json").read_text())
    targets = {t["name"]: t for t in doc["targets"]}
    assert {"raw_rows_per_s", "peak_rss_mb", "parse_matches_input"} <= set(targets)
    assert all({"name", "value", "goal", "met"} <= set(t) for t in doc["targets"])
    assert targets["parse_matches_input"]["met"] is True
    assert doc["metrics"]["rows"] > 0 and doc["config"]["n_cells"] == 500
