"""Child processes, HTTP calls and bounded waits shared by the demo and the integration tests.

:class:`Proc` runs one deployable (an xApp or rApp script) with its output kept for failure messages;
:func:`wait_until` polls a condition until a deadline; :func:`rest` makes one JSON HTTP call;
:func:`forecast_error` scores SDL forecast snapshots against the observed series (twin vs persistence);
:func:`temporary_env` sets environment variables (e.g. the DBAAS address) for the duration of a block.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["REPO", "STEP_MS", "Proc", "forecast_error", "rest", "temporary_env", "wait_until"]

REPO = Path(__file__).resolve().parents[1]
STEP_MS = 600_000


class Proc:
    """A deployable as a child process (``script --set k=v ...``), its output kept for failure messages."""

    def __init__(self, script: str, env: dict[str, str], *settings: str) -> None:
        self.name = f"{script} {' '.join(settings)}"
        self.lines: list[str] = []
        self.proc = subprocess.Popen([sys.executable, script, *[a for s in settings for a in ("--set", s)]],
                                     cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()

    def kill(self) -> int:
        """kill -9 (a crash, not a shutdown) and reap the process."""
        self.proc.kill()
        return self.proc.wait(15)

    def tail(self) -> str:
        return f"--- {self.name} (rc {self.proc.poll()})\n" + "".join(self.lines[-15:])


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; raise AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(delay)  # polling a condition with back-off, bounded by the deadline
        delay = min(delay * 2, 0.1)


def rest(method: str, url: str, body: Any = None, raw: bytes | None = None) -> tuple[int, Any]:
    """One HTTP call: (status, decoded JSON body or None)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read()
            return resp.status, json.loads(text) if text else None
    except urllib.error.HTTPError as err:
        text = err.read()
        return err.code, json.loads(text) if text else None


def forecast_error(snapshots: dict[tuple[int, int], list[float]], actual: dict[int, dict[int, float]]
                   ) -> tuple[float, float, int]:
    """(twin MAE, persistence MAE, pairs) over every recorded forecast whose targets were observed.

    ``snapshots`` maps (cell, start_ms) to the forecast values (one per 10-min step from ``start_ms``);
    ``actual`` maps cell → step index → observed value. NaN MAEs when no pair is scorable.
    """
    twin, pers = [], []
    for (cell, start_ms), values in snapshots.items():
        series = actual.get(cell, {})
        s0 = start_ms // STEP_MS
        if s0 - 1 not in series:
            continue
        for j, v in enumerate(values):
            if s0 + j in series:
                twin.append(abs(v - series[s0 + j]))
                pers.append(abs(series[s0 - 1] - series[s0 + j]))
    if not twin:
        return float("nan"), float("nan"), 0
    return float(np.mean(twin)), float(np.mean(pers)), len(twin)


@contextlib.contextmanager
def temporary_env(values: Mapping[str, str]) -> Iterator[None]:
    """Set ``values`` in ``os.environ`` for the block; restore (or remove) each variable afterwards."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
