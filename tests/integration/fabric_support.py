"""Shared pieces of the fabric tests: a real Redis, the fabric as a real process, REST calls, bounded waits.

The fixtures (``fabric_redis``, ``fabric_env``, ``fabric_store``, ``fabric``) reach the tests through
``tests/integration/conftest.py``. Everything binds
127.0.0.1 and ephemeral ports; waits poll a condition until a deadline (no fixed sleeps).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis as redis_client

from dnt.procs import Proc, rest, wait_until  # noqa: F401 - re-exported to the tests
from dnt.ric.local_runtime import LocalConfig, LocalRuntime
from dnt.ric.redis_server import RedisServer, free_port
from dnt.ric.sdl import SdlStore
from sim.config import load_config
from sim.runner import SimRunner

REPO = Path(__file__).resolve().parents[2]


class FabricProcess:
    """``python -m sim.fabric`` as a child process on given (or free) ports."""

    def __init__(self, env: dict[str, str], ports: dict[str, int] | None = None, extra: tuple[str, ...] = ()) -> None:
        self.env, self.extra = env, extra
        self.ports = ports or {"e2": 0, "xapp": 0, "http": 0}
        self.proc: subprocess.Popen[str] | None = None
        self.endpoints: dict[str, Any] = {}
        self.output: list[str] = []

    def start(self) -> FabricProcess:
        cmd = [sys.executable, "-m", "sim.fabric", "--e2-port", str(self.ports["e2"]), "--xapp-port",
               str(self.ports["xapp"]), "--http-port", str(self.ports["http"]), "--log-level", "INFO", *self.extra]
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        ready = threading.Event()

        def pump() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                self.output.append(line)
                if line.startswith("FABRIC_READY "):
                    self.endpoints = json.loads(line.split(" ", 1)[1])
                    ready.set()
            ready.set()

        threading.Thread(target=pump, daemon=True).start()
        assert ready.wait(30) and self.endpoints, "fabric did not start:\n" + "".join(self.output[-30:])
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.endpoints['http_port']}"

    def metrics(self) -> dict[str, int]:
        return rest("GET", self.url + "/ric/v1/metrics")[1]

    def subscriptions(self) -> list[dict[str, Any]]:
        return rest("GET", self.url + "/ric/v1/subscriptions")[1]

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(15)
        self.proc = None
        return rc


@pytest.fixture(scope="module")
def fabric_redis() -> Iterator[RedisServer]:
    """A real redis-server for the module's tests."""
    server = RedisServer().start()
    yield server
    server.close()


@pytest.fixture
def fabric_env(fabric_redis: RedisServer) -> dict[str, str]:
    """Child-process environment pointing at the test Redis (and nothing else of the host's RIC settings)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DBAAS_", "DNT_", "CONFIG_FILE", "RMR_"))}
    return {**base, **fabric_redis.env(), "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def fabric_store(fabric_redis: RedisServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[SdlStore]:
    """An SDL store on the test Redis, flushed first (tests of one module share the server)."""
    for key, value in fabric_redis.env().items():
        monkeypatch.setenv(key, value)  # ricsdl reads its configuration from the environment
    redis_client.Redis(host=fabric_redis.host, port=fabric_redis.port).flushall()
    sdl = SdlStore()
    yield sdl
    sdl.close()


@pytest.fixture
def fabric(fabric_env: dict[str, str], fabric_store: SdlStore) -> Iterator[FabricProcess]:
    """``python -m sim.fabric`` on free ports, with an empty Redis."""
    proc = FabricProcess(fabric_env).start()
    yield proc
    proc.stop()


def fixed_ports() -> dict[str, int]:
    """Free ports for a fabric that must come back on the same ones (restart tests)."""
    return {"e2": free_port(), "xapp": free_port(), "http": free_port()}


def start_sim(e2_port: int, *settings: str) -> SimRunner:
    """The E2 node simulator in this process (framed TCP to the fabric); its nodes can be inspected."""
    cfg = load_config(None, ["ric.transport=tcp", "ric.host=127.0.0.1", f"ric.port={e2_port}",
                             "backoff.initial_s=0.05", "backoff.max_s=0.5", *settings])
    return SimRunner(cfg).start()


def attach(fabric: FabricProcess, name: str, **kwargs: Any) -> LocalRuntime:
    """A LocalRuntime xApp in this process (not yet dispatching: register handlers, then ``start()``)."""
    return LocalRuntime(LocalConfig(xapp_name=name, fabric_port=fabric.endpoints["xapp_port"], **kwargs))


@contextmanager
def apps_running(procs: list[Proc], *cleanup: Callable[[], object]) -> Iterator[list[Proc]]:
    """Run a test's app processes: on the way out stop every one of them, then call ``cleanup`` in order; an
    assertion error leaves with the apps' log tails appended (what a failed live run needs to be read)."""
    try:
        yield procs
    except AssertionError as err:
        raise AssertionError(f"{err}\n" + "\n".join(p.tail() for p in procs)) from err
    finally:
        for p in procs:
            p.stop()
        for fn in cleanup:
            fn()
