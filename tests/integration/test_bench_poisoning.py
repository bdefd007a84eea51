"""``bench/poisoning.py --quick`` runs end to end and writes the Table II contract (real part needs ../shared)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared/data/milan/internet_3cells_10min_62days.csv.gz"
ROWS = {"Mean", "Median", "TrimmedMean", "Krum", "FLTrust", "TID", "TID (paper)"}
COLUMNS = {"none", "mpaf", "tpi"}
TARGETS = {"tid_mpaf_ratio_vtwin", "tid_tpi_ratio_vtwin", "tid_mpaf_ratio_htwin", "tid_tpi_ratio_htwin",
           "mean_breaks_mpaf", "mean_breaks_tpi"}


def test_poisoning_bench_quick(tmp_path: Path) -> None:
    # Execute
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "poisoning.py"), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, cwd=REPO, check=False)
    # Assert
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads((tmp_path / "poisoning.json").read_text())
    assert doc["config"]["quick"] is True
    names = {t["name"] for t in doc["targets"]}
    assert TARGETS <= names
    for t in doc["targets"]:
        assert set(t) == {"name", "value", "goal", "met"} and isinstance(t["met"], bool)
    metrics = doc["metrics"]
    assert set(metrics["rows"]) == ROWS and set(metrics["columns"]) == COLUMNS
    scenarios = ["synthetic"] + (["real"] if DATA.exists() else [])
    if not DATA.exists():
        assert "absent" in metrics["real_skipped"]
    for sc in scenarios:
        for phase in ("vtwin", "htwin"):
            table = metrics[sc][phase]
            assert set(table) == ROWS
            for cells in table.values():
                assert set(cells) == COLUMNS
                for c in cells.values():
                    assert 0 < c["mae_capped"] <= 100 and 0 < c["mse_capped"] <= 100
    syn = metrics["synthetic"]
    # MPAF really breaks the plain mean (lambda = 1e6 fakes), while the clean twin is usable
    mean = syn["vtwin"]["Mean"]
    assert mean["none"]["mae_capped"] < 2.0
    assert mean["mpaf"]["mae_capped"] > 10 * mean["none"]["mae_capped"]
    assert set(syn["sweep"]) == {"Mean", "Median", "TID"}
    assert len(syn["sweep"]["Mean"]["mpaf"]) == 2
    md = (tmp_path / "poisoning.md").read_text()
    assert "≥100" in md and "TID (paper)" in md
    assert (tmp_path / "poisoning_sweep.png").stat().st_size > 0
