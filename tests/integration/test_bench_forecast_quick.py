"""``bench/forecast.py --quick`` runs end to end and writes the result contract (needs ../shared/data)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared/data/milan/internet_3cells_10min_62days.csv.gz"


@pytest.mark.shared
@pytest.mark.skipif(not DATA.exists(), reason=f"shared Milan data absent ({DATA})")
def test_forecast_bench_quick(tmp_path: Path) -> None:
    # Execute
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "forecast.py"), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, cwd=REPO, check=False)
    # Assert
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads((tmp_path / "forecast.json").read_text())
    names = [t["name"] for t in doc["targets"]]
    for cell in (4159, 4556, 5161):
        assert f"lstm_beats_persistence_{cell}" in names
        assert f"lstm_beats_seasonal_day_{cell}" in names
    for t in doc["targets"]:
        assert set(t) == {"name", "value", "goal", "met"}
        assert isinstance(t["met"], bool) and t["goal"] == "< 1"
        assert t["value"] > 0
    assert doc["config"]["quick"] is True
    assert (tmp_path / "forecast.png").stat().st_size > 0
    assert {"ten_min", "hourly"} <= set(doc["metrics"])
