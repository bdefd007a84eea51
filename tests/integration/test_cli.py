"""The ``dnt`` command line end to end: synth → inspect → train, the demo at small scale, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from dnt.cli import main
from dnt.data.frame import Traffic
from dnt.data.io import load_traffic
from dnt.demo import DemoConfig, run_demo
from dnt.twin.bundle import load_bundle
from dnt.twin.train import TrainConfig


def test_synth_to_every_format_and_inspect(tmp_path, capsys):
    npz, csv, raw_dir = tmp_path / "s.npz", tmp_path / "s.csv.gz", tmp_path / "raw"
    for out in (npz, csv, raw_dir):
        assert main(["-q", "data", "synth", "--cells", "9", "--days", "2", "--seed", "4", "--out", str(out)]) == 0
    ref = Traffic.load(npz)
    assert ref.values.shape == (9, 288, 5)
    assert len(list(raw_dir.glob("sms-call-internet-mi-2013-11-0*.txt"))) == 2
    for path in (csv, raw_dir):
        got = load_traffic(path, cache_dir=tmp_path / "cache")
        np.testing.assert_array_equal(got.cell_ids, ref.cell_ids)
        assert got.start_ms == ref.start_ms
        np.testing.assert_allclose(got.values, ref.values, rtol=1e-5, atol=1e-4)
    capsys.readouterr()
    assert main(["-q", "data", "inspect", str(npz), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["cells"] == 9 and info["steps"] == 288 and info["start_utc"] == "2013-10-31T23:00:00Z"
    assert abs(sum(c["share"] for c in info["channels"].values()) - 1) < 1e-9


def test_inspect_real_multichannel(milan_dir, capsys):
    assert main(["-q", "data", "inspect", str(milan_dir / "multichannel_cells_1_10_100_10min.csv"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["cells"] == 3 and info["cell_id_range"] == [1, 100]
    assert info["channels"]["internet"]["share"] > 0.5  # internet dominates the activity index


def test_garbled_raw_file_is_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "sms-call-internet-mi-2013-11-01.txt"
    bad.write_text("1\t1383260400000\t39\t0.1\t\t\t\t11.0\n1\t1383260400000\t33\tabc\t\t\t\t0.5\n")
    assert main(["-q", "data", "inspect", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("dnt: error:") and f"{bad}:2" in err[0]


def test_missing_path_says_what_to_pass(tmp_path, capsys):
    assert main(["-q", "data", "inspect", str(tmp_path / "nope.csv")]) == 2
    assert "pass a raw daily file" in capsys.readouterr().err


def test_twin_train_writes_metrics_plot_and_verified_bundle(tmp_path):
    out = tmp_path / "run"
    code = main(["-q", "twin", "train", "--data", "synthetic", "--cells", "3", "--days", "18", "--epochs", "2",
                 "--hidden", "8", "--out", str(out)])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["overall"]) == {"lstm", "persistence", "seasonal_day", "seasonal_week"}
    assert len(metrics["overall"]["lstm"]["step_mse"]) == 6
    assert (out / "forecast.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bundle = load_bundle(out / "twin.bundle")
    assert bundle.digest == metrics["model"]["sha256"]


def test_demo_small_scale_leaves_a_report(tmp_path):
    base = DemoConfig()
    cfg = replace(base, n_cells=36, days=18, n_clusters=2, cells_per_twin=2, out_dir=str(tmp_path / "demo"),
                  twin=replace(base.twin, train=TrainConfig(epochs=1, batch_size=256, patience=1)),
                  twin_loop=replace(base.twin_loop, loop_s=25.0, refresh_s=1.0, sample_cells=2,
                                    rrm_train_timesteps=1024, rrm_period_s=1.0))
    out = run_demo(cfg, show_progress=False)
    report = json.loads((out / "report.json").read_text())
    loop = report["twin_loop"]
    assert loop["final_version"] > loop["initial_version"] >= 1, loop["timeline"][-1]
    assert loop["forecasts_recorded"] > 0 and loop["accepted"] > 0 and loop["pairs"] > 0
    assert set(loop["exit_codes"].values()) == {0}, loop["exit_codes"]
    assert loop["bytes"]["live"]["update_bytes_in"] > 0 and "note" in loop["bytes"]
    assert json.loads((out / "twin_loop.json").read_text())["final_version"] == loop["final_version"]
    for png in ("twin_forecasts.png", "twin_error.png", "twin_bytes.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sum(report["clusters"]["sizes"]) == 36
    assert set(report["twins"]) == {"0", "1"}
    for k in (0, 1):
        assert (out / f"forecast_cluster{k}.png").stat().st_size > 1000
        assert report["twins"][str(k)]["overall"]["lstm"]["mse"] > 0
    assert (out / "clusters.png").exists()
    rrm = loop["rrm"]  # the rrm xApp decided (heuristic, then the PPO policy vtwin trained) and sent quotas
    assert rrm["metrics"].get("rrm/controls/acked", 0) > 0, rrm["metrics"]
    reports = sum(v["reports"] for v in rrm["by_controller"].values())
    assert reports > 0 and (out / "rrm_served.png").exists()


def test_console_script_entry_point():
    proc = subprocess.run([sys.executable, "-m", "dnt.cli", "--help"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "twin" in proc.stdout and "demo" in proc.stdout


@pytest.mark.parametrize("argv", [["data", "synth", "--cells", "0", "--out", "x.npz"]])
def test_bad_config_is_a_clear_error(argv, capsys, tmp_path):
    argv = [a if a != "x.npz" else str(tmp_path / "x.npz") for a in argv]
    assert main(["-q", *argv]) == 2
    assert "n_cells" in capsys.readouterr().err
