"""The deployables' main() helpers (dnt.ric.app): config from the CLI, the run loop, the exit code."""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from dnt.errors import ConfigError
from dnt.ric.app import main_guard, parse_config, run_xapp
from dnt.ric.memory import MemoryRuntime


@dataclass(frozen=True)
class _Config:
    period_ms: int = 1000
    name: str = "app"


def test_parse_config_reads_the_default_file_then_the_overrides(tmp_path: Path) -> None:
    # Prepare
    path = tmp_path / "config.yaml"
    path.write_text("period_ms: 500\nname: x\n")

    # Execute
    cfg = parse_config(["--set", "name=y"], "app", "app: does things.\n\nMore.", path, _Config)

    # Assert
    assert cfg == _Config(period_ms=500, name="y")


def test_parse_config_takes_another_file(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("period_ms: 20\n")

    cfg = parse_config(["--config", str(other)], "app", None, tmp_path / "missing.yaml", _Config)

    assert cfg.period_ms == 20


def test_parse_config_exits_2_on_an_unknown_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse_config(["--nope"], "app", "doc", tmp_path / "config.yaml", _Config)
    assert exc.value.code == 2
    assert capsys.readouterr().err.startswith("usage: app ")


def test_run_xapp_starts_work_then_logs_the_metrics_at_stop(rt: MemoryRuntime,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    # Prepare
    seen: list[str] = []
    stopped_seen: list[threading.Event] = []
    done = threading.Event()

    def work(stopped: threading.Event) -> None:
        seen.append(threading.current_thread().name)
        stopped_seen.append(stopped)
        done.set()

    rt.count("app/things", 3)

    # Execute
    with caplog.at_level(logging.INFO, logger="app"):
        code = run_xapp(rt, "app-1", work, lambda: seen.append("start"), log=logging.getLogger("app"),
                        thread_name="app-nodes", signals=())

    # Assert
    assert code == 0 and rt.stopped
    assert done.wait(5)
    assert seen == ["start", "app-nodes"] and stopped_seen[0].is_set()
    assert "app-1 stopped: {" in caplog.text and "'app/things': 3" in caplog.text


def test_run_xapp_names_the_work_thread_after_the_app(rt: MemoryRuntime) -> None:
    names: list[str] = []
    done = threading.Event()

    def work(stopped: threading.Event) -> None:
        names.append(threading.current_thread().name)
        done.set()

    run_xapp(rt, "app", work, signals=())

    assert done.wait(5) and names == ["app-work"]


def test_a_stop_signal_sets_the_event_and_stops_the_runtime(rt: MemoryRuntime) -> None:
    # Prepare: a work loop that raises the signal once running, and waits for the stop event
    released = threading.Event()

    def start() -> None:
        signal.raise_signal(signal.SIGUSR1)

    def work(stopped: threading.Event) -> None:
        if stopped.wait(5):
            released.set()

    previous = signal.getsignal(signal.SIGUSR1)
    try:
        # Execute
        run_xapp(rt, "app", work, start, signals=[signal.SIGUSR1])
    finally:
        signal.signal(signal.SIGUSR1, previous)

    # Assert
    assert released.wait(5)
    for _ in range(100):  # rt.stop() runs in its own thread
        if rt.stopped:
            break
        threading.Event().wait(0.01)
    assert rt.stopped


def test_main_guard_exits_with_main_s_status() -> None:
    with pytest.raises(SystemExit) as exc:
        main_guard("app", lambda: 0)
    assert exc.value.code == 0


def test_main_guard_turns_a_dnt_error_into_one_line_and_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    def main() -> int:
        raise ConfigError("bad setting")

    with pytest.raises(SystemExit) as exc:
        main_guard("app", main)

    assert exc.value.code == 2
    assert capsys.readouterr().err == "app: error: bad setting\n"
