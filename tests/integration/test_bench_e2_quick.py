"""``bench/e2.py --quick`` runs end to end (simulator + sink process) and writes the result contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def test_e2_bench_quick(tmp_path: Path) -> None:
    # Execute
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "e2.py"), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600, cwd=REPO, check=False)
    # Assert
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((tmp_path / "e2.json").read_text())
    targets = {t["name"]: t for t in doc["targets"]}
    assert set(targets) == {"cell_reports_per_s_end_to_end", "grid_reports_sustained", "end_to_end_lossless",
                            "fast_path_bytes_equal_generic"}
    for t in doc["targets"]:
        assert set(t) == {"name", "value", "goal", "met"} and isinstance(t["met"], bool)
    assert targets["end_to_end_lossless"]["met"] and targets["fast_path_bytes_equal_generic"]["met"]
    assert targets["cell_reports_per_s_end_to_end"]["value"] > 0
    m = doc["metrics"]
    assert m["codec"]["encode_fast_per_core_per_s"] > 0 and m["codec"]["decode_generic_per_core_per_s"] > 0
    assert m["end_to_end_generic"]["cell_reports_per_s"] > 0 and m["end_to_end_grid"]["cell_reports_per_s"] > 0
    assert doc["config"]["quick"] is True
