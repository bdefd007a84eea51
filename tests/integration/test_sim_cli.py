"""``python -m sim``: a self-contained run against the in-process test receiver, and a clear config error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dnt.e2.transport import sctp_available

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, timeout=120,
                          cwd=REPO, check=False)


def test_cli_runs_against_the_test_receiver_and_prints_final_counters():
    proc = run("--with-receiver", "--gnbs", "1", "--duration-sim-s", "1800", "--receiver-period-ms", "100",
               "--quiet")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "final counters" in proc.stdout and "indications sent" in proc.stdout
    assert "sequence gaps" in proc.stdout


@pytest.mark.skipif(sctp_available(), reason="the kernel has SCTP: the default transport works here")
def test_cli_explains_a_missing_sctp_kernel():
    proc = run("--quiet", "--duration-sim-s", "60")
    assert proc.returncode == 2
    assert "cannot open SCTP sockets" in proc.stderr and "ric.transport=tcp" in proc.stderr


def test_cli_rejects_unknown_config_keys():
    proc = run("--quiet", "--set", "replay.sped=60")
    assert proc.returncode == 2 and "replay.sped" in proc.stderr
